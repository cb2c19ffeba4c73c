"""Compose variable interpolation, exactly as compose-go's `template` package does it.

Supported: `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`,
`${VAR?error}`, `${VAR:+alternative}`, `${VAR+alternative}`, the `$$` escape and nested
templates inside defaults, alternatives and error messages.  As in compose-go:

- a `$` followed by neither a name, `{` nor `$` is left as it is (`a $ string`, `$}`);
- `${` not followed by a valid expression is an error (`${`, `${ }`, `${foo!}`);
- inside braces the *first* operator after the name applies (`${A?x-y}` is `?`);
- defaults, alternatives and error messages are evaluated lazily, only when used;
- a plain reference to an unset variable becomes `""` and is reported to `on_unset`
  (compose-go logs "The X variable is not set. Defaulting to a blank string.").

A lookup returns the variable's value, or None when it is unset ("" is set-but-empty).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from portplan.compose.errors import (
    TEMPLATE_RULE,
    CastError,
    ExpansionTooLargeError,
    InterpolationError,
    InterpolationPathError,
    InvalidTemplateError,
    MissingRequiredError,
)

__all__ = [
    "OPERATORS",
    "Cast",
    "Lookup",
    "OnUnset",
    "PathPattern",
    "Reference",
    "Text",
    "Variable",
    "extract_variables",
    "interpolate_tree",
    "operator_choice",
    "substitute",
    "tokenize",
]

Lookup = Callable[[str], "str | None"]
OnUnset = Callable[[str], None]
Cast = Callable[[str], object]
PathPattern = tuple[str, ...]

# compose-go's DefaultPattern.  The braced form is greedy up to the last `}` of the line;
# the real end of the expression is found by counting braces (see _closing_brace).
_PATTERN = re.compile(
    r"\$(?i:(?P<escaped>\$)|(?P<named>[_a-z][_a-z0-9]*)"
    r"|\{(?:(?P<braced>[_a-z][_a-z0-9]*(?::?[-+?].*)?)\}|(?P<invalid>)))"
)
_OPERATOR = re.compile(r":?[-+?]")
_NAME_PREFIX = re.compile(r"[A-Za-z0-9_]*")

#: The six operators, in compose-go's order of preference for equal positions.
OPERATORS = (":?", "?", ":-", "-", ":+", "+")

PATH_ANY = "*"
PATH_LIST = "[]"


@dataclass(frozen=True)
class Variable:
    """A variable used by a template (compose-go `template.Variable`)."""

    name: str
    default_value: str = ""
    presence_value: str = ""
    required: bool = False


@dataclass(frozen=True)
class Text:
    """A literal run of a tokenized template (`$$` already unescaped)."""

    text: str


@dataclass(frozen=True)
class Reference:
    """A `$NAME` or `${NAME<op><argument>}` reference of a tokenized template."""

    name: str
    operator: str | None
    argument: str
    raw: str


# -- substitution ---------------------------------------------------------------------


#: The most characters the variables of one value may expand to (1 MiB); more is an
#: ExpansionTooLargeError. Literal text is bounded by the file's own size.
MAX_EXPANDED = 1 << 20


@dataclass(frozen=True)
class _Context:
    lookup: Lookup
    on_unset: OnUnset | None
    spent: list[int] = field(default_factory=lambda: [0])  # characters of variables used

    def resolve(self, name: str) -> str:
        value = self.value(name)
        if value is None:
            if self.on_unset is not None:
                self.on_unset(name)
            return ""
        return value

    def value(self, name: str) -> str | None:
        """The variable's value (None when unset), counted against MAX_EXPANDED."""
        value = self.lookup(name)
        if value is not None:
            self.spent[0] += len(value)
            if self.spent[0] > MAX_EXPANDED:
                raise ExpansionTooLargeError(MAX_EXPANDED)
        return value


def substitute(template: str, lookup: Lookup, *, on_unset: OnUnset | None = None) -> str:
    """Substitute every variable of `template`; raise an `InterpolationError` subclass.

    >>> substitute("${HOST:-localhost}:$PORT", {"PORT": "8080"}.get)
    'localhost:8080'
    """
    return _substitute(template, _Context(lookup, on_unset))


def _substitute(template: str, ctx: _Context) -> str:
    if "$" not in template:
        return template
    return _PATTERN.sub(lambda match: _replace_at(match, template, ctx), template)


def _replace_at(match: re.Match[str], template: str, ctx: _Context) -> str:
    try:
        return _replace(match.group(), template, ctx)
    except InterpolationError as err:
        err.offset = match.start()  # the outermost reference's, as the levels unwind
        raise


