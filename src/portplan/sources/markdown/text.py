"""Text helpers of the Markdown source: repair, markup, names, exposure words, URLs.

Every helper that returns a line keeps its length, so an index into the result is an index
into the document's line (the column of an observation is that index plus one).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

from portplan.names import Url
from portplan.secretscan.text import mask_line
from portplan.sources.base import exposure_word

# --- broken encodings -----------------------------------------------------------------

_NON_ASCII_RUN: Final = re.compile(r"[^\x00-\x7f]+")
# Bytes that look like UTF-8 (a lead byte, then continuation bytes), possibly truncated:
# some single-byte codecs drop the bytes they cannot show (cp1254 has no 0x8F or 0x90).
_UTF8_SHAPE: Final = re.compile(rb"(?:[\x00-\x7f]|[\xc2-\xf4][\x80-\xbf]+)+")
# UTF-8 read as Windows-1252 ("âœ…"), as Mac Roman ("‚úÖ") and as Windows-1254 ("ğŸ“‹").
_MOJIBAKE_CODECS: Final = ("cp1252", "mac_roman", "cp1254")


@lru_cache(maxsize=4096)
def _repair_run(run: str) -> str:
    for codec in _MOJIBAKE_CODECS:
        try:
            raw = run.encode(codec)
        except UnicodeEncodeError:
            continue
        if _UTF8_SHAPE.fullmatch(raw):
            return raw.decode("utf-8", "replace")
    return run


def _padded_repair(match: re.Match[str]) -> str:
    run = match.group()
    fixed = _repair_run(run)
    return fixed + " " * (len(run) - len(fixed))


def repair(line: str) -> str:
    """`line` with UTF-8 mojibake ("â”œâ”€â”€", "‚Üí") turned back into what it was
    ("├──", "→"), padded with spaces so that every other character keeps its column.

    A run of non-ASCII characters is repaired only when its bytes in one of the usual
    single-byte codecs are shaped like UTF-8, which real accented words never are.
    """
    return line if line.isascii() else _NON_ASCII_RUN.sub(_padded_repair, line)


# --- Markdown markup ------------------------------------------------------------------

_LINK: Final = re.compile(r"!?\[([^\]\n]*)\]\([^)\n]*\)")
_MARKUP: Final = re.compile(
    r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>"
    r"|(?<!\w)__|__(?!\w)|(?<![\w*])\*(?=[^\s*])|(?<=[^\s*])\*(?![\w*])"
)
_LIST_MARKER: Final = re.compile(r"^\s*(?:>\s*)*(?:(?:[-*+]|\d{1,3}[.)])\s+(?:\[[ xX]\]\s+)?)?")


def _blank(match: re.Match[str]) -> str:
    return " " * len(match.group())


def _link_text(match: re.Match[str]) -> str:
    text = match.group(1)
    lead = match.start(1) - match.start()
    return " " * lead + text + " " * (len(match.group()) - lead - len(text))


def blank_markup(line: str) -> str:
    """`line` with emphasis, code spans, HTML tags and link targets replaced by spaces."""
    if "](" in line:
        line = _LINK.sub(_link_text, line)
    for mark in ("**", "~~", "`"):
        if mark in line:
            line = line.replace(mark, " " * len(mark))
    if "<" in line or "_" in line or "*" in line:
        line = _MARKUP.sub(_blank, line)
    return line


def blank_list_marker(line: str) -> str:
    """`line` with a leading list marker, checkbox or quote marker replaced by spaces."""
    found = _LIST_MARKER.match(line)
    return " " * found.end() + line[found.end() :] if found and found.end() else line


def first_nonblank(line: str) -> int:
    """Index of the first character that is not white space (len(line) if none)."""
    return len(line) - len(line.lstrip())


# --- secrets --------------------------------------------------------------------------


def redact(text: str) -> str:
    """`text` with its secrets masked by the one secret detector (`secretscan.text`): values
    of secret-named assignments, URL passwords, authorization values, credential formats."""
    return mask_line(text)


# --- display text ---------------------------------------------------------------------


_ALNUM: Final = re.compile(r"[^\W_]")
_LETTER: Final = re.compile(r"[^\W\d_]")


def _has_alnum(word: str) -> bool:
    return _ALNUM.search(word) is not None


def clean_text(text: str) -> str:
    """Text for a record: markup, emoji and mojibake gone, white space collapsed."""
    words = blank_markup(repair(text)).split()
    while words and not _has_alnum(words[0]):
        words.pop(0)
    while words and not _has_alnum(words[-1]):
        words.pop()
    return redact(" ".join(words)).strip(" :;,")


# --- names ----------------------------------------------------------------------------

_NAME_WORD: Final = re.compile(r"[\w&/+.'#-]+")
_STOPWORDS: Final = frozenset(
    {"a", "all", "an", "and", "are", "as", "at", "be", "been", "behind", "both", "by", "can"}
    | {"each", "every", "for", "from", "in", "into", "is", "must", "new", "no", "not", "of"}
    | {"on", "only", "or", "over", "per", "run", "runs", "see", "should", "than", "the"}
    | {"then", "to", "under", "use", "uses", "using", "via", "was", "were", "will", "with"}
    | {"within"}
)
# Words that label or qualify a number rather than name a service: "the default (8000)",
# "Default: 8000", "e.g. (8010)", "your custom port (9000)".
_LABEL_WORDS: Final = frozenset(
    {"default", "defaults", "default:", "e.g.", "e.g", "eg", "i.e.", "i.e", "ie", "example",
     "examples", "usually", "typically", "normally", "standard", "custom",
     "current", "currently", "original", "some", "any", "this", "that",
     "these", "those", "its", "their", "your", "our", "my", "value", "values", "setting",
     "here", "there", "now", "instead", "also", "something", "else"}
)  # fmt: skip
_GENERIC: Final = frozenset(
    {"port", "ports", "range", "ranges", "total", "service", "services", "server", "client"}
)
MAX_NAME_WORDS: Final = 6
_NAME_WINDOW: Final = 240  # characters before a parenthesis searched for its name
_TOKEN: Final = re.compile(r"\S+")


def _name_word(token: str) -> bool:
    if token == "&":
        return True
    return bool(_NAME_WORD.fullmatch(token)) and _has_alnum(token)


def valid_name(name: str) -> bool:
    """A plausible service name or label: letters, not a generic word, not too long."""
    words = name.split()
    if not words or len(words) > MAX_NAME_WORDS or not name[0].isalpha():
        return False
    if name.lower() in _GENERIC or all(w.lower() in _STOPWORDS | _LABEL_WORDS for w in words):
        return False
    return sum(ch.isalnum() for ch in name) >= 2


def name_before(line: str, end: int) -> tuple[str, int] | None:
    """The name that ends just before `end`: the words back to a delimiter (punctuation,
    an arrow, a stopword such as "the"), and the index where it starts."""
    window = max(0, end - _NAME_WINDOW)
    if window:
        window = line.find(" ", window) + 1 or end
    tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(line, window, end)]
    spans: list[tuple[int, int]] = []
    for k, j in reversed(tokens[-MAX_NAME_WORDS:]):
        token = line[k:j]
        if not _name_word(token) or token.lower() in _STOPWORDS:
            break
        spans.append((k, j))
    while spans and not line[spans[-1][0]].isalpha():
        spans.pop()
    while spans and line[spans[0][0] : spans[0][1]] == "&":
        spans.pop(0)
    if not spans or not _LETTER.search(line, *spans[0]):  # not "PyPy 7.3.0 (1502)"
        return None
    while len(spans) > 1 and _verb_before_name(line[slice(*spans[-1])], line[spans[-2][0]]):
        spans.pop()  # "monitoring Elasticsearch (9200)": the name is Elasticsearch
    start, stop = spans[-1][0], spans[0][1]
    name = " ".join(line[start:stop].split())
    return (name, start) if valid_name(name) else None


def _verb_before_name(word: str, next_first: str) -> bool:
    """A lower-case gerund or label word before a capitalised word ("monitoring Kibana",
    "default Nginx"): it says what is done with the name, it is not part of it."""
    lowered = word.lower()
    if word != lowered or not next_first.isupper():
        return False
    return lowered.endswith("ing") or lowered in _LABEL_WORDS


def name_after(line: str, start: int) -> tuple[str, int] | None:
    """The name that starts at or after `start`: words up to punctuation or a parenthesis."""
    words: list[tuple[int, int]] = []
    for token in _TOKEN.finditer(line, start):
        text = token.group()
        if text.startswith("(") or len(words) == MAX_NAME_WORDS:
            break
        bare = text.rstrip(",:;.)")
        if not bare or not _name_word(bare) or bare.lower() in _STOPWORDS:
            break
        words.append((token.start(), token.start() + len(bare)))
        if bare != text:
            break
    if not words:
        return None
    first, last = words[0][0], words[-1][1]
    name = " ".join(line[first:last].split())
    return (name, first) if valid_name(name) else None


# --- words about ports ----------------------------------------------------------------

PORT_KINDS: Final = {
    "http": "http",
    "https": "https",
    "grpc": "grpc",
    "grpcs": "grpc",
    "ws": "ws",
    "wss": "ws",
    "websocket": "ws",
    "websockets": "ws",
    "metrics": "metrics",
    "admin": "admin",
    "debug": "debug",
}
TRANSPORTS: Final = frozenset({"tcp", "udp", "sctp"})


def kind_of(text: str) -> str | None:
    """The port name a word gives ("gRPC" -> "grpc", "WebSocket" -> "ws"), if any."""
    return PORT_KINDS.get(re.sub(r"[^a-z]", "", text.lower()))


def app_protocol_name(app_protocol: str | None) -> str | None:
    """The port name an application protocol gives (compose `app_protocol`, Kubernetes
    `appProtocol`): "HTTP" and "kubernetes.io/h2c" -> http, "gRPC" -> grpc,
    "kubernetes.io/ws" -> ws; any other, itself as a name ("postgresql")."""
    if not app_protocol:
        return None
    word = app_protocol.lower().removeprefix("kubernetes.io/")
    if word == "h2c":  # HTTP/2 over cleartext
        return "http"
    return kind_of(word) or re.sub(r"[^a-z0-9]+", "-", word).strip("-") or None


# The exposure a phrase states: the one table of exposure words every source uses.
exposure_of: Final = exposure_word


_RESERVED: Final = re.compile(r"\breserved?\b", re.I)
_FUTURE: Final = re.compile(r"\bavailable\b", re.I)
PORT_WORD: Final = re.compile(r"\bports?\b", re.I)


def is_reserved(label: str) -> bool:
    return bool(_RESERVED.search(label))


def is_future(label: str) -> bool:
    return bool(_FUTURE.search(label))


def yearlike(number: int) -> bool:
    """1900-2100: in prose such a number is a year far more often than a port."""
    return 1900 <= number <= 2100


# --- URLs -----------------------------------------------------------------------------


def url_port_name(url: Url) -> str | None:
    """The port name an URL implies: "metrics" for a /metrics path, else by scheme."""
    if url.path.rstrip("/").endswith("/metrics"):
        return "metrics"
    return PORT_KINDS.get(url.scheme)
