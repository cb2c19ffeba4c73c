"""`.env` parsing: values, the line of every key, and exact error messages."""

from __future__ import annotations

import pytest

from portplan.compose.dotenv import (
    DotenvFile,
    load_environment,
    parse_dotenv,
    parse_env_files,
)
from portplan.compose.errors import DotenvError

MULTILINE = """\
# ports of the gateway
GATEWAY_PORT=8080

export GRPC_PORT=50051   # inline comment
CERT="-----BEGIN-----
abc
-----END-----"
METRICS_PORT: 9090
HTTP_URL="http://localhost:${GATEWAY_PORT}"
"""


def test_values_and_lines() -> None:
    dotenv = parse_dotenv(MULTILINE)
    assert dotenv.values == {
        "GATEWAY_PORT": "8080",
        "GRPC_PORT": "50051",
        "CERT": "-----BEGIN-----\nabc\n-----END-----",
        "METRICS_PORT": "9090",
        "HTTP_URL": "http://localhost:8080",
    }
    assert dotenv.lines == {
        "GATEWAY_PORT": 2,
        "GRPC_PORT": 4,
        "CERT": 5,
        "METRICS_PORT": 8,
        "HTTP_URL": 9,
    }


@pytest.mark.parametrize(
    ("text", "key", "line"),
    [
        ("A=1\nA=2\n", "A", 2),  # the definition that wins
        ("\ufeffA=1", "A", 1),  # BOM
        ("\r\n\r\nA=1\r\n", "A", 3),  # Windows line ends
        ("A='x\ny'\nB=2", "B", 3),  # after a multi-line single-quoted value
        ('A="x" B=2\n', "B", 1),  # a statement after a closing quote
        ("# a\n  # b\n\tA=1", "A", 3),  # indented comment and key
    ],
)
def test_line_of_key(text: str, key: str, line: int) -> None:
    assert parse_dotenv(text).lines[key] == line


NAME_CHARS = (
    'unexpected character in a variable name (expected letters, digits, "_", ".", "-", "[" '
    'or "]", then "=" or ":")'
)
BAD_TEMPLATE = (
    'invalid interpolation: "${" must be followed by a variable name, then "}" or an '
    'operator (:- - :? ? :+ +); write "$$" for a "$"'
)


@pytest.mark.parametrize(
    ("text", "where", "message", "peer"),
    [
        (
            'A=1\nB="open\nC=3\n',
            (2, 3),
            "line 2: unterminated double-quoted value (opened at column 3)",
            'line 2: unterminated quoted value "open',
        ),
        (
            "A=1\n\nB='x",
            (3, 3),
            "line 3: unterminated single-quoted value (opened at column 3)",
            "line 3: unterminated quoted value 'x",
        ),
        ("A=1\nINVALID LINE\n", (2, 1), "line 2: key cannot contain a space", None),
        ("A=1\nUSER jdoe", (2, 1), "line 2: key cannot contain a space", None),  # no final newline
        (
            "\n\nlol$wut=1",
            (3, 4),
            f"line 3: {NAME_CHARS}",
            'line 3: unexpected character "$" in variable name "lol$wut=1"',
        ),
        (
            "'a'=b",
            (1, 1),
            f"line 1: {NAME_CHARS}",
            'line 1: unexpected character "\'" in variable name "\'a\'=b"',
        ),
        (
            "A=${B:?B must be set}\n",
            (1, 3),
            "line 1: required variable B is missing a value",
            "line 1: required variable B is missing a value: B must be set",
        ),
        ("A=${B\n", (1, 3), f"line 1: {BAD_TEMPLATE}", 'line 1: Invalid template: "${B"'),
        # unquoted: at the `${`; quoted: at the opening quote (escapes shift the rest)
        ("A=ab${B\n", (1, 5), f"line 1: {BAD_TEMPLATE}", 'line 1: Invalid template: "ab${B"'),
        (
            'A="a\\tb${B"\n',
            (1, 3),
            f"line 1: {BAD_TEMPLATE}",
            'line 1: Invalid template: "a\\tb${B"',
        ),
    ],
)
def test_errors(text: str, where: tuple[int, int], message: str, peer: str | None) -> None:
    """portplan's message says what and where without quoting the text (it may hold a
    secret); compose-go's wording is kept as `peer_message`."""
    with pytest.raises(DotenvError) as info:
        parse_dotenv(text)
    error = info.value
    assert ((error.line, error.column), str(error)) == (where, message)
    assert error.peer_message == (peer or message)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A=b #c", {"A": "b"}),
        ("A=b#c", {"A": "b#c"}),
        ('A="b #c" # d', {"A": "b #c"}),
        ("A='$HOME \\n'", {"A": "$HOME \\n"}),
        ('A="\\$HOME \\t\\0101"', {"A": "$HOME \tA"}),
        ("A=$$HOME", {"A": "$HOME"}),
        ("A: x=y", {"A": "x=y"}),
        ("=empty", {"": "empty"}),
        ("export  A = 1 ", {"A": "1"}),
    ],
)
def test_values(text: str, expected: dict[str, str]) -> None:
    assert parse_dotenv(text).values == expected


def test_environment_wins_inside_the_file() -> None:
    dotenv = parse_dotenv("PORT=8080\nURL=http://h:${PORT}\n", {"PORT": "9000"}.get)
    assert dotenv.values == {"PORT": "8080", "URL": "http://h:9000"}


def test_file_wins_when_asked() -> None:
    dotenv = parse_dotenv("PORT=8080\nURL=:${PORT}\n", {"PORT": "9000"}.get, file_wins=True)
    assert dotenv.values["URL"] == ":8080"


def test_bare_key_comes_from_the_lookup() -> None:
    text = "HOME\nMISSING\n"
    assert parse_dotenv(text, {"HOME": "/root"}.get) == DotenvFile({"HOME": "/root"}, {"HOME": 1})


def test_raw_values_without_expansion() -> None:
    dotenv = parse_dotenv('A=${PORT:-80}\nB="$X\\$Y"\n', expand=False)
    assert dotenv.values == {"A": "${PORT:-80}", "B": "$X$Y"}


def test_environment_drops_keys_starting_with_a_digit() -> None:
    assert parse_dotenv("1A=x\nB=y\n").environment() == {"B": "y"}


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (False, {"PORT": "9000", "URL": ":9000", "NEW": "1"}),
        (True, {"PORT": "8080", "URL": ":8080", "NEW": "1"}),
    ],
)
def test_load_environment(override: bool, expected: dict[str, str]) -> None:
    text = "PORT=8080\nURL=:${PORT}\nNEW=1\n"
    environ = {"PORT": "9000"}
    assert load_environment(text, environ, override=override) == expected
    assert environ == {"PORT": "9000"}


def test_later_env_files_win() -> None:
    files = ["HOST=a\nPORT=1\n", "HOST=b\nURL=${HOST}:${PORT}\n"]
    assert parse_env_files(files) == {"HOST": "b", "PORT": "1", "URL": "b:1"}