def _replace(substring: str, template: str, ctx: _Context) -> str:
    head, rest = _split_at_closing_brace(substring)
    match = _PATTERN.match(head)
    assert match is not None  # head starts with the `$` the pattern matched
    if match.group("escaped"):
        return "$"
    named = match.group("named")
    if named:
        return ctx.resolve(named)
    braced = match.group("braced")
    if not braced:
        raise InvalidTemplateError(template)
    operator = operator_choice(braced)
    if operator is None:
        return ctx.resolve(braced)
    name, argument = braced.split(operator, 1)
    return _OPERATIONS[operator](name, argument, ctx) + _substitute(rest, ctx)


def _closing_brace(text: str) -> int:
    """Index of the `}` closing the first `{` of `text`, or -1 (compose-go's algorithm)."""
    depth = 0
    i = 0
    while i < len(text):
        char = text[i]
        if char == "}":
            depth -= 1
            if depth == 0:
                return i
        elif char == "{":
            depth += 1
            i += 1  # compose-go skips the character after each `{`
        i += 1
    return -1


def _split_at_closing_brace(text: str) -> tuple[str, str]:
    end = _closing_brace(text)
    if end == -1:
        return text, ""
    return text[: end + 1], text[end + 1 :]


def operator_choice(expression: str) -> str | None:
    """The operator that applies to the text inside `${...}`: the earliest one, or None."""
    match = _OPERATOR.search(expression)
    return match.group() if match else None


def _default_if_empty(name: str, argument: str, ctx: _Context) -> str:
    value = ctx.value(name)
    return value if value else _substitute(argument, ctx)


def _default_if_unset(name: str, argument: str, ctx: _Context) -> str:
    value = ctx.value(name)
    return _substitute(argument, ctx) if value is None else value


def _alternative_if_not_empty(name: str, argument: str, ctx: _Context) -> str:
    value = ctx.lookup(name)
    return _substitute(argument, ctx) if value else ""


def _alternative_if_set(name: str, argument: str, ctx: _Context) -> str:
    return "" if ctx.lookup(name) is None else _substitute(argument, ctx)


def _required_not_empty(name: str, argument: str, ctx: _Context) -> str:
    value = ctx.value(name)
    if not value:
        raise MissingRequiredError(name, _substitute(argument, ctx))
    return value


def _required_set(name: str, argument: str, ctx: _Context) -> str:
    value = ctx.value(name)
    if value is None:
        raise MissingRequiredError(name, _substitute(argument, ctx))
    return value


_OPERATIONS: dict[str, Callable[[str, str, _Context], str]] = {
    ":-": _default_if_empty,
    "-": _default_if_unset,
    ":+": _alternative_if_not_empty,
    "+": _alternative_if_set,
    ":?": _required_not_empty,
    "?": _required_set,
}


# -- tokens -----------------------------------------------------------------------------


def tokenize(template: str) -> list[Text | Reference]:
    """Split `template` into literal text and top-level references (arguments kept raw).

    >>> tokenize("http://${HOST:-localhost}:$PORT")  # doctest: +NORMALIZE_WHITESPACE
    [Text(text='http://'), Reference(name='HOST', operator=':-', argument='localhost',
     raw='${HOST:-localhost}'), Text(text=':'), Reference(name='PORT', operator=None,
     argument='', raw='$PORT')]
    """
    tokens: list[Text | Reference] = []
    pos = 0
    while (match := _PATTERN.search(template, pos)) is not None:
        _append_text(tokens, template[pos : match.start()])
        head, _ = _split_at_closing_brace(match.group())
        pos = match.start() + len(head)
        token = _token(head, template, match.start())
        if isinstance(token, Text):
            _append_text(tokens, token.text)
        else:
            tokens.append(token)
    _append_text(tokens, template[pos:])
    return tokens


def _token(head: str, template: str, offset: int) -> Text | Reference:
    match = _PATTERN.match(head)
    assert match is not None
    if match.group("escaped"):
        return Text("$")
    if match.group("named"):
        return Reference(match.group("named"), None, "", head)
    braced = match.group("braced")
    if not braced:
        raise InvalidTemplateError(template, offset)
    operator = operator_choice(braced)
    if operator is None:
        return Reference(braced, None, "", head)
    name, argument = braced.split(operator, 1)
    return Reference(name, operator, argument, head)


def _append_text(tokens: list[Text | Reference], text: str) -> None:
    if not text:
        return
    if tokens and isinstance(tokens[-1], Text):
        tokens[-1] = Text(tokens[-1].text + text)
    else:
        tokens.append(Text(text))


# -- variable extraction ----------------------------------------------------------------


def extract_variables(value: object) -> dict[str, Variable]:
    """Every variable used in the strings of `value` (compose-go `ExtractVariables`).

    Nested templates in defaults, alternatives and error messages count too.  A variable
    used several times is required if any use is, and keeps the first default and
    presence value it was given.
    """
    found: dict[str, Variable] = {}
    _extract_into(value, found)
    return found


def _extract_into(value: object, found: dict[str, Variable]) -> None:
    if isinstance(value, str):
        for variable in _extract_string(value):
            _combine(found, variable)
    elif isinstance(value, Mapping):
        for element in value.values():
            _extract_into(element, found)
    elif isinstance(value, list | tuple):
        for element in value:
            _extract_into(element, found)


