"""A line of free text with its secrets masked: the values of secret-named assignments
(`DB_PASSWORD=...`, `--db-password=...`, `api_key: ...`, `?password=...`), URL passwords
(`postgres://u:***@h`), keys used as a URL's user (a Sentry DSN), authorization values
(`Bearer ***`) and credential formats anywhere (`ghp_...`, `AKIA...`).

Linear in the line: every pattern starts at the start of a word and is bounded, so a long
line without any secret is read once (benchmarks/secrets_masking.py).
"""

from __future__ import annotations

import re

from portplan.secretscan import detect

MASK = "***"


def mask_line(text: str) -> str:
    """`text` with every secret `detect` finds inside a value masked."""
    if "@" in text:
        text = detect.URL_USERINFO.sub(_userinfo, text)
    if "=" in text or ":" in text:
        text = _ASSIGNED.sub(_assigned, text)
    if "earer" in text or "uthorization" in text:
        text = _AUTHORIZATION.sub(_authorization, text)
    return detect._FORMAT.sub(MASK, text)


def mask_names(text: str) -> str:
    """A message with the secrets a name inside it may hold masked: URL passwords and keys
    (a service keyed `postgres://u:pw@h/d`) and credential formats. Unlike `mask_line` it
    leaves `NAME: text` alone: a message's own words follow a breadcrumb's colon."""
    if "@" in text:
        text = detect.URL_USERINFO.sub(_userinfo, text)
    return detect._FORMAT.sub(MASK, text)


# NAME=V / NAME: V / NAME:V (a quoted value masked whole, quotes and all)
_ASSIGNED = re.compile(
    r"(?<![\w.\-])(-{0,2}[A-Za-z_][\w.\-]{0,80})(\s{0,3}[=:]\s{0,3})"
    r"('[^'\n]*'|\"[^\"\n]*\"|`[^`\n]*`|[^\s'\"`;&,|]+)"
)
_AUTHORIZATION = re.compile(
    r"((?<![\w\-])(?:(?:proxy-)?authorization:\s*(?:(?:bearer|basic|token|digest)\s+)?"
    r"|bearer\s+))([^\s'\",;|]+)",
    re.IGNORECASE,
)


def _userinfo(match: re.Match[str]) -> str:
    user, password = match.group(1), match.group(2)
    if password is not None:
        if not detect.literal(password):
            return match.group()
        start, end = match.span(2)
    else:
        if not user or (detect.credential_format(user) is None and not detect.high_entropy(user)):
            return match.group()
        start, end = match.span(1)
    offset = match.start()
    return match.group()[: start - offset] + MASK + match.group()[end - offset :]


def _assigned(match: re.Match[str]) -> str:
    name, separator, value = match.groups()
    if separator.strip() == ":" and value.startswith("//"):
        return match.group()  # a URL's scheme
    if not detect.secret_name(name) or not detect.literal(value.strip("\"'`")):
        return match.group()
    return f"{name}{separator}{MASK}"


def _authorization(match: re.Match[str]) -> str:
    return match.group(1) + (MASK if detect.literal(match.group(2)) else match.group(2))
