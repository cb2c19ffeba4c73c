"""The shape of `portplan.yaml`, stated once.

The same specs validate a loaded file (stage 1: types, unknown keys with "did you mean",
bad values, each with a breadcrumb and a location) and produce the published JSON Schema
(`portplan schema`), so the two cannot drift apart.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from portplan.errors import InputError
from portplan.yamlio.load import Mark, YMap, YSeq, shape

Json = dict[str, Any]


class SchemaError(InputError):
    """A value of the wrong type or shape, at a breadcrumb path."""


class Ctx:
    """Where a value is: the file, its breadcrumb path and its mark.

    A child's path is made from its parent's only when a message needs it: most values are
    valid, and quoting every key of a large plan for a breadcrumb nobody reads was half of
    the validation's time (whether a key may be quoted asks the secret detector)."""

    __slots__ = ("_key", "_parent", "_path", "file", "mark", "plan")

    def __init__(self, file: str, path: str, mark: Mark | None, plan: bool = True) -> None:
        self.file = file
        self.mark = mark
        self.plan = plan  # False: no plan key at the top, not a plan at all: no key is quoted
        self._path: str | None = path
        self._parent: Ctx | None = None
        self._key: str | int = ""

    @property
    def path(self) -> str:
        """The breadcrumb: `services.api.ports.http`, `[a key ...]` for an unquotable key."""
        if self._path is None:
            parent, key = self._parent, self._key
            assert parent is not None
            self._path = (
                f"{parent.path}[{key}]" if isinstance(key, int) else _join(parent.path, key)
            )
        return self._path

    def at_top(self) -> bool:
        """Whether the breadcrumb is empty (the document itself), without making it: a
        child's is empty only under an empty one, by an empty key."""
        if self._path is not None or self._key == "":
            return not self.path
        return False

    def child(self, key: str | int, mark: Mark | None) -> Ctx:
        child = Ctx(self.file, "", mark or self.mark, self.plan)
        child._path, child._parent, child._key = None, self, key
        return child

    def key(self, key: str) -> str:
        """`key` quoted for a message, or described by its shape: a key of a file that is not
        a plan, or a key that may hold a secret (`root:$6$...` of /etc/shadow), is never
        quoted."""
        from portplan.secretscan.detect import quotable_key, unquoted_key

        return f"'{key}'" if self.plan and quotable_key(key) else unquoted_key(key)

    def fail(self, expected: str, value: object, got: str | None = None) -> SchemaError:
        """`expected ..., got <the value's shape>`: a value is never quoted (it may be secret)."""
        line = self.mark.line if self.mark else None
        column = self.mark.column if self.mark else None
        where = f"{self.path}: " if self.path else ""
        got = got or shape(value)
        return SchemaError(self.file, line, column, f"{where}expected {expected}, got {got}")

    def problem(self, text: str) -> SchemaError:
        """A message of its own (`a range from 9000 down to 8000: expected ...`)."""
        line = self.mark.line if self.mark else None
        column = self.mark.column if self.mark else None
        where = f"{self.path}: " if self.path else ""
        return SchemaError(self.file, line, column, f"{where}{text}")


