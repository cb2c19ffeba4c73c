"""The shared conformance cases (compose-go, go-connections, docker-py, compose v1, python-dotenv).

Every case of shared/conformance/{compose_ports,interpolation,dotenv}.json runs as its own
test, dispatched by `kind` through CHECKERS.  Cases portplan deliberately does not follow
are listed in portplan.compose.deviations and run as xfail(strict=True).

Two readings of the case data, both stated by shared/conformance/README.md:
- docker-py and compose v1 leave `protocol` null when a spec names none; compose-go fills
  in "tcp", as portplan does, so a null protocol from those peers is expected as "tcp";
- a peer whose result has no `mode` field (go-connections, docker-py) asserts nothing
  about it; the other optional fields must be unset when a case lists them not.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from portplan.compose.casts import COMPOSE_CASTS, parse_bool, to_int
from portplan.compose.deviations import DEVIATIONS
from portplan.compose.dotenv import load_environment, parse_dotenv, parse_env_files
from portplan.compose.errors import (
    DotenvError,
    InterpolationError,
    InvalidTemplateError,
    MissingRequiredError,
)
from portplan.compose.interpolate import (
    Cast,
    PathPattern,
    Reference,
    Text,
    extract_variables,
    interpolate_tree,
    operator_choice,
    substitute,
    tokenize,
)
from portplan.compose.ports import (
    PortConfig,
    format_port,
    new_port,
    parse_port,
    parse_port_number,
    parse_port_range,
    parse_ports,
    parse_ports_list,
    port_bindings,
    port_defaults,
    split_proto_port,
)

Case = dict[str, Any]

CASE_FILES = ("compose_ports.json", "interpolation.json", "dotenv.json")
DOCS = Path(__file__).resolve().parents[2] / "docs" / "conformance.md"


# -- locating and loading the cases -----------------------------------------------------


def _candidates() -> Iterator[Path]:
    shared = os.environ.get("PORTPLAN_SHARED")
    if shared:
        yield Path(shared) / "conformance"
        yield Path(shared)
    for parent in Path(__file__).resolve().parents:
        yield parent / "shared" / "conformance"
    yield Path("/work/shared/conformance")


def conformance_dir() -> Path | None:
    for candidate in _candidates():
        if all((candidate / name).is_file() for name in CASE_FILES):
            return candidate
    return None


def load_cases() -> list[Case]:
    folder = conformance_dir()
    if folder is None:
        return []
    cases: list[Case] = []
    for name in CASE_FILES:
        for case in json.loads((folder / name).read_text(encoding="utf-8"))["cases"]:
            cases.append({**case, "file": name})
    return cases


CASES = load_cases()
ID_COUNTS = Counter(case["id"] for case in CASES)


def case_test_id(case: Case) -> str:
    """The case id; ids that several files use (e.g. cg-loader-interp-01) get the file name."""
    if ID_COUNTS[case["id"]] == 1:
        return str(case["id"])
    return f"{case['file'].removesuffix('.json')}:{case['id']}"


def _params() -> list[Any]:
    if not CASES:
        return [pytest.param(None, id="conformance-cases-not-found")]
    params = []
    for case in CASES:
        reason = DEVIATIONS.get(case["id"])
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(case, id=case_test_id(case), marks=marks))
    return params


# -- shared checks ----------------------------------------------------------------------

ERROR_TYPES: dict[str, type[Exception]] = {
    "InvalidTemplateError": InvalidTemplateError,
    "InvalidInterpolation": InvalidTemplateError,
    "MissingRequiredError": MissingRequiredError,
    "UnsetRequiredSubstitution": MissingRequiredError,
    "ConfigurationError": InterpolationError,
    "DockerException": DotenvError,
}
# error_detail keys of each peer -> the attribute of portplan's error holding the same fact
ERROR_DETAIL_ATTRS = {"variable": "variable", "reason": "reason", "err": "reason"}


def outcome(case: Case, call: Callable[[], Any]) -> Any:
    """The call's result, or None after checking the error an error case expects."""
    if not case.get("error"):
        return call()
    with pytest.raises(ValueError) as info:
        call()
    check_error(case, info.value)
    return None


