"""Type casts applied after interpolation, as compose-go's loader applies them.

An interpolated value is always a string; compose-go converts the few fields that must
be numbers or booleans right after substitution (`loader/interpolate.go`).  The cast
functions copy Go's parsers (`strconv.Atoi`, `strconv.ParseBool`, ...); each raises a
`CastError` (a ValueError) whose message names the type expected, never the value, and
whose `peer_message` is Go's wording.  `COMPOSE_CASTS` is compose-go's table, ready for
`interpolate_tree(tree, lookup, casts=COMPOSE_CASTS)` on a whole compose document.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from portplan.compose.errors import CastError
from portplan.compose.interpolate import PATH_ANY, PATH_LIST, Cast, PathPattern

__all__ = [
    "COMPOSE_CASTS",
    "parse_bool",
    "to_boolean",
    "to_float",
    "to_int",
    "to_int64",
]

_INTEGER = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(
    r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)",
    re.IGNORECASE,
)
_INT64_MAX = 2**63 - 1
_TRUE_WORDS = frozenset({"true", "y", "yes", "on"})
_FALSE_WORDS = frozenset({"false", "n", "no", "off"})
_GO_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_GO_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


def _go_int(value: str, func: str) -> int:
    if not _INTEGER.fullmatch(value):
        peer = f'strconv.{func}: parsing "{value}": invalid syntax'
        raise CastError("expected an integer", peer)
    number = int(value)
    if not -_INT64_MAX - 1 <= number <= _INT64_MAX:
        peer = f'strconv.{func}: parsing "{value}": value out of range'
        raise CastError("expected a 64-bit integer, got one out of range", peer)
    return number


def to_int(value: str) -> int:
    """Go `strconv.Atoi`."""
    return _go_int(value, "Atoi")


def to_int64(value: str) -> int:
    """Go `strconv.ParseInt(value, 10, 64)`."""
    return _go_int(value, "ParseInt")


def to_float(value: str) -> float:
    """Go `strconv.ParseFloat(value, 64)` for decimal notation, `inf` and `nan`."""
    if not _FLOAT.fullmatch(value):
        peer = f'strconv.ParseFloat: parsing "{value}": invalid syntax'
        raise CastError("expected a number", peer)
    return float(value)


def to_boolean(value: str) -> bool:
    """compose-go's `toBoolean`: `true`/`false`, and the YAML 1.1 words it still accepts."""
    word = value.lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise CastError("expected a boolean (true or false)", f"invalid boolean: {value}")


def parse_bool(value: str) -> bool:
    """Go `strconv.ParseBool`."""
    if value in _GO_TRUE:
        return True
    if value in _GO_FALSE:
        return False
    peer = f'strconv.ParseBool: parsing "{value}": invalid syntax'
    raise CastError("expected a boolean (true or false)", peer)


def _service(*parts: str) -> PathPattern:
    return ("services", PATH_ANY, *parts)


_TABLE: dict[PathPattern, Cast] = {
    _service("configs", PATH_LIST, "mode"): to_int,
    _service("cpu_count"): to_int64,
    _service("cpu_percent"): to_float,
    _service("cpu_period"): to_int64,
    _service("cpu_quota"): to_int64,
    _service("cpu_rt_period"): to_int64,
    _service("cpu_rt_runtime"): to_int64,
    _service("cpus"): to_float,  # float32 in compose-go; Python keeps the float64 value
    _service("cpu_shares"): to_int64,
    _service("init"): to_boolean,
    _service("deploy", "replicas"): to_int,
    _service("deploy", "update_config", "parallelism"): to_int,
    _service("deploy", "update_config", "max_failure_ratio"): to_float,
    _service("deploy", "rollback_config", "parallelism"): to_int,
    _service("deploy", "rollback_config", "max_failure_ratio"): to_float,
    _service("deploy", "restart_policy", "max_attempts"): to_int,
    _service("deploy", "placement", "max_replicas_per_node"): to_int,
    _service("healthcheck", "retries"): to_int,
    _service("healthcheck", "disable"): to_boolean,
    _service("oom_kill_disable"): to_boolean,
    _service("oom_score_adj"): to_int64,
    _service("pids_limit"): to_int64,
    _service("ports", PATH_LIST, "target"): to_int,
    _service("privileged"): to_boolean,
    _service("read_only"): to_boolean,
    _service("scale"): to_int,
    _service("secrets", PATH_LIST, "mode"): to_int,
    _service("stdin_open"): to_boolean,
    _service("tty"): to_boolean,
    _service("ulimits", PATH_ANY): to_int,
    _service("ulimits", PATH_ANY, "hard"): to_int,
    _service("ulimits", PATH_ANY, "soft"): to_int,
    _service("volumes", PATH_LIST, "read_only"): to_boolean,
    _service("volumes", PATH_LIST, "volume", "nocopy"): to_boolean,
    ("networks", PATH_ANY, "external"): to_boolean,
    ("networks", PATH_ANY, "internal"): to_boolean,
    ("networks", PATH_ANY, "attachable"): to_boolean,
    ("networks", PATH_ANY, "enable_ipv6"): to_boolean,
    ("volumes", PATH_ANY, "external"): to_boolean,
    ("secrets", PATH_ANY, "external"): to_boolean,
    ("configs", PATH_ANY, "external"): to_boolean,
}

#: compose-go v2's interpolation cast table (`published` is deliberately left a string).
COMPOSE_CASTS: Mapping[PathPattern, Cast] = MappingProxyType(_TABLE)