class ValueProblem(ValueError):
    """A parser's refusal that says what is wrong better than `expected <the shape>`; its
    text names no value but port numbers and keywords (never a secret)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def _not_a_plan(ctx: Ctx) -> str:
    return "" if ctx.plan or ctx.path else " (none of a plan's keys is at the top of this file)"


def _join(path: str, key: str) -> str:
    # secretscan.detect compiles some 20 patterns: imported for a message only (a valid
    # plan makes none), not by every `status` and `ports` that reads a plan
    from portplan.secretscan.detect import quotable_key, unquoted_key

    if not quotable_key(key):
        key_text = f"[a key {unquoted_key(key)}]"
        return f"{path}{key_text}" if path else key_text
    if not path:
        return key
    return f"{path}.{key}" if re.fullmatch(r"[\w.-]+", key) else f"{path}[{key!r}]"


class Spec:
    """A node of the schema: it validates a value and describes itself as JSON Schema.

    `valid` answers for the common case, a valid value, without making a context or a
    message (a third of the validation's time was the contexts of valid values); only a
    value it refuses is walked again by `check`, which says what is wrong and where. So
    `valid` may refuse what `check` accepts (it is then only slower), never the reverse.
    """

    description: str = ""

    def check(self, value: object, ctx: Ctx) -> None:
        raise NotImplementedError

    def valid(self, value: object) -> bool:
        raise NotImplementedError

    def json_schema(self) -> Json:
        raise NotImplementedError

    def _with_description(self, schema: Json) -> Json:
        if self.description:
            schema["description"] = self.description
        return schema


@dataclass
class Str(Spec):
    description: str = ""
    pattern: str | None = None
    expected: str = "a string"
    _regex: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._regex = None if self.pattern is None else re.compile(self.pattern)

    def check(self, value: object, ctx: Ctx) -> None:
        if not self.valid(value):
            raise ctx.fail(self.expected, value)

    def valid(self, value: object) -> bool:
        regex = self._regex
        return isinstance(value, str) and (regex is None or regex.fullmatch(value) is not None)

    def json_schema(self) -> Json:
        schema: Json = {"type": "string"}
        if self.pattern:
            schema["pattern"] = f"^(?:{self.pattern})$"
        return self._with_description(schema)


@dataclass
class Text(Spec):
    """Free text: a string, or a number/boolean read as text ('Phase 2', 2)."""

    description: str = ""

    def check(self, value: object, ctx: Ctx) -> None:
        if not self.valid(value):
            raise ctx.fail("text", value)

    def valid(self, value: object) -> bool:
        return isinstance(value, str | int | float) and not isinstance(value, bool)

    def json_schema(self) -> Json:
        return self._with_description({"type": ["string", "number"]})


@dataclass
class Bool(Spec):
    description: str = ""

    def check(self, value: object, ctx: Ctx) -> None:
        if not isinstance(value, bool):
            raise ctx.fail("true or false", value)

    def valid(self, value: object) -> bool:
        return isinstance(value, bool)

    def json_schema(self) -> Json:
        return self._with_description({"type": "boolean"})


@dataclass
class Int(Spec):
    minimum: int
    maximum: int
    description: str = ""
    expected: str = ""

    def check(self, value: object, ctx: Ctx) -> None:
        if not self.valid(value):
            expected = self.expected or f"an integer {self.minimum}-{self.maximum}"
            raise ctx.fail(expected, value, self.outside(value))

    def valid(self, value: object) -> bool:
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            and self.minimum <= value <= self.maximum
        )

    def outside(self, value: object) -> str | None:
        """`an integer above 65535` for an integer out of range (else None): where, not what."""
        if not isinstance(value, int) or isinstance(value, bool):
            return None
        if value < self.minimum:
            return f"an integer below {self.minimum}"
        return f"an integer above {self.maximum}" if value > self.maximum else None

    def json_schema(self) -> Json:
        return self._with_description(
            {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}
        )


@dataclass
class Enum(Spec):
    values: tuple[str, ...]
    description: str = ""

    def check(self, value: object, ctx: Ctx) -> None:
        if not self.valid(value):
            raise ctx.fail("one of " + ", ".join(self.values), value)

    def valid(self, value: object) -> bool:
        return isinstance(value, str) and value.lower() in self.values

    def json_schema(self) -> Json:
        return self._with_description({"type": "string", "enum": list(self.values)})


@dataclass
class Pattern(Spec):
    """A scalar (string or number) that a parser function accepts (durations, sizes...)."""

    parse: Callable[[object], object]
    expected: str
    json: Json
    description: str = ""
    numbers: Int | None = None  # the range of the integers it takes, for the message

    def check(self, value: object, ctx: Ctx) -> None:
        try:
            self.parse(value)
        except ValueProblem as problem:
            raise ctx.problem(problem.text) from None
        except ValueError:
            got = self.numbers.outside(value) if self.numbers else None
            raise ctx.fail(self.expected, value, got) from None

    def valid(self, value: object) -> bool:
        try:
            self.parse(value)
        except ValueError:  # a ValueProblem too
            return False
        return True

    def json_schema(self) -> Json:
        return self._with_description(dict(self.json))


@dataclass
class AnyValue(Spec):
    description: str = ""

    def check(self, value: object, ctx: Ctx) -> None:
        return None

    def valid(self, value: object) -> bool:
        return True

    def json_schema(self) -> Json:
        return self._with_description({})


@dataclass
class ListOf(Spec):
    item: Spec
    description: str = ""
    allow_single: bool = False  # `depends_on: db` as well as `depends_on: [db]`
    min_items: int = 0

    def check(self, value: object, ctx: Ctx) -> None:
        if self.allow_single and not isinstance(value, list):
            self.item.check(value, ctx)
            return
        if not isinstance(value, list):
            raise ctx.fail("a list", value)
        if len(value) < self.min_items:
            raise ctx.fail("a non-empty list", value, "an empty list")
        marks = value.item_marks if isinstance(value, YSeq) else []
        for index, item in enumerate(value):
            self.item.check(item, ctx.child(index, marks[index] if index < len(marks) else None))

    def valid(self, value: object) -> bool:
        item = self.item
        if not isinstance(value, list):
            return self.allow_single and item.valid(value)
        return len(value) >= self.min_items and all(item.valid(each) for each in value)

    def json_schema(self) -> Json:
        schema: Json = {"type": "array", "items": self.item.json_schema()}
        if self.min_items:
            schema["minItems"] = self.min_items
        if self.allow_single:
            schema = {"anyOf": [schema, self.item.json_schema()]}
        return self._with_description(schema)


@dataclass
class MapOf(Spec):
    """A mapping with names chosen by the user (services, ports, ranges...)."""

    value: Spec
    description: str = ""
    key_pattern: str = r"[A-Za-z0-9][\w .\-/]*"
    key_expected: str = "a name of letters, digits, '-', '_', '.', '/' or spaces"
    _key_regex: re.Pattern[str] = field(
        default=re.compile(""), init=False, repr=False, compare=False
    )
    _names: set[str] = field(default_factory=set, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._key_regex = re.compile(self.key_pattern)

    def check(self, value: object, ctx: Ctx) -> None:
        if not isinstance(value, dict):
            raise ctx.fail("a mapping", value)
        for key, item in value.items():
            if not self._key_regex.fullmatch(key):
                # Not a name, so perhaps a value written as a key: not quoted, nor in the path.
                key_ctx = Ctx(ctx.file, ctx.path, _key_mark(value, key) or ctx.mark)
                raise key_ctx.fail(self.key_expected, key, f"a key of {len(key)} characters")
            self.value.check(item, ctx.child(key, _value_mark(value, key)))

    def valid(self, value: object) -> bool:
        if not isinstance(value, dict):
            return False
        names = self._names
        key_match = self._key_regex.fullmatch
        item_valid = self.value.valid
        for key, item in value.items():
            if key not in names:  # a port's name comes back thousands of times
                if key_match(key) is None:
                    return False
                if len(names) < 1024:
                    names.add(key)
            if not item_valid(item):
                return False
        return True

    def json_schema(self) -> Json:
        return self._with_description(
            {
                "type": "object",
                "propertyNames": {"pattern": f"^(?:{self.key_pattern})$"},
                "additionalProperties": self.value.json_schema(),
            }
        )


EXTENSION_PREFIX = "x-"


@dataclass
class Obj(Spec):
    """A mapping with known keys; unknown keys get a "did you mean"."""

    fields: Mapping[str, Spec]
    description: str = ""
    required: tuple[str, ...] = ()
    title: str = ""
    extensions: bool = False  # `x-*` keys allowed and ignored (compose's extension fields)

    def check(self, value: object, ctx: Ctx) -> None:
        if not isinstance(value, dict):
            raise ctx.fail(f"a mapping{f' ({self.title})' if self.title else ''}", value)
        if ctx.at_top() and not self._plan_like(value):
            ctx = Ctx(ctx.file, ctx.path, ctx.mark, plan=False)
        for key, item in value.items():
            if self.extensions and key.startswith(EXTENSION_PREFIX):
                continue
            spec = self.fields.get(key)
            if spec is None:
                raise self._unknown(key, Ctx(ctx.file, ctx.path, _key_mark(value, key), ctx.plan))
            spec.check(item, ctx.child(key, _value_mark(value, key)))
        for key in self.required:
            if key not in value:
                raise ctx.fail(f"a mapping with the key '{key}'", value, "a mapping without it")

    def valid(self, value: object) -> bool:
        if not isinstance(value, dict):
            return False
        fields = self.fields
        for key, item in value.items():
            spec = fields.get(key)
            if spec is None:
                if self.extensions and key.startswith(EXTENSION_PREFIX):
                    continue
                return False
            if not spec.valid(item):
                return False
        return all(key in value for key in self.required)

    def _plan_like(self, value: Mapping[str, Any]) -> bool:
        """Whether a top-level mapping is a plan at all: one of its first keys is a known key
        or close to one (`servcies`). A file that is not (`check -f /etc/shadow`) has none of
        its keys quoted."""
        import difflib  # for a message only: a valid plan is answered by `valid`

        keys = list(itertools.islice(value, 50))
        known = list(self.fields)
        return any(k in self.fields or difflib.get_close_matches(k, known, 1, 0.6) for k in keys)

    def _unknown(self, key: str, ctx: Ctx) -> SchemaError:
        import difflib

        near = difflib.get_close_matches(key, list(self.fields), n=1, cutoff=0.6)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        known = ", ".join(sorted(self.fields))
        line = ctx.mark.line if ctx.mark else None
        column = ctx.mark.column if ctx.mark else None
        where = f"{ctx.path}: " if ctx.path else ""
        return SchemaError(
            ctx.file,
            line,
            column,
            f"{where}unknown key {ctx.key(key)}{hint}{_not_a_plan(ctx)}; expected one of {known}",
        )

    def json_schema(self) -> Json:
        schema: Json = {
            "type": "object",
            "properties": {k: v.json_schema() for k, v in self.fields.items()},
            "additionalProperties": False,
        }
        if self.extensions:
            schema["patternProperties"] = {f"^{EXTENSION_PREFIX}": {}}
        if self.required:
            schema["required"] = list(self.required)
        return self._with_description(schema)


@dataclass
class OneOf(Spec):
    """A short form or a long form: chosen by the value's type."""

    choices: tuple[tuple[type | tuple[type, ...], Spec], ...]
    expected: str
    description: str = ""
    # the choice for each type met so far: it hangs on the type alone
    _chosen: dict[type, Spec | None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def check(self, value: object, ctx: Ctx) -> None:
        for types, spec in self.choices:
            if isinstance(value, types) and not (
                isinstance(value, bool) and bool not in _flat(types)
            ):
                spec.check(value, ctx)
                return
        raise ctx.fail(self.expected, value)

    def valid(self, value: object) -> bool:
        kind = type(value)
        if kind in self._chosen:
            spec = self._chosen[kind]
        else:
            spec = self._chosen[kind] = self._choice(value)
        return spec is not None and spec.valid(value)

    def _choice(self, value: object) -> Spec | None:
        for types, spec in self.choices:
            if isinstance(value, types) and not (
                isinstance(value, bool) and bool not in _flat(types)
            ):
                return spec
        return None

    def json_schema(self) -> Json:
        return self._with_description({"anyOf": [spec.json_schema() for _, spec in self.choices]})


def _flat(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def _key_mark(value: dict[str, Any], key: str) -> Mark | None:
    return value.key_marks.get(key) if isinstance(value, YMap) else None


def _value_mark(value: dict[str, Any], key: str) -> Mark | None:
    return value.value_marks.get(key) if isinstance(value, YMap) else None


# ---------------------------------------------------------------------------
# Scalar parsers shared by the schema and the loader.

_RANGE_RE = re.compile(r"\s*(\d+)\s*(?:(-|\.\.|–)\s*(\d+)|(\+))?\s*")
_DURATION_RE = re.compile(r"\s*[<>≤]?=?\s*(\d+(?:\.\d+)?)\s*(ms|s|us|µs|m)?\s*")
_SIZE_RE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B?|B)?\s*", re.IGNORECASE)
_CPU_RE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(cores?|cpus?|m)?\s*", re.IGNORECASE)
_NUMBER_RE = re.compile(r"\s*[<>≤]?=?\s*(\d+(?:\.\d+)?)\s*(rps|req/s|/s)?\s*", re.IGNORECASE)
_UNIT_MS = {None: 1.0, "ms": 1.0, "s": 1000.0, "us": 0.001, "µs": 0.001, "m": 60000.0}
_SIZE_MB = {"b": 1 / 2**20, "k": 1 / 1024, "m": 1.0, "g": 1024.0, "t": 1024.0**2}


def parse_port(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise ValueError(value)
    return value


def parse_range(value: object) -> tuple[int, int]:
    """8080, "8080", "8000-8009", "8020+" (open upwards) -> (start, end)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return parse_port(value), value
    if not isinstance(value, str):
        raise ValueError(value)
    match = _RANGE_RE.fullmatch(value)
    if not match:
        raise ValueError(value)
    start = parse_port(int(match.group(1)))
    end = 65535 if match.group(4) else start if match.group(3) is None else int(match.group(3))
    if not start <= parse_port(end):
        raise ValueProblem(f"a range from {start} down to {end}: expected the lower port first")
    return start, end


def parse_duration_ms(value: object) -> float:
    """10 (ms), "10ms", "<10ms", "0.5s" -> milliseconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    match = _DURATION_RE.fullmatch(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(value)
    return float(match.group(1)) * _UNIT_MS[match.group(2)]


def parse_size_mb(value: object) -> float:
    """512 (MB), "512MB", "1GB", "100Gi" -> megabytes."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    match = _SIZE_RE.fullmatch(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(value)
    unit = (match.group(2) or "M")[0].lower()
    return float(match.group(1)) * _SIZE_MB[unit]


def parse_cpu(value: object) -> float:
    """0.5, "0.5 cores", "500m" -> cores."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    match = _CPU_RE.fullmatch(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(value)
    number = float(match.group(1))
    return number / 1000 if (match.group(2) or "").lower() == "m" else number


def parse_rate(value: object) -> float:
    """1000, "1000 RPS", ">1000" -> requests per second."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    match = _NUMBER_RE.fullmatch(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(value)
    return float(match.group(1))


# ---------------------------------------------------------------------------
# The plan (portplan.yaml).

EXPOSURES = ("public", "internal", "local")
STATUSES = ("active", "planned", "reserved", "deprecated")
PROTOCOLS = ("tcp", "udp", "sctp")

PORT_NUMBER = Int(1, 65535, description="A port number, 1-65535.")
RANGE = Pattern(
    parse_range,
    'a port or a port range such as 8000-8009 or "8020+"',
    {"type": ["integer", "string"], "pattern": r"^\s*\d+\s*((-|\.\.)\s*\d+|\+)?\s*$"},
    description="A port (8080) or an inclusive range (8000-8009); '8020+' runs to 65535.",
    numbers=PORT_NUMBER,
)
DURATION = Pattern(
    parse_duration_ms,
    'a duration such as 10ms, "<50ms" or 0.5s',
    {"type": ["number", "string"]},
    description="Milliseconds as a number, or a string with a unit (10ms, 0.5s, <50ms).",
)
RATE = Pattern(
    parse_rate,
    'a rate such as 1000 or "1000 RPS"',
    {"type": ["number", "string"]},
    description="Requests per second.",
)
LATENCY = Obj(
    {"target": DURATION, "max": DURATION},
    description="Latency budget: over target is a warning, over max an error.",
)
THROUGHPUT = Obj({"target": RATE, "max": RATE}, description="Throughput budget (requests/s).")
NAMES = ListOf(Str(), allow_single=True)

HEALTH_LONG = Obj(
    {
        "path": Str(pattern=r"/\S*", expected="an HTTP path starting with /"),
        "http": Str(pattern=r"/\S*", expected="an HTTP path starting with /"),
        "status": Int(100, 599, expected="an HTTP status code 100-599"),
        "expect": AnyValue(description="A JSON subset the response body must contain."),
        "tcp": Bool(description="Healthy when a TCP connect succeeds."),
        "grpc": OneOf(
            ((bool, Bool()), (str, Str())),
            "true or a gRPC service name",
            description="Use the gRPC health-checking protocol (true, or a service name).",
        ),
        "timeout": DURATION,
        "latency": LATENCY,
    },
    title="a health check",
    description="How to tell the port is healthy.",
)
HEALTH = OneOf(
    ((str, Str(pattern=r"/\S*", expected="an HTTP path starting with /")), (dict, HEALTH_LONG)),
    "an HTTP path such as /health, or a mapping",
)
PORT_LONG = Obj(
    {
        "port": Int(
            1,
            65535,
            description="The port others reach it on: the host port when published, else "
            "the port on its container network, 1-65535.",
        ),
        "target": Int(
            1,
            65535,
            description="The port the process listens on inside its container or pod, when "
            "it differs from `port` (compose 8088:80: port 8088, target 80), 1-65535.",
        ),
        "published": Bool(
            description="false: not bound on the host (compose expose, a ClusterIP Service "
            "port); reachable only on its container network. Default true."
        ),
        "protocol": Enum(PROTOCOLS),
        "kind": Str(description="http, grpc, ws, metrics, postgresql...; defaults from the name."),
        "address": Str(description="Bind address (0.0.0.0 = every interface, 127.0.0.1...)."),
        "exposure": Enum(EXPOSURES),
        "env": Str(pattern=r"[A-Za-z_][A-Za-z0-9_]*", expected="an environment variable name"),
        "health": HEALTH,
        "metrics": Str(pattern=r"/\S*", expected="a metrics path starting with /"),
        "latency": LATENCY,
        "throughput": THROUGHPUT,
        "description": Text(),
        "listen": Enum(
            ("self", "inherit"),
            description="inherit: `portplan up` binds the port itself and passes the socket "
            "to the process (systemd LISTEN_FDS, fd 3 on); self (default): the process binds it.",
        ),
    },
    required=("port",),
    title="a port",
    extensions=True,
)
PORT_SHORT = Pattern(
    lambda v: _parse_short_port(v),
    "an integer 1-65535",
    {"type": ["integer", "string"], "pattern": r"^\d+(/(tcp|udp|sctp))?$"},
    description="Short form: 8080, or '5353/udp'.",
    numbers=PORT_NUMBER,
)
PORT = OneOf(((int, PORT_SHORT), (str, PORT_SHORT), (dict, PORT_LONG)), "an integer 1-65535")

_SHORT_PORT_RE = re.compile(r"(\d+)(?:/([^/]*))?")


def _parse_short_port(value: object) -> tuple[int, str]:
    if isinstance(value, int) and not isinstance(value, bool):
        return parse_port(value), "tcp"
    match = _SHORT_PORT_RE.fullmatch(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(value)
    number = parse_port(int(match.group(1)))
    protocol = match.group(2)
    if protocol is not None and protocol not in PROTOCOLS:
        raise ValueProblem(
            "expected a protocol tcp, udp or sctp after the port number, got " + shape(protocol)
        )
    return number, protocol or "tcp"


parse_short_port = _parse_short_port

ENVIRONMENT = OneOf(
    (
        (
            dict,
            MapOf(
                AnyValue(),
                key_pattern=r"[A-Za-z_][A-Za-z0-9_.\-]*",
                key_expected="an environment variable name",
            ),
        ),
        (list, ListOf(Str())),
    ),
    "a mapping of variables or a list of KEY=value",
    description="The service's environment; literal secret values are reported by check.",
)


def parse_regex(value: object) -> str:
    """A regular expression (Python syntax) that compiles."""
    if not isinstance(value, str):
        raise ValueError(value)
    try:
        re.compile(value)
    except re.error as error:
        raise ValueProblem(f"not a regular expression: {error.msg}") from None
    return value


def parse_signal(value: object) -> str:
    """ "SIGTERM", "TERM", "int" -> "SIGTERM", "SIGINT"."""
    import signal

    if not isinstance(value, str):
        raise ValueError(value)
    name = value.upper() if value.upper().startswith("SIG") else "SIG" + value.upper()
    if not isinstance(getattr(signal.Signals, name, None), signal.Signals):
        raise ValueError(value)
    return name


RUN_CONDITIONS = ("started", "ready", "completed")
RESTART_POLICIES = ("no", "on-failure", "always", "with-dependency")
READY_KINDS = ("auto", "health", "tcp", "started")
COMMAND = OneOf(
    (
        (str, Str(pattern=r"[\s\S]*\S[\s\S]*", expected="a command that is not blank")),
        (list, ListOf(Str(), min_items=1)),
    ),
    "a command: a shell string or a list of arguments",
    description="A shell string (run by /bin/sh -c) or a list of arguments (run as is).",
)
RUN_ENV = MapOf(
    Pattern(
        lambda v: v if isinstance(v, str | int | float) else _not_scalar(v),
        "a string, number or boolean",
        {"type": ["string", "number", "boolean"]},
    ),
    key_pattern=r"[A-Za-z_][A-Za-z0-9_]*",
    key_expected="an environment variable name",
    description="Extra variables; ${VAR} references are resolved from the environment "
    "`up` runs in, when the process starts (never written to disk).",
)
READY = OneOf(
    (
        (str, Enum(READY_KINDS)),
        (
            dict,
            Obj(
                {
                    "health": Bool(description="Each port's declared health check."),
                    "tcp": Bool(description="A TCP connect to each of its ports."),
                    "exec": COMMAND,
                    "log": Pattern(
                        parse_regex,
                        "a regular expression",
                        {"type": "string"},
                        description="Ready when a line of its output matches.",
                    ),
                    "timeout": DURATION,
                    "interval": DURATION,
                },
                title="a readiness check",
            ),
        ),
    ),
    "auto, health, tcp, started or a mapping",
    description="What makes the process ready, so its dependents may start (default: "
    "auto, each port's declared health check, else a TCP connect).",
)
RESTART = OneOf(
    (
        (str, Enum(RESTART_POLICIES)),
        (
            dict,
            Obj(
                {
                    "policy": Enum(RESTART_POLICIES[:3]),
                    "with_dependency": Bool(
                        description="Restart after a dependency restarts (docker/compose #4826)."
                    ),
                    "backoff": DURATION,
                    "max": Int(0, 1000000, description="Restarts before giving up."),
                },
                title="a restart policy",
            ),
        ),
    ),
    "no, on-failure, always, with-dependency or a mapping",
    description="When an ended process is started again (default: no).",
)
RUN = Obj(
    {
        "command": COMMAND,
        "cwd": Str(description="The working folder, relative to the plan's folder."),
        "env": RUN_ENV,
        "ready": READY,
        "restart": RESTART,
        "stop": Obj(
            {
                "signal": Pattern(
                    parse_signal, "a signal name such as SIGTERM or INT", {"type": "string"}
                ),
                "grace": DURATION,
            },
            title="a stop policy",
            description="The signal sent to the process group, then SIGKILL after grace "
            "(default: SIGTERM, 10s).",
        ),
        "wait_for": MapOf(
            Enum(RUN_CONDITIONS),
            description="The condition each dependency must meet first (default: ready).",
        ),
    },
    title="a run section",
    description="How `portplan up` runs the service.",
)


def _not_scalar(value: object) -> str:
    raise ValueError(value)


SERVICE = Obj(
    {
        "aliases": NAMES,
        "purpose": Text(),
        "description": Text(),
        "category": Str(),
        "status": Enum(STATUSES),
        "phase": Text(),
        "technology": Text(),
        "image": Str(),
        "host": Str(),
        "zone": Str(),
        "exposure": Enum(EXPOSURES),
        "networks": NAMES,
        "ports": MapOf(PORT, description="Named ports: http, grpc, ws, metrics, or any name."),
        "depends_on": NAMES,
        "environment": ENVIRONMENT,
        "resources": Obj(
            {
                "cpu": Pattern(parse_cpu, 'a CPU amount such as 0.5 or "500m"', {}),
                "memory": Pattern(parse_size_mb, 'a size such as 512MB or "1GB"', {}),
                "storage": Pattern(parse_size_mb, "a size such as 10GB", {}),
            }
        ),
        "latency": LATENCY,
        "throughput": THROUGHPUT,
        "run": RUN,
    },
    title="a service",
    extensions=True,
)
RANGE_POLICY = Obj(
    {
        "ports": RANGE,
        "category": Str(),
        "kind": Str(),
        "host": Str(),
        "description": Text(),
    },
    required=("ports",),
    title="a range policy",
)
RESERVATION_LONG = Obj(
    {"ports": RANGE, "reason": Text(), "host": Str(), "future": Bool()},
    required=("ports",),
    title="a reservation",
)
RESERVATION = OneOf(
    ((int, RANGE), (str, RANGE), (dict, RESERVATION_LONG)), "a port, a range or a mapping"
)

PORT_OVERLAY = OneOf(
    (
        (int, PORT_SHORT),
        (str, PORT_SHORT),
        (dict, Obj(PORT_LONG.fields, title="a port overlay", extensions=True)),
    ),
    "an integer 1-65535 or a mapping",
    description="A new number (short form) or the fields of the port that change.",
)
ENVIRONMENT_OVERLAY = Obj(
    {
        "description": Text(),
        "defaults": Obj(
            {"host": Str(), "exposure": Enum(EXPOSURES), "protocol": Enum(PROTOCOLS)},
            title="defaults",
        ),
        "hosts": MapOf(
            Obj({"address": Str(), "description": Text(), "ephemeral": RANGE}, title="a host")
        ),
        "services": MapOf(
            Obj(
                {**SERVICE.fields, "ports": MapOf(PORT_OVERLAY)},
                title="a service overlay",
                extensions=True,
            )
        ),
    },
    title="an environment",
    extensions=True,
    description="An overlay (dev, staging, prod...) merged over the file by `--env NAME`: "
    "mappings merge key by key, other values replace.",
)

TOPOLOGY = Obj(
    {
        "version": Int(1, 1, expected="1"),
        "system": Str(),
        "description": Text(),
        "include": NAMES,
        "defaults": Obj(
            {
                "host": Str(),
                "exposure": Enum(EXPOSURES),
                "protocol": Enum(PROTOCOLS),
                "run": Obj(
                    RUN.fields,
                    title="a run section",
                    description="Merged under every service's run: (its own keys win); "
                    "with a command, every service runs.",
                ),
            },
            title="defaults",
        ),
        "hosts": MapOf(
            Obj({"address": Str(), "description": Text(), "ephemeral": RANGE}, title="a host")
        ),
        "networks": MapOf(
            Obj({"subnet": Str(), "zone": Str(), "description": Text()}, title="a network")
        ),
        "zones": MapOf(
            Obj(
                {"exposure": Enum(EXPOSURES), "networks": NAMES, "description": Text()},
                required=("exposure",),
                title="a zone",
            )
        ),
        "ephemeral": RANGE,
        "ranges": MapOf(RANGE_POLICY),
        "reserved": ListOf(RESERVATION),
        "services": MapOf(SERVICE),
        "environments": MapOf(ENVIRONMENT_OVERLAY, description="Overlays chosen with --env."),
    },
    title="a portplan topology",
    extensions=True,
    description="portplan.yaml: one source of truth for a system's ports and topology.",
)


def json_schema() -> Json:
    """The JSON Schema (draft 2020-12) of portplan.yaml, for editors and CI."""
    schema = TOPOLOGY.json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://portplan.dev/schema/portplan.plan.schema.json",
        "title": "portplan topology",
        **schema,
    }


def validate(document: object, file: str) -> None:
    """Stage 1: raise SchemaError at the first value of the wrong shape."""
    if TOPOLOGY.valid(document):
        return
    mark = document.mark if isinstance(document, YMap | YSeq) else Mark(1, 1)
    TOPOLOGY.check(document, Ctx(file, "", mark))