def check_error(case: Case, error: BaseException) -> None:
    """The peer's message (portplan keeps it as `peer_message`), type and details; and
    portplan's own message quotes none of the input (it may hold a secret)."""
    expected = case.get("error_message")
    peer = getattr(error, "peer_message", str(error))
    if expected is not None:
        if case["error_match"] == "exact":
            assert peer == expected
        else:
            assert expected in peer
    if "error_type" in case:
        assert isinstance(error, ERROR_TYPES[case["error_type"]])
    for key, value in (case.get("error_detail") or {}).items():
        assert getattr(error, ERROR_DETAIL_ATTRS[key]) == value
    shown = set(re.findall(r"\w+", str(error)))
    assert sorted(input_words(case) & shown) == []


def input_words(case: Case) -> set[str]:
    """The words of an error case's input a message could quote: runs of 3+ letters and
    digits (and `_`) in its strings (not in mapping keys), less the variable names it references
    (names may be shown, values not)."""
    words = {w for text in _strings(case["input"]) for w in re.findall(r"\w{3,}", text)}
    return words - set(extract_variables(case["input"])) - SYNTAX_WORDS


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)
    elif value is not None:
        yield str(value)


# Words of the syntax that a message names, and words of portplan's messages that some
# inputs happen to use as values ('KEY="value').
SYNTAX_WORDS = frozenset({"tcp", "udp", "sctp", "value"})


def compare(case: Case, actual: Any) -> None:
    if case.get("error"):
        return
    expected = case["expect"]
    if case.get("match") == "subset":
        assert {key: actual.get(key) for key in expected} == expected
    else:
        assert actual == expected


def env_lookup(case: Case) -> Callable[[str], str | None]:
    return dict(case.get("env") or {}).get


# -- ports ------------------------------------------------------------------------------

CORE_FIELDS = ("host_ip", "published", "target", "protocol")
OPTIONAL_FIELDS = ("name", "app_protocol", "extensions")
PEERS_LEAVING_PROTOCOL_UNSET = {"docker-py", "docker-compose-v1"}


def port_dict(port: PortConfig) -> dict[str, Any]:
    return {**asdict(port), "extensions": dict(port.extensions)}


def expected_item(case: Case, item: Mapping[str, Any]) -> dict[str, Any]:
    item = dict(item)
    if item.get("protocol", "") is None and case["peer"] in PEERS_LEAVING_PROTOCOL_UNSET:
        item["protocol"] = "tcp"
    return item


def projected(port: PortConfig, expected: Mapping[str, Any]) -> dict[str, Any]:
    full = port_dict(port)
    return {key: full[key] for key in (*CORE_FIELDS, *expected)}


def unset_optional_fields(port: PortConfig, expected: Mapping[str, Any]) -> bool:
    full = port_dict(port)
    return all(not full[key] for key in OPTIONAL_FIELDS if key not in expected)


def _canonical(items: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(item, sort_keys=True) for item in items)


def _match_exact(ports: list[PortConfig], items: list[dict[str, Any]]) -> None:
    assert [projected(p, i) for p, i in zip(ports, items, strict=True)] == items
    assert all(unset_optional_fields(p, i) for p, i in zip(ports, items, strict=True))


def _match_exact_unordered(ports: list[PortConfig], items: list[dict[str, Any]]) -> None:
    assert len(ports) == len(items)
    keys = set().union(*items)
    actual = [{k: port_dict(p)[k] for k in (*CORE_FIELDS, *keys)} for p in ports]
    assert _canonical(actual) == _canonical(items)


def _match_fields(ports: list[PortConfig], items: list[dict[str, Any]]) -> None:
    assert [{k: port_dict(p)[k] for k in i} for p, i in zip(ports, items, strict=True)] == items


def _match_contains(ports: list[PortConfig], items: list[dict[str, Any]]) -> None:
    for item in items:
        assert item in [projected(p, item) for p in ports]


PORT_MATCHERS: dict[str, Callable[[list[PortConfig], list[dict[str, Any]]], None]] = {
    "exact": _match_exact,
    "exact_unordered": _match_exact_unordered,
    "fields": _match_fields,
    "contains": _match_contains,
}


def compare_ports(case: Case, ports: list[PortConfig]) -> None:
    items = [expected_item(case, item) for item in case["expect"]]
    PORT_MATCHERS[case["match"]](ports, items)
    if "expect_canonical" in case:
        (port,) = ports
        assert format_port(port) == case["expect_canonical"]


