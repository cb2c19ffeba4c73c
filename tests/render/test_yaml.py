"""The generated-YAML emitter writes exactly what PyYAML writes, and reads back the same."""

from __future__ import annotations

import random
from typing import Any

import pytest
import yaml

from portplan.render._yaml import Quoted, dump_yaml, pyyaml_dump

# Scalars whose spelling PyYAML chooses with care: numbers, booleans, nulls, dates,
# indicators, `: ` and ` #`, quotes, spaces, non-ASCII, control characters.
TRICKY = [
    "", " ", "a", "8080", "08080", "0x1F", "0o17", "1_000", "1:20", "1.5", ".5", "1e5", "-1",
    "+1", ".inf", "-.inf", ".nan", "yes", "No", "ON", "off", "y", "n", "true", "False",
    "null", "Null", "~", "TRUE", "Off", "NULL", "NO", "Yes", "yES", "nULL", "~a", "<a", "=a", "2024-01-01", "2024-01-01 10:00:00", "=", "<<", "-", "- a", "-a",
    "--", "---", "...", "...a", "a...", "?", "? a", "?a", ":", ": a", ":a", "a:", "a: b",
    "a:b", "localhost:9100", "127.0.0.1:3000:3000", "[a]", "{a}", "a,b", "a[b]", "#a", "a #b",
    "a#b", "&a", "*a", "!a", "|a", "a|b", ">a", "'a'", "it's", '"a"', 'say "hi"', "%a",
    "@a", "`a", "a b", "a  b", " a", "a ", "a\tb", "a\nb", "a\\b", "ü", "日本", "a\x07b",
    "/health", "/metrics", "CMD-SHELL", "curl -fsS http://localhost:8080/health || exit 1",
    "nc -z localhost 5432 || exit 1", "-addr=localhost:50051", "app.kubernetes.io/name",
    "10.0.0.0/24", "2s", "500ms", "v1", "apps/v1", "TCP", "LoadBalancer", "x" * 200,
]  # fmt: skip


def _same(data: Any) -> None:
    text = dump_yaml(data)
    assert text == pyyaml_dump(data)
    assert yaml.safe_load(text) == data


@pytest.mark.parametrize("value", TRICKY)
def test_scalars_as_values_keys_items_and_quoted(value: str) -> None:
    _same({"key": value, "list": [value, {"in": value}], value: 1})
    _same({"quoted": Quoted(value)} if value else {"quoted": [Quoted(value)]})


@pytest.mark.parametrize(
    "data",
    [
        {"a": [], "b": {}, "c": None, "d": True, "e": False, "f": 0, "g": -5},
        {"c": [{"x": 1, "y": [1, 2]}, [1, 2], [], {}, [[{"a": 1}]], [[]]]},
        {"i": {"j": {"k": [], "l": [{"m": {"n": [1]}}]}}},
        [{"a": 1}, {"b": {"c": 2}}, [3, [4]], "five", None],
        {"x" * 130: 1},  # a long key: PyYAML writes `? key`
        {"float": 1.5},  # not generated: PyYAML writes the whole document
        {1: "an int key"},
        {"multi": "line one\nline two"},
        {},
        [],
        "a bare scalar",
    ],
)
def test_structures(data: Any) -> None:
    assert dump_yaml(data) == pyyaml_dump(data)


def _random(rng: random.Random, depth: int) -> Any:
    alphabet = "ab:- #'\"/.,[]{}|>&*!%@`?=~01ex_+\t\nü"
    choice = rng.randrange(7 if depth < 3 else 4)
    if choice == 0:
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(6)))
    if choice == 1:
        return rng.choice([0, 7, 8080, True, False, None])
    if choice == 2:
        return Quoted("".join(rng.choice(alphabet) for _ in range(rng.randrange(6))))
    if choice == 3:
        return rng.choice(["http", "8080", "yes", "a b", "localhost:9100"])
    if choice in (4, 5):
        keys = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 5))) for _ in "abc"]
        return {key: _random(rng, depth + 1) for key in keys[: rng.randrange(4)]}
    return [_random(rng, depth + 1) for _ in range(rng.randrange(4))]


def test_random_documents_match_pyyaml() -> None:
    rng = random.Random(20261121)
    for _ in range(3000):
        data = {"root": _random(rng, 0), "list": [_random(rng, 1), _random(rng, 1)]}
        assert dump_yaml(data) == pyyaml_dump(data), data
