"""The table of commands: name -> module under portplan.cli that defines `command`."""

from __future__ import annotations

COMMANDS: dict[str, str] = {
    "check": "check",
    "allocate": "allocate",
    "free": "free",
    "ls": "ls",
    "schema": "schema",
    "reconcile": "reconcile",
    "import": "import_",
    "generate": "generate",
    "ports": "ports",
    "who": "who",
    "kill": "kill",
    "status": "status",
    "serve": "serve",
    "lease": "lease",
    "release": "release",
    "push": "push",
    "pull": "pull",
    "up": "up",
    "down": "down",
    "ps": "ps",
    "logs": "logs",
    "restart": "restart",
    "env": "env",
}

# Commands that read their input, build and end: the cyclic collector is paused while they
# run (portplan.collector). Never a long-running one (serve, up, logs, status --watch).
BATCH: frozenset[str] = frozenset(
    {"check", "reconcile", "import", "generate", "ls", "schema", "allocate", "free", "ports", "who"}
)