def check_short_syntax(case: Case) -> None:
    entry = case["input"]
    if isinstance(entry, str) and case.get("env"):
        entry = substitute(entry, env_lookup(case))
    ports = outcome(case, lambda: parse_ports(entry))
    if ports is not None:
        compare_ports(case, ports)


def interpolated_port_entry(case: Case) -> Any:
    tree = {"services": {"service": {"ports": [case["input"]]}}}
    result: Any = interpolate_tree(tree, env_lookup(case), casts=COMPOSE_CASTS)
    return result["services"]["service"]["ports"][0]


def check_long_syntax(case: Case) -> None:
    entry = interpolated_port_entry(case) if case.get("env") else case["input"]
    if isinstance(case["expect"], dict):  # the peer asserts the interpolated mapping itself
        assert entry == case["expect"]
        return
    compare_ports(case, parse_ports(entry))


def check_long_syntax_defaults(case: Case) -> None:
    assert port_defaults(case["input"]) == case["expect"]


def check_deferred_parse(case: Case) -> None:
    assert parse_ports_list([case["input"]], defer_unparsed=True) is None
    assert case["expect"] == case["input"]  # "kept as is"


CANONICAL_ALWAYS_HOST = {"go-connections": True, "docker-compose-v1": False}


def check_canonical(case: Case) -> None:
    (port,) = parse_ports(case["input"])
    assert format_port(port, always_host=CANONICAL_ALWAYS_HOST[case["peer"]]) == case["expect"]


PORT_RANGE_APIS: dict[str, Callable[[str], tuple[int, int]]] = {
    "nat.ParsePortRange": parse_port_range,
    "nat.ParsePortRangeToInt": lambda text: parse_port_range(text, allow_empty=True),
}


def check_port_range(case: Case) -> None:
    result = outcome(case, lambda: PORT_RANGE_APIS[case["api"]](case["input"]))
    if result is not None:
        compare(case, dict(zip(("start", "end"), result, strict=True)))


PORT_NUMBER_APIS: dict[str, Callable[[str], int]] = {
    "nat.ParsePort": parse_port,
    "nat.parsePortNumber (internal, strict)": parse_port_number,
}


def check_port_number(case: Case) -> None:
    result = outcome(case, lambda: PORT_NUMBER_APIS[case["api"]](case["input"]))
    compare(case, result)


def check_split_proto_port(case: Case) -> None:
    port, protocol = split_proto_port(case["input"])
    compare(case, {"port": port, "protocol": protocol})


def check_new_port(case: Case) -> None:
    given = case["input"]
    compare(case, outcome(case, lambda: new_port(given["proto"], given["port"])))


def check_port_bindings(case: Case) -> None:
    bindings = port_bindings(case["input"])
    for key, expected in case["expect"].items():
        assert [{"host_ip": ip, "published": port} for ip, port in bindings[key]] == expected


def check_ports_list(case: Case) -> None:
    if outcome(case, lambda: parse_ports_list(case["input"])) is not None:
        compare(case, {"valid": True})


# -- interpolation ----------------------------------------------------------------------


def check_substitute(case: Case) -> None:
    unset: list[str] = []
    result = outcome(
        case, lambda: substitute(case["input"], env_lookup(case), on_unset=unset.append)
    )
    compare(case, result)
    if "warnings" in case:
        assert len(unset) == case["warnings"]


def check_interpolate_tree(case: Case) -> None:
    compare(case, outcome(case, lambda: interpolate_tree(case["input"], env_lookup(case))))


# compose-go's TestInterpolateWithCast supplies its own casts (strconv.Atoi, ParseBool)
TEST_CASTS: dict[PathPattern, Cast] = {("*", "replicas"): to_int, ("*", "required"): parse_bool}
# compose v1 interpolates one section at a time; portplan runs a whole compose document
V1_SECTIONS = {
    "service": "services",
    "volume": "volumes",
    "network": "networks",
    "secret": "secrets",
    "config": "configs",
}
V1_SECTION = re.compile(r"'(\w+)'\)$")


def cast_interpolation(case: Case) -> Any:
    if case["peer"] == "compose-go":
        return interpolate_tree(case["input"], env_lookup(case), casts=TEST_CASTS)
    match = V1_SECTION.search(case["api"])
    assert match is not None
    section = V1_SECTIONS[match.group(1)]
    tree = {section: case["input"]}
    result: Any = interpolate_tree(tree, env_lookup(case), casts=COMPOSE_CASTS)
    return result[section]


