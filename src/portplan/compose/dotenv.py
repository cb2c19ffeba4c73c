"""`.env` files in the compose-go dialect, with the line of every key.

What compose-go's `dotenv` parser accepts, this accepts, with the same values:

- `KEY=value`, `KEY = value`, `export KEY=value` and YAML-style `KEY: value`;
- keys of letters, digits, `_ . - [ ]` (any Unicode letter or digit);
- unquoted values run to the end of the line, lose a ` #comment` and trailing spaces, and
  are interpolated (`$X`, `${X:-default}`, ...);
- single-quoted values are literal (only `\\'` is unescaped) and may span lines;
- double-quoted values may span lines, unescape `\\a \\b \\f \\n \\r \\t \\v \\\\ \\" \\$`
  and octal `\\0NNN`, then are interpolated;
- a bare `KEY` line takes its value from the lookup, or is left out;
- a leading UTF-8 BOM is skipped; `#` lines and blank lines are ignored.

Interpolation resolves `${X}` from the lookup (the OS environment) first and then from
keys defined earlier in the file, as compose-go does (`file_wins=True` reverses that).

Three deliberate differences from compose-go, all about errors only:
- a last line without a final newline means what it means with one (compose-go reads a
  final `KEY` or `KEY value` without newline as the value of an empty key);
- an unterminated quote is reported at the line where the value starts (compose-go
  reports the last line of the file);
- no message quotes the file's text, which may hold a secret: each says what is wrong and
  where (`unterminated double-quoted value (opened at column 9)`); compose-go's wording is
  kept as the error's `peer_message`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from portplan.compose._text import go_quote
from portplan.compose.errors import DotenvError, InterpolationError
from portplan.compose.interpolate import Lookup, substitute

__all__ = ["DotenvFile", "load_environment", "parse_dotenv", "parse_env_files"]

_BOM = "\ufeff"
# Go's isSpace (parser.go): white space that is not a line break.
_SPACE = "\t\v\f\r \x85\xa0"
# Go's unicode.IsSpace.
_UNICODE_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(
    map(chr, range(0x2000, 0x200B))
)

_NON_SPACE = re.compile(f"[^{_UNICODE_SPACE}]")
_EXPORT = re.compile(r"export[\t\n\f\r ]+")
_SPACES = re.compile(f"[{_SPACE}]*")
_KEY = re.compile(rf"(?:[{_SPACE}_.\-\[\]]++|[^\W_]++)*+")  # runs: no state per character
_QUOTED = {
    '"': re.compile(r'"((?:[^"\\]++|\\.)*)"', re.DOTALL),
    "'": re.compile(r"'((?:[^'\\]++|\\.)*)'", re.DOTALL),
}
_ESCAPED_CHAR = re.compile(r"\\(.)", re.DOTALL)
_ESCAPE_SEQUENCE = re.compile(r"\\(?:[abcfnrtv$\"\\]|0[0-9]{0,3})")
_SIMPLE_ESCAPES = {
    "\\a": "\a",
    "\\b": "\b",
    "\\f": "\f",
    "\\n": "\n",
    "\\r": "\r",
    "\\t": "\t",
    "\\v": "\v",
    "\\\\": "\\",
    '\\"': '"',
}
_OCTAL = re.compile(r"[0-7]{3}")


@dataclass(frozen=True)
class DotenvFile:
    """The keys of a `.env` file: their values and the 1-based line defining each."""

    values: dict[str, str] = field(hash=False)
    lines: dict[str, int] = field(hash=False)

    def environment(self) -> dict[str, str]:
        """The values compose-go's `dotenv.Read` returns: keys starting with a digit dropped."""
        return {key: value for key, value in self.values.items() if not key[:1].isdigit()}


def parse_dotenv(
    text: str,
    lookup: Lookup | None = None,
    *,
    expand: bool = True,
    file_wins: bool = False,
    fallback: Lookup | None = None,
) -> DotenvFile:
    """Parse `.env` text; raise DotenvError (with `.line`) on the first invalid statement.

    `lookup` resolves bare keys and `${X}` references (None: nothing is set outside the
    file); `fallback` is consulted last, after the file's own keys (e.g. the values of
    env files read before this one).  `expand=False` keeps `$X` and `${X}` as written.
    """
    resolvers = _Resolvers(lookup or _no_lookup, fallback or _no_lookup, file_wins)
    parser = _Parser(_normalise(text), resolvers, expand)
    parser.run()
    return DotenvFile(parser.values, parser.lines)


