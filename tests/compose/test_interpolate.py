"""Interpolation: substitution, tokens, extraction, whole trees and casts."""

from __future__ import annotations

import pytest

from portplan.compose.casts import COMPOSE_CASTS
from portplan.compose.errors import (
    InterpolationPathError,
    InvalidTemplateError,
    MissingRequiredError,
)
from portplan.compose.interpolate import (
    Reference,
    Text,
    Variable,
    extract_variables,
    interpolate_tree,
    substitute,
    tokenize,
)

ENV = {"PORT": "8080", "EMPTY": "", "HOST": "db"}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("${PORT}", "8080"),
        ("$PORT-x", "8080-x"),
        ("${MISSING:-${PORT}}", "8080"),
        ("${EMPTY:-5432}", "5432"),
        ("${EMPTY-5432}", ""),
        ("${HOST:+tcp://${HOST}}", "tcp://db"),
        ("${MISSING+x}", ""),
        ("$${PORT}", "${PORT}"),
        ("cost: 5$", "cost: 5$"),
        ('${MISSING:-{"a":1}} ${PORT}', '{"a":1} 8080'),
    ],
)
def test_substitute(template: str, expected: str) -> None:
    assert substitute(template, ENV.get) == expected


@pytest.mark.parametrize(
    ("template", "error", "message"),
    [
        ("${PORT", InvalidTemplateError, 'Invalid template: "${PORT"'),
        ('x ${ "y"}', InvalidTemplateError, 'Invalid template: "x ${ \\"y\\"}"'),
        ("${EMPTY:?}", MissingRequiredError, "required variable EMPTY is missing a value"),
        (
            "${NOPE?set NOPE to the ${HOST} port}",
            MissingRequiredError,
            "required variable NOPE is missing a value: set NOPE to the db port",
        ),
    ],
)
def test_substitute_errors(template: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as info:
        substitute(template, ENV.get)
    assert str(info.value) == message


def test_unset_variables_are_reported_once_each_use() -> None:
    unset: list[str] = []
    assert substitute("$A ${B} ${C:-x} ${PORT}", ENV.get, on_unset=unset.append) == "  x 8080"
    assert unset == ["A", "B"]


def test_tokenize_finds_the_variable_behind_a_port() -> None:
    assert tokenize("${GATEWAY_PORT:-8080}:80") == [
        Reference("GATEWAY_PORT", ":-", "8080", "${GATEWAY_PORT:-8080}"),
        Text(":80"),
    ]


def test_extract_variables_combines_uses() -> None:
    tree = {"a": "${P:-80}", "b": ["${P:?}", "$$NOT ${Q:-${R}}"]}
    assert extract_variables(tree) == {
        "P": Variable("P", default_value="80", required=True),
        "Q": Variable("Q", default_value="${R}"),
        "R": Variable("R"),
    }


def test_interpolate_tree_keeps_keys_and_non_strings() -> None:
    tree = {"${PORT}": ["${PORT}", 1, None, True], "n": {"m": "$HOST"}}
    assert interpolate_tree(tree, ENV.get) == {"${PORT}": ["8080", 1, None, True], "n": {"m": "db"}}


def test_interpolate_tree_casts_compose_fields() -> None:
    tree = {"services": {"web": {"ports": [{"target": "${PORT}", "published": "${PORT}"}]}}}
    assert interpolate_tree(tree, ENV.get, casts=COMPOSE_CASTS) == {
        "services": {"web": {"ports": [{"target": 8080, "published": "8080"}]}}
    }


@pytest.mark.parametrize(
    ("tree", "path", "message"),
    [
        (
            {"services": {"web": {"image": "x:${"}}},
            "services.web.image",
            "invalid interpolation format for services.web.image.\n"
            "You may need to escape any $ with another $.\nx:${",
        ),
        (
            {"services": {"web": {"ports": ["${P:?need P}"]}}},
            "services.web.ports.[]",
            "error while interpolating services.web.ports.[]: "
            "required variable P is missing a value: need P",
        ),
        (
            {"services": {"web": {"scale": "${HOST}"}}},
            "services.web.scale",
            "error while interpolating services.web.scale: failed to cast to expected type: "
            'strconv.Atoi: parsing "db": invalid syntax',
        ),
        (
            {"networks": {"front": {"external": "maybe"}}},
            "networks.front.external",
            "error while interpolating networks.front.external: failed to cast to expected "
            "type: invalid boolean: maybe",
        ),
    ],
)
def test_interpolate_tree_errors(tree: object, path: str, message: str) -> None:
    with pytest.raises(InterpolationPathError) as info:
        interpolate_tree(tree, ENV.get, casts=COMPOSE_CASTS)
    assert (info.value.path, str(info.value)) == (path, message)
