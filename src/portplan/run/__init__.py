"""Running the stack from the plan: `portplan up`, `down`, `ps`, `logs`, `restart`, `env`.

`spec` reads a service's `run:` section, `graph` orders services by their dependencies,
`env` builds each process's environment from the same values `generate env` writes,
`process` owns process groups (start, signal, stop, find), `state` keeps the per-project
state folder, `copies` gives parallel copies disjoint ports, `output` prefixes and logs
every line, and `supervisor` starts, gates, restarts and stops them all. Nothing here
prints to the terminal except through an `Output` the caller hands in.
"""