def parse_env_files(
    texts: Sequence[str], current_env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Read several env files into one map, later files winning (compose-go `GetEnvFromFile`).

    References resolve from `current_env` first, then from the keys defined earlier in the
    same file, then from the files read before.
    """
    lookup = dict(current_env or {}).get
    merged: dict[str, str] = {}
    for text in texts:
        merged.update(parse_dotenv(text, lookup, fallback=merged.get).values)
    return merged


def load_environment(
    text: str, environ: Mapping[str, str], *, override: bool = False
) -> dict[str, str]:
    """The environment after loading `text` into `environ` (which is not modified).

    Without `override` the environment wins, for its own keys and inside `${X}` (what
    docker compose does with a project's `.env`); with it, the file wins for both.
    """
    dotenv = parse_dotenv(text, environ.get, file_wins=override)
    result = dict(environ)
    for key, value in dotenv.values.items():
        if override or key not in environ:
            result[key] = value
    return result


def _no_lookup(_: str) -> str | None:
    return None


def _normalise(text: str) -> str:
    if text.startswith(_BOM):
        text = text[len(_BOM) :]
    return text if text.endswith("\n") else text + "\n"


@dataclass(frozen=True)
class _Resolvers:
    lookup: Lookup
    fallback: Lookup
    file_wins: bool

    def resolve(self, name: str, values: Mapping[str, str]) -> str | None:
        if self.file_wins and name in values:
            return values[name]
        value = self.lookup(name)
        if value is None:
            value = values.get(name)
        return self.fallback(name) if value is None else value


class _Parser:
    def __init__(self, text: str, resolvers: _Resolvers, expand: bool) -> None:
        self.text = text
        self.resolvers = resolvers
        self.lookup = resolvers.lookup
        self.expand = expand
        self.values: dict[str, str] = {}
        self.lines: dict[str, int] = {}
        self._line = 1
        self._line_pos = 0

    def run(self) -> None:
        pos = self._statement_start(0)
        while pos >= 0:
            pos = self._statement_start(self._statement(pos))

    def line_at(self, pos: int) -> int:
        self._line += self.text.count("\n", self._line_pos, pos)
        self._line_pos = pos
        return self._line

    def _statement_start(self, pos: int) -> int:
        while (match := _NON_SPACE.search(self.text, pos)) is not None:
            if self.text[match.start()] != "#":
                return match.start()
            pos = self.text.find("\n", match.start())
            if pos < 0:
                break
        return -1

    def _statement(self, pos: int) -> int:
        line = self.line_at(pos)
        if _EXPORT.match(self.text, pos):
            pos = self._skip_spaces(pos + len("export"))
        key, terminator, after = self._key(pos, line)
        if terminator == "\n":
            inherited = self.lookup(key)
            if inherited is not None:
                self._set(key, inherited, line)
            return after
        value, after = self._value(after, line)
        self._set(key, value, line)
        return after

    def _skip_spaces(self, pos: int) -> int:
        match = _SPACES.match(self.text, pos)
        return match.end() if match else pos

    def _key(self, pos: int, line: int) -> tuple[str, str, int]:
        match = _KEY.match(self.text, pos)
        end = match.end() if match else pos
        terminator = self.text[end]
        if terminator not in "=:\n":
            first_line = self.text[pos : self.text.find("\n", pos)]
            peer = f"unexpected character {go_quote(terminator)} in variable name"
            raise DotenvError(
                line,
                "unexpected character in a variable name (expected letters, digits, "
                '"_", ".", "-", "[" or "]", then "=" or ":")',
                self.column(end),
                f"{peer} {go_quote(first_line)}",
            )
        key = self.text[pos:end].rstrip(_UNICODE_SPACE)
        if " " in key:
            raise DotenvError(line, "key cannot contain a space", self.column(pos))
        return key, terminator, self._skip_spaces(end + 1)

    def _value(self, pos: int, line: int) -> tuple[str, int]:
        quote = self.text[pos]
        if quote in _QUOTED:
            return self._quoted(pos, quote, line)
        end = self.text.find("\n", pos)
        raw = self.text[pos:end].split(" #", 1)[0].rstrip(_UNICODE_SPACE)
        return self._expand(raw, line, pos), end + 1

    def _quoted(self, pos: int, quote: str, line: int) -> tuple[str, int]:
        match = _QUOTED[quote].match(self.text, pos)
        if match is None:
            column = self.column(pos)
            kind = "double" if quote == '"' else "single"
            what = f"unterminated {kind}-quoted value (opened at column {column})"
            opened = self.text[pos : self.text.find("\n", pos)]
            peer = f"unterminated quoted value {opened}"
            raise DotenvError(line, what, column, peer)
        value = match.group(1)
        if "\\" in value:
            value = _ESCAPED_CHAR.sub(_unescape_quote(quote), value)
        if quote == '"':
            value = self._expand(_expand_escapes(value, self.expand), line, pos, quoted=True)
        return value, match.end()

    def _expand(self, value: str, line: int, pos: int, quoted: bool = False) -> str:
        if not self.expand or "$" not in value:
            return value
        try:
            return substitute(value, self._resolve)
        except InterpolationError as err:
            # An unquoted value is the text from `pos` on; a quoted one was unescaped.
            column = self.column(pos) if quoted else self.column(pos + err.offset)
            raise DotenvError(line, str(err), column, err.peer_message) from err

    def column(self, pos: int) -> int:
        """The 1-based column of `pos` in its line."""
        return pos - self.text.rfind("\n", 0, pos)

    def _resolve(self, name: str) -> str | None:
        return self.resolvers.resolve(name, self.values)

    def _set(self, key: str, value: str, line: int) -> None:
        self.values[key] = value
        self.lines[key] = line


def _unescape_quote(quote: str) -> Callable[[re.Match[str]], str]:
    def unescape(match: re.Match[str]) -> str:
        return quote if match.group(1) == quote else match.group()

    return unescape


def _expand_escapes(value: str, interpolating: bool) -> str:
    if "\\" not in value:
        return value
    dollar = "$$" if interpolating else "$"
    return _ESCAPE_SEQUENCE.sub(lambda match: _escape(match.group(), dollar), value)


def _escape(sequence: str, dollar: str) -> str:
    if sequence == "\\$":
        return dollar
    if sequence.startswith("\\0"):
        digits = sequence[2:]
        if _OCTAL.fullmatch(digits) and int(digits, 8) <= 0xFF:
            return chr(int(digits, 8))
        return sequence
    return _SIMPLE_ESCAPES.get(sequence, sequence)
