"""A command line with its secrets masked, for the live commands (`ports`, `who`, `status`,
`kill`): values of secret-named flags (`--db-password x`, `--pass x`, `--dbPassword=x`,
`--secret:x`), assignments (`DB_PASSWORD=x`), secrets inside an argument
(`--jdbc=...?password=x`, `--header "X-Api-Key: x"`, `postgres://u:x@h/d`,
`Authorization: Bearer x`) and credential formats (`ghp_...`) anywhere (`secretscan.text`).
"""

from __future__ import annotations

import re

from portplan.secretscan import detect
from portplan.secretscan.text import MASK, mask_line

_FLAG = re.compile(r"-+([A-Za-z][\w.\-]*)")
# --name=value and --name:value, the whole argument
_OPTION = re.compile(r"(-+[A-Za-z][\w.\-]*)([=:])(.*)", re.DOTALL)
_AUTH_WORDS = frozenset({"authorization:", "bearer"})
_USER_FLAGS = frozenset({"-u", "--user", "--proxy-user"})  # curl's user:password
_AUTH_SCHEMES = frozenset({"bearer", "basic", "token", "digest"})


def mask_argv(args: tuple[str, ...]) -> tuple[str, ...]:
    """`args` with their secrets masked (MASK in place of each secret)."""
    masked: list[str] = []
    pending = ""  # "secret": the next argument is a secret; "user": a user[:password]
    for arg in args:
        if pending and arg and not arg.startswith("-"):
            # "Authorization:" "Bearer" "x": the scheme stays
            if pending == "secret" and arg.lower() in _AUTH_SCHEMES:
                masked.append(arg)
                continue
            masked.append(_next_value(arg, pending))
            pending = ""
            continue
        flag = _FLAG.fullmatch(arg)
        pending = _pending(arg, flag)
        masked.append(arg if flag else mask_arg(arg))
    return tuple(masked)


def mask_arg(arg: str) -> str:
    """One argument with its secrets masked."""
    option = _OPTION.fullmatch(arg)
    if option is not None and detect.secret_name(option[1]) and detect.literal(option[3]):
        return f"{option[1]}{option[2]}{MASK}"
    return mask_line(arg)


def _pending(arg: str, flag: re.Match[str] | None) -> str:
    if (flag is not None and detect.secret_name(flag[1])) or arg.lower() in _AUTH_WORDS:
        return "secret"
    return "user" if arg in _USER_FLAGS else ""


def _next_value(arg: str, pending: str) -> str:
    """The value after a secret flag masked (after `-u`, only the password of user:password)."""
    if pending == "user":
        user, colon, password = arg.partition(":")
        return f"{user}:{MASK}" if colon and detect.literal(password) else arg
    return MASK if detect.literal(arg) else mask_line(arg)
