"""Ports in command lines: a `Procfile` process, a systemd `ExecStart=`, a run script.

`gunicorn -b 0.0.0.0:$PORT app:app`, `uvicorn main:app --port ${PORT:-8000}`,
`python manage.py runserver 0.0.0.0:8000`, `flask run --port 5000`,
`java -Dserver.port=8081 -jar app.jar`, `node server.js --port=3000`. A server run without a
port flag or a config file (`-c`, `--config`) listens on its own default: `flask run` on
5000 (FLASK_RUN_PORT), Django's `runserver` on 8000, `uvicorn` on 8000, `gunicorn` on 8000
(PORT when set).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from portplan.model import Location
from portplan.sources.code.base import Listen, port_number

_FLAG: Final = re.compile(
    r"(?:^|\s)(?P<flag>--port|--http-port|--listen-port|--server\.port|-Dserver\.port"
    r"|--bind|-b|--listen|--urls|runserver)(?:=|\s+)(?P<value>[^\s;&|]+)"
)
_EXPANSION: Final = re.compile(r"\$\{?(?P<var>[A-Za-z_]\w*)(?::?-(?P<default>\d{1,5}))?\}?")
_CONFIG: Final = re.compile(r"(?:^|\s)(?:-c|--config)(?:=|\s+)\S")
# A server run with no port flag (and no config file) listens on its own default
# (variable, port).
_DEFAULTS: Final = (
    (re.compile(r"\bflask\s+run\b"), "FLASK_RUN_PORT", 5000),
    (re.compile(r"\bmanage\.py\s+runserver\b"), None, 8000),
    (re.compile(r"\buvicorn\s"), None, 8000),
    (re.compile(r"\bgunicorn\s"), "PORT", 8000),
)


def command_ports(
    command: str, at: Location, source: str, *, shift: bool = True
) -> Iterator[Listen]:
    """The ports `command` (which starts at `at`) runs a server on; each at its word, or
    at `at` itself when not `shift` (the words were joined from a list)."""
    if not shift:
        yield from (
            Listen(listen.number, at, listen.source, listen.variable)
            for listen in command_ports(command, at, source)
        )
        return
    found = False
    for match in _FLAG.finditer(command):
        value = match.group("value").strip("\"'")
        if value.startswith("-"):
            continue  # `runserver --noreload`: no address
        listen = _value(value, _shift(at, match.start("value")), source)
        if listen is not None:
            found = True
            yield listen
    if found or _CONFIG.search(command):
        return  # a config file (`gunicorn -c config.py`) says the port, if anything
    for pattern, variable, number in _DEFAULTS:
        run = pattern.search(command)
        if run is not None:
            yield Listen(number, _shift(at, run.start()), source, variable)
            return


def _value(value: str, at: Location, source: str) -> Listen | None:
    """A flag's value: `8000`, `0.0.0.0:8000`, `$PORT`, `${PORT:-8000}`, `h:${PORT}`."""
    expansion = _EXPANSION.search(value)
    if expansion is not None:
        default = expansion.group("default")
        return Listen(int(default) if default else None, at, source, expansion.group("var"))
    number = port_number(value.rsplit(";", 1)[0])
    return Listen(number, at, source) if number is not None else None


def _shift(at: Location, offset: int) -> Location:
    return Location(at.file, at.line, at.column + offset) if at.line else at
