"""Python, read with `ast`: the port a program listens on and the variable it reads it from.

- `os.getenv("PORT", "8010")`, `os.environ.get("HTTP_PORT", 8010)`, `int(os.environ["PORT"])`
  of a variable that names the program's own port (`PORT`, `HTTP_PORT`, `APP_PORT`; not
  `DB_PORT`: see `base.is_own_port_variable`);
- the `port` of a server started in the code: `uvicorn.run(app, port=8010)`,
  `app.run(port=...)`, `web.run_app(app, port=...)`, `waitress.serve(app, port=...)`,
  `HTTPServer(("", 8000), ...)`, `server.add_insecure_port("[::]:50051")`, `app.listen(8888)`,
  whatever variable it comes from (`port=int(os.getenv("SVC_PORT", 8010))`, or a module
  constant `PORT = 8010`);
- a `--port` option's default (`argparse`'s `add_argument`, `click.option`);
- gunicorn's `bind = '0.0.0.0:8001'` (a config file's module-level setting).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Final

from portplan.model import Location
from portplan.sources.code.base import Listen, is_own_port_variable, port_number

SOURCE: Final = "python"
_RUNS: Final = frozenset({"run", "run_app", "serve", "run_simple", "listen"})
_ADDRESS_SERVERS: Final = frozenset(
    {"HTTPServer", "ThreadingHTTPServer", "TCPServer", "ThreadingTCPServer", "UDPServer",
     "WSGIServer", "make_server"}
)  # fmt: skip
_PORT_OPTIONS: Final = frozenset({"--port", "-p", "--http-port", "--listen-port"})
_WRAPPERS: Final = frozenset({"int", "str", "float"})


def read(path: str, text: str) -> list[Listen]:
    """The ports the Python module `text` (at `path`) listens on; [] when it does not parse."""
    try:
        tree = ast.parse(text, path)
    except (SyntaxError, ValueError, RecursionError):
        return []
    return list(_Module(path, text, tree).listens())


class _Module:
    def __init__(self, path: str, text: str, tree: ast.Module) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.tree = tree
        self.constants: dict[str, ast.expr] = {}
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name):
                    self.constants[target.id] = node.value
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                self.constants.update({node.target.id: node.value} if node.value else {})
        self.used: set[int] = set()  # the env reads already stated (by id of their node)

    def listens(self) -> Iterator[Listen]:
        calls: list[ast.Call] = []
        items: list[ast.Subscript] = []
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call):
                calls.append(node)
            elif isinstance(node, ast.Subscript):
                items.append(node)
        for call in calls:
            value = _started_port(call)
            if value is not None:
                yield from self._value(value)
        for call in calls:
            read = _env_read(call)
            if read is not None and id(call) not in self.used and is_own_port_variable(read[0]):
                self.used.add(id(call))
                yield Listen(_number(read[1]), self.at(call), SOURCE, read[0])
        for item in items:
            variable = _environ_item(item) if id(item) not in self.used else None
            if variable is not None and is_own_port_variable(variable):
                yield Listen(None, self.at(item), SOURCE, variable)
        yield from self._gunicorn()

    def _value(self, value: ast.expr, depth: int = 0) -> Iterator[Listen]:
        """What the expression given as a port says: a literal, an env read, a constant."""
        value = _unwrapped(value)
        if isinstance(value, ast.Constant) and isinstance(value.value, (int, str)):
            number = _number(value)
            if number is not None:
                yield Listen(number, self.at(value), SOURCE)
        elif isinstance(value, ast.Call) and (read := _env_read(value)) is not None:
            self.used.add(id(value))
            yield Listen(_number(read[1]), self.at(value), SOURCE, read[0])
        elif isinstance(value, ast.Subscript) and (variable := _environ_item(value)):
            self.used.add(id(value))
            yield Listen(None, self.at(value), SOURCE, variable)
        elif isinstance(value, ast.BoolOp) and isinstance(value.op, ast.Or):
            yield from self._either(value, depth)
        elif isinstance(value, ast.Name) and depth < 3 and value.id in self.constants:
            yield from self._value(self.constants[value.id], depth + 1)
        elif isinstance(value, ast.JoinedStr):  # f"0.0.0.0:{os.getenv('PORT', '8001')}"
            for part in value.values:
                if isinstance(part, ast.FormattedValue):
                    yield from self._value(part.value, depth + 1)

    def _either(self, value: ast.BoolOp, depth: int) -> Iterator[Listen]:
        """`os.getenv("PORT") or 8000`: the variable, with the literal as its default."""
        first, rest = _unwrapped(value.values[0]), value.values[-1]
        read = _env_read(first) if isinstance(first, ast.Call) else None
        default = _unwrapped(rest)
        if read is not None and isinstance(default, ast.Constant):
            self.used.add(id(first))
            yield Listen(_number(default), self.at(first), SOURCE, read[0])
        else:
            for item in value.values:
                yield from self._value(item, depth + 1)

    def _gunicorn(self) -> Iterator[Listen]:
        """A module-level `bind = 'host:port'` (or a list of them): gunicorn's setting."""
        for node in self.tree.body:
            if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
                continue
            target = node.targets[0]
            if not (isinstance(target, ast.Name) and target.id == "bind"):
                continue
            items = node.value.elts if isinstance(node.value, (ast.List, ast.Tuple)) else []
            for item in items or [node.value]:
                if isinstance(item, ast.Constant) and isinstance(item.value, str):
                    number = port_number(item.value)
                    if number is not None and ":" in item.value:
                        yield Listen(number, self.at(item), SOURCE)
                else:
                    yield from self._value(item)

    def at(self, node: ast.expr) -> Location:
        """The node's place, its column in characters (ast counts UTF-8 bytes)."""
        line = self.lines[node.lineno - 1] if node.lineno <= len(self.lines) else ""
        column = len(line.encode("utf-8")[: node.col_offset].decode("utf-8", "replace"))
        return Location(self.path, node.lineno, column + 1)


