"""The live machine: who listens where, and how healthy and fast the declared ports are.

`sockets` reads the kernel's socket tables, `owners` maps sockets to processes, `probe`
runs health checks, `status` holds a topology against the machine and `kill` stops a
port's holder. Nothing here prints; the CLI formats the records.

Modules are imported by their users, not here, so `portplan ports` never pays for asyncio.
"""
