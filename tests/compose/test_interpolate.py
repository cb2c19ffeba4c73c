"""Interpolation: substitution, tokens, extraction, whole trees and casts."""

from __future__ import annotations

import pytest

from portplan.compose.casts import COMPOSE_CASTS
from portplan.compose.errors import (
    InterpolationError,
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


BAD_TEMPLATE = (
    '"${" must be followed by a variable name, then "}" or an operator (:- - :? ? :+ +); '
    'write "$$" for a "$"'
)


@pytest.mark.parametrize(
    ("template", "error", "offset", "message", "peer"),
    [
        (
            "${PORT",
            InvalidTemplateError,
            0,
            f"invalid interpolation: {BAD_TEMPLATE}",
            'Invalid template: "${PORT"',
        ),
        (
            'x ${ "y"}',
            InvalidTemplateError,
            2,
            f"invalid interpolation: {BAD_TEMPLATE}",
            'Invalid template: "x ${ \\"y\\"}"',
        ),
        ("${EMPTY:?}", MissingRequiredError, 0, "required variable EMPTY is missing a value", None),
        (
            "${NOPE?set NOPE to the ${HOST} port}",
            MissingRequiredError,
            0,
            "required variable NOPE is missing a value",
            "required variable NOPE is missing a value: set NOPE to the db port",
        ),
        # nested: the offset is the outermost reference's
        (
            "ab${X:-${Y?no}}",
            MissingRequiredError,
            2,
            "required variable Y is missing a value",
            "required variable Y is missing a value: no",
        ),
    ],
)
def test_substitute_errors(
    template: str, error: type[Exception], offset: int, message: str, peer: str | None
) -> None:
    """The message never quotes the template or the `?` reason (they may hold or
    interpolate a secret); compose-go's wording is `peer_message`."""
    with pytest.raises(error) as info:
        substitute(template, ENV.get)
    assert isinstance(info.value, InterpolationError)
    assert (info.value.offset, str(info.value)) == (offset, message)
    assert info.value.peer_message == (peer or message)


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
    ("tree", "path", "message", "peer"),
    [
        (
            {"services": {"web": {"image": "x:${"}}},
            "services.web.image",
            f"invalid interpolation format for services.web.image: {BAD_TEMPLATE}",
            "invalid interpolation format for services.web.image.\n"
            "You may need to escape any $ with another $.\nx:${",
        ),
        (
            {"services": {"web": {"ports": ["${P:?need P}"]}}},
            "services.web.ports.[]",
            "error while interpolating services.web.ports.[]: "
            "required variable P is missing a value",
            "error while interpolating services.web.ports.[]: "
            "required variable P is missing a value: need P",
        ),
        (
            {"services": {"web": {"scale": "${HOST}"}}},
            "services.web.scale",
            "error while interpolating services.web.scale: failed to cast to expected type: "
            "expected an integer",
            "error while interpolating services.web.scale: failed to cast to expected type: "
            'strconv.Atoi: parsing "db": invalid syntax',
        ),
        (
            {"networks": {"front": {"external": "maybe"}}},
            "networks.front.external",
            "error while interpolating networks.front.external: failed to cast to expected "
            "type: expected a boolean (true or false)",
            "error while interpolating networks.front.external: failed to cast to expected "
            "type: invalid boolean: maybe",
        ),
    ],
)
def test_interpolate_tree_errors(tree: object, path: str, message: str, peer: str) -> None:
    with pytest.raises(InterpolationPathError) as info:
        interpolate_tree(tree, ENV.get, casts=COMPOSE_CASTS)
    assert (info.value.path, str(info.value), info.value.peer_message) == (path, message, peer)


def test_a_cast_of_its_own_shows_no_value() -> None:
    """A cast that raises a plain ValueError (which may quote the value) is not quoted."""

    def secret_cast(text: str) -> object:
        raise ValueError(f"bad value {text}")

    casts = {("services", "*", "scale"): secret_cast}
    with pytest.raises(InterpolationPathError) as info:
        interpolate_tree({"services": {"web": {"scale": "${HOST}"}}}, ENV.get, casts=casts)
    message = "error while interpolating services.web.scale: failed to cast to expected type"
    assert (str(info.value), info.value.peer_message) == (message, f"{message}: bad value db")