def check_interpolate_tree_cast(case: Case) -> None:
    compare(case, outcome(case, lambda: cast_interpolation(case)))


def check_extract(case: Case) -> None:
    found = extract_variables(case["input"])
    compare(case, {name: asdict(variable) for name, variable in found.items()})


def check_operator_choice(case: Case) -> None:
    compare(case, operator_choice(case["input"]))


def token_dict(token: Text | Reference) -> dict[str, Any]:
    if isinstance(token, Text):
        return {"literal": token.text}
    default = token.argument if token.operator in (":-", "-") else None
    return {"variable": token.name, "default": default}


def check_tokenize(case: Case) -> None:
    compare(case, [token_dict(token) for token in tokenize(case["input"])])


# -- dotenv -----------------------------------------------------------------------------

NO_EXPANSION_APIS = ("no interpolation", "interpolate=False")


def parsed_dotenv(case: Case) -> dict[str, str]:
    expand = not any(marker in case["api"] for marker in NO_EXPANSION_APIS)
    lookup = env_lookup(case) if "env" in case else None
    dotenv = parse_dotenv(case["input"], lookup, expand=expand)
    # dotenv.Read / ReadWithLookup drop keys starting with a digit; Parse keeps them
    return dotenv.environment() if "dotenv.Read" in case["api"] else dotenv.values


def check_parse(case: Case) -> None:
    values = outcome(case, lambda: parsed_dotenv(case))
    if values is None:
        return
    for key in case.get("expect_absent", ()):
        assert key not in values
    if "expect" in case:
        compare(case, values)


def check_load(case: Case) -> None:
    override = "override=True" in case["api"]
    compare(case, load_environment(case["input"], case.get("env") or {}, override=override))


def check_multiple_files(case: Case) -> None:
    compare(case, parse_env_files(case["input"], case.get("env") or {}))


def check_ignored_line(case: Case) -> None:
    compare(case, parse_dotenv(case["input"]).values)


CHECKERS: dict[str, Callable[[Case], None]] = {
    "short_syntax": check_short_syntax,
    "long_syntax": check_long_syntax,
    "long_syntax_defaults": check_long_syntax_defaults,
    "deferred_parse": check_deferred_parse,
    "canonical": check_canonical,
    "port_range": check_port_range,
    "port_number": check_port_number,
    "split_proto_port": check_split_proto_port,
    "new_port": check_new_port,
    "build_port_bindings": check_port_bindings,
    "ports_list": check_ports_list,
    "substitute": check_substitute,
    "interpolate_tree": check_interpolate_tree,
    "interpolate_tree_cast": check_interpolate_tree_cast,
    "extract": check_extract,
    "operator_choice": check_operator_choice,
    "tokenize": check_tokenize,
    "parse": check_parse,
    "load_precedence": check_load,
    "project_environment": check_load,
    "multiple_files": check_multiple_files,
    "ignored_line": check_ignored_line,
}


# -- the tests --------------------------------------------------------------------------


@pytest.mark.parametrize("case", _params())
def test_case(case: Case | None) -> None:
    if case is None:
        pytest.fail(
            "conformance cases not found: set PORTPLAN_SHARED to the shared/ folder, or keep "
            "shared/conformance/ beside (or above) this checkout"
        )
    CHECKERS[case["kind"]](case)


def test_every_kind_has_a_checker() -> None:
    assert CASES, "conformance cases not found"
    assert {case["kind"] for case in CASES} <= set(CHECKERS)


def test_deviations_name_one_case_each() -> None:
    assert CASES, "conformance cases not found"
    assert {case_id: ID_COUNTS[case_id] for case_id in DEVIATIONS} == dict.fromkeys(DEVIATIONS, 1)


def test_deviations_and_counts_are_documented() -> None:
    assert CASES, "conformance cases not found"
    text = DOCS.read_text(encoding="utf-8")
    assert [case_id for case_id in DEVIATIONS if f"`{case_id}`" not in text] == []
    passing = len(CASES) - len(DEVIATIONS)
    assert f"{passing} of {len(CASES)} cases pass" in text
