"""What a secret looks like: the patterns of rule PP111, and the masking of command lines.

Small on purpose (only `re`): `portplan ports` masks every command line it shows, on a path
that imports neither typing nor click (tests/test_cli_entry.py).
"""

from __future__ import annotations

import re

SECRET_NAME = re.compile(
    r"(?:^|_)(SECRET|SECRET_KEY|TOKEN|PASSWORD|PASSWD|PASS|PWD|KEY|API_KEY|PRIVATE_KEY|"
    r"CREDENTIALS?)$|(?:^|_)(?:SECRET|PASSWORD|PASSWD)_",  # also SECRET_KEY_BASE
    re.IGNORECASE,
)
# scheme://user:PASSWORD@ (group 1: the password)
_URL_USERINFO = r"[a-z][a-z0-9+.\-]*://[^/@:\s]*:([^/@\s]+)@"
URL_PASSWORD = re.compile("^" + _URL_USERINFO, re.IGNORECASE)
# Not literal secrets: references, files, switches and empty values.
REFERENCE = re.compile(r"^(\$\{?[A-Za-z_]|/run/secrets/|file:|vault:|secretref:)")
NOT_A_SECRET = frozenset({"", "true", "false", "yes", "no", "none", "null", "0", "1"})
# Placeholders of example and template files (`.env.example`, documentation): a value that
# asks to be replaced is not a secret. "<your-api-key>", "your_token_here", "changeme",
# "xxxxxxxx", "********", "...", "REPLACE_ME", "TODO".
PLACEHOLDER = re.compile(
    r"^(?:<[^<>]*>|\[[^\[\]]*\]|\{\{[^{}]*\}\}|(?:x+|\*+|\.+|-+|#+)"
    r"|(?:your|my|enter|insert|put|add)[-_ ].*|.*[-_ ]here"
    r"|change[-_ ]?(?:me|it|this)|replace[-_ ]?(?:me|this)?|placeholder|example|dummy|todo|tbd"
    r"|fixme|redacted)$",
    re.IGNORECASE,
)

MASK = "***"
_URL_ANYWHERE = re.compile(r"(?<![a-z0-9+.\-])" + _URL_USERINFO, re.IGNORECASE)
# KEY=value, --key=value, -Dapp.db.password=value: inside an argument too ("sh -c 'A=b c'")
_ASSIGNMENT = re.compile(r"(?<![^\s'\"])(-*)([A-Za-z_][\w.\-]*)=('[^']*'|\"[^\"]*\"|[^\s'\"]+)")
_FLAG = re.compile(r"-+([A-Za-z][\w.\-]*)")
# "Authorization: Bearer x", "Authorization: x", "Bearer x" (group 1 kept, group 2 masked)
_AUTHORIZATION = re.compile(
    r"(\bauthorization:\s*(?:(?:bearer|basic|token|digest)\s+)?|\bbearer\s+)([^\s'\"]+)",
    re.IGNORECASE,
)
_AUTH_WORDS = frozenset({"authorization:", "bearer"})  # a value follows as the next argument
_AUTH_SCHEMES = frozenset({"bearer", "basic", "token", "digest"})


def secret_name(name: str) -> bool:
    """True when a variable, key or flag name (DB_PASSWORD, --db-password,
    -Dapp.password) names a secret, by the PP111 pattern."""
    return SECRET_NAME.search(re.sub(r"[.\-]", "_", name.lstrip("-"))) is not None


def literal(value: str) -> bool:
    """True unless the value is a reference, a placeholder or a switch (not a secret)."""
    text = value.strip()
    return not (text.lower() in NOT_A_SECRET or REFERENCE.match(text) or PLACEHOLDER.match(text))


def mask_argv(args: tuple[str, ...]) -> tuple[str, ...]:
    """A command line with its secrets masked: values of secret-named flags (`--db-password
    x`, `--db-password=x`) and assignments (`DB_PASSWORD=x`), URL passwords
    (`postgres://u:***@h/d`) and authorization values (`Authorization: Bearer ***`)."""
    masked: list[str] = []
    hide_next = False
    for arg in args:
        if hide_next and arg and not arg.startswith("-"):
            if arg.lower() in _AUTH_SCHEMES:  # "Authorization:" "Bearer" "x"
                masked.append(arg)
                continue
            masked.append(MASK if literal(arg) else arg)
            hide_next = False
            continue
        flag = _FLAG.fullmatch(arg)
        hide_next = (flag is not None and secret_name(flag[1])) or arg.lower() in _AUTH_WORDS
        masked.append(arg if flag else mask_text(arg))
    return tuple(masked)


def mask_text(text: str) -> str:
    """`text` with the secrets `mask_argv` masks inside one argument masked."""
    if "=" in text:
        text = _ASSIGNMENT.sub(_assignment, text)
    if "://" in text:
        text = _URL_ANYWHERE.sub(_url, text)
    return _AUTHORIZATION.sub(_authorization, text)


def _assignment(match: re.Match[str]) -> str:
    dashes, name, value = match.groups()
    if secret_name(name) and literal(value.strip("'\"")):
        return f"{dashes}{name}={MASK}"
    return match[0]


def _url(match: re.Match[str]) -> str:
    password = match[1]
    if not literal(password):
        return match[0]
    start, end = match.span(1)
    return match[0][: start - match.start()] + MASK + match[0][end - match.start() :]


def _authorization(match: re.Match[str]) -> str:
    return match[1] + (MASK if literal(match[2]) else match[2])