def _started_port(call: ast.Call) -> ast.expr | None:
    """The expression a server start or a `--port` option gives as its port, if any."""
    name = _name(call.func)
    for keyword in call.keywords:
        if keyword.arg == "port" and name in _RUNS:
            return keyword.value
        if keyword.arg == "default" and name in {"add_argument", "option"}:
            options = {a.value for a in call.args if isinstance(a, ast.Constant)}
            if options & _PORT_OPTIONS:
                return keyword.value
    if name in _ADDRESS_SERVERS and call.args and isinstance(call.args[0], ast.Tuple):
        address = call.args[0].elts
        return address[1] if len(address) == 2 else None
    if name == "add_insecure_port" or name == "add_secure_port":
        return call.args[0] if call.args else None
    if name == "listen" and call.args and not _backlog(call.args[0]):
        return call.args[0]
    return None


def _backlog(value: ast.expr) -> bool:
    """`sock.listen(128)`: a socket's backlog, not a port (a literal below 1025 or a
    power of two)."""
    if not (isinstance(value, ast.Constant) and isinstance(value.value, int)):
        return False
    number = value.value
    return number <= 1024 or number & (number - 1) == 0


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else None


def _env_read(call: ast.Call) -> tuple[str, ast.expr | None] | None:
    """(variable, default) of `os.getenv("V", d)`, `os.environ.get("V", d)`, `getenv("V")`."""
    func = call.func
    is_getenv = _name(func) == "getenv"
    is_get = (
        isinstance(func, ast.Attribute)
        and func.attr == "get"
        and _name(func.value) in {"environ", "env"}
    )
    if not (is_getenv or is_get) or not call.args:
        return None
    first = call.args[0]
    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
        return None
    default = call.args[1] if len(call.args) > 1 else None
    for keyword in call.keywords:
        if keyword.arg == "default":
            default = keyword.value
    return first.value, default


def _environ_item(node: ast.Subscript) -> str | None:
    """The variable of `os.environ["V"]`."""
    if _name(node.value) != "environ":
        return None
    key = node.slice
    return key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None


def _unwrapped(value: ast.expr) -> ast.expr:
    """`int(x)`, `str(x)` -> x."""
    while (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id in _WRAPPERS
        and len(value.args) == 1
    ):
        value = value.args[0]
    return value


def _number(value: ast.expr | None) -> int | None:
    if value is None:
        return None
    value = _unwrapped(value)
    if not isinstance(value, ast.Constant) or isinstance(value.value, bool):
        return None
    return port_number(str(value.value)) if isinstance(value.value, (int, str)) else None