def _combine(found: dict[str, Variable], new: Variable) -> None:
    old = found.get(new.name)
    if old is None:
        found[new.name] = new
        return
    found[new.name] = Variable(
        name=old.name,
        default_value=old.default_value or new.default_value,
        presence_value=old.presence_value or new.presence_value,
        required=old.required or new.required,
    )


def _extract_string(text: str) -> list[Variable]:
    variables: list[Variable] = []
    for match in _PATTERN.finditer(text):
        if match.group("escaped"):
            continue
        expression = match.group("named") or match.group("braced") or ""
        if not match.group("named"):
            whole = match.group()
            end = _closing_brace(whole)
            if end > 0:
                expression = whole[2:end]
                variables.extend(_extract_string(whole[end + 1 :]))
        variables.extend(_variables_of(expression))
    return variables


def _variables_of(expression: str) -> list[Variable]:
    prefix = _NAME_PREFIX.match(expression)
    end = prefix.end() if prefix else 0
    name, rest = expression[:end], expression[end:]
    if not name:  # an invalid template: substitute() is the one to report it
        return []
    leading = _OPERATOR.match(rest)
    if leading is None:
        return [Variable(name)]
    operator = leading.group()
    argument = rest[len(operator) :]
    variable = Variable(
        name=name,
        default_value=argument if operator in (":-", "-") else "",
        presence_value=argument if operator in (":+", "+") else "",
        required=operator in (":?", "?"),
    )
    return [variable, *_extract_string(argument)]


# -- config trees -----------------------------------------------------------------------


def interpolate_tree(
    tree: object,
    lookup: Lookup,
    *,
    casts: Mapping[PathPattern, Cast] | None = None,
    on_unset: OnUnset | None = None,
) -> object:
    """Substitute every string of a YAML-like tree; mapping keys are left alone.

    `casts` maps path patterns to conversions applied after substitution, as compose-go's
    `TypeCastMapping`: a pattern is a tuple of keys where `"*"` matches any key and `"[]"`
    any list item, e.g. `("services", "*", "ports", "[]", "target")`.  Errors name the
    dotted path, with compose-go's wording.
    """
    walker = _TreeWalker(_Context(lookup, on_unset), _index_casts(casts or {}))
    return walker.node(tree, ())


def _index_casts(
    casts: Mapping[PathPattern, Cast],
) -> dict[int, list[tuple[PathPattern, Cast]]]:
    by_length: dict[int, list[tuple[PathPattern, Cast]]] = {}
    for pattern, cast in casts.items():
        by_length.setdefault(len(pattern), []).append((pattern, cast))
    return by_length


def _matches(path: PathPattern, pattern: PathPattern) -> bool:
    return all(want in (PATH_ANY, part) for part, want in zip(path, pattern, strict=True))


@dataclass(frozen=True)
class _TreeWalker:
    ctx: _Context
    casts: dict[int, list[tuple[PathPattern, Cast]]]

    def node(self, value: object, path: PathPattern) -> object:
        if isinstance(value, str):
            return self.leaf(value, path)
        if isinstance(value, Mapping):
            return {key: self.node(item, (*path, str(key))) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.node(item, (*path, PATH_LIST)) for item in value]
        return value

    def leaf(self, value: str, path: PathPattern) -> object:
        try:
            text = _substitute(value, _Context(self.ctx.lookup, self.ctx.on_unset))
        except InterpolationError as err:
            raise _path_error(path, err) from err
        cast = self.cast_for(path)
        if cast is None:
            return text
        try:
            return cast(text)
        except ValueError as err:
            raise _cast_error(path, err) from err

    def cast_for(self, path: PathPattern) -> Cast | None:
        for pattern, cast in self.casts.get(len(path), ()):
            if _matches(path, pattern):
                return cast
        return None


def _path_error(path: Sequence[str], err: InterpolationError) -> InterpolationPathError:
    where = ".".join(path)
    if isinstance(err, InvalidTemplateError):
        message = f"invalid interpolation format for {where}: {TEMPLATE_RULE}"
        peer = (
            f"invalid interpolation format for {where}.\n"
            f"You may need to escape any $ with another $.\n{err.template}"
        )
    else:
        message = f"error while interpolating {where}: {err}"
        peer = f"error while interpolating {where}: {err.peer_message}"
    return InterpolationPathError(where, message, err, peer)


def _cast_error(path: Sequence[str], err: ValueError) -> InterpolationPathError:
    """A cast's error; only a `CastError`'s own message is shown (it quotes no value)."""
    where = ".".join(path)
    message = f"error while interpolating {where}: failed to cast to expected type"
    peer = f"{message}: {getattr(err, 'peer_message', err)}"
    if isinstance(err, CastError):
        message += f": {err}"
    return InterpolationPathError(where, message, err, peer)
