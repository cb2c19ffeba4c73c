"""Texts masked for a `--check` diff, so that no secret a file holds reaches the output.

Both sides of a diff are masked alike, so a line that did not change is masked the same way
on both and the diff still shows only what changed.

- YAML that portplan writes whole (the override file, Kubernetes, Prometheus): every value
  stays but those a secret test flags (`yamlio.redact.plain_values`: `secret_kind` of the
  key, of the `name` beside a `value`, or of NAME in a `NAME=value` list item); comments are
  masked, the header portplan writes is kept.
- A compose file portplan merged into (the user's): every value is masked but the `ports`,
  `expose`, `networks` and `healthcheck` settings of the services portplan merged (a
  healthcheck's test only where it is what portplan wrote).
- `.env` files: the value of a secret-named variable (or one holding a password in a URL).
- Markdown and other text: what the secret detector finds inside a line
  (`secretscan.text.mask_line`: `NAME=value` / `NAME: value` with a secret name, passwords
  and keys in URLs, authorization values, credential formats), and a table cell after a
  cell naming a secret variable.

A YAML file that cannot be parsed is masked whole, line by line. Every step is linear in
the text (benchmarks/secrets_masking.py).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from typing import Any, Final

from portplan.errors import InputError
from portplan.render import Artifact
from portplan.secretscan import detect
from portplan.secretscan.text import mask_line
from portplan.yamlio import load as yamlload
from portplan.yamlio.redact import MASK, plain_values, redact
from portplan.yamlio.tree import Mark, YMap, YSeq, new_seq

_OWNED: Final = ("ports", "expose", "networks", "healthcheck")
_ENV_LINE: Final = re.compile(
    r"^(\s*(?:export\s+)?)([A-Za-z_][A-Za-z0-9_.\-]*)(\s*=\s*)(.*?)(\s*)$"
)
_QUOTES: Final = "\"'`"


def masked(text: str, path: str, artifact: Artifact) -> str:
    """`text` (either side of the diff of `artifact`) with its secrets masked."""
    lower = path.lower()
    if lower.endswith((".yaml", ".yml")):
        return _yaml(text, path, artifact)
    if lower.endswith(".env") or "/.env" in lower or lower.startswith(".env"):
        return "".join(_env_line(line) for line in text.splitlines(keepends=True))
    return "".join(text_line(line) for line in text.splitlines(keepends=True))


# --- YAML ---------------------------------------------------------------------------------


def _yaml(text: str, path: str, artifact: Artifact) -> str:
    try:
        documents = yamlload.load_all(text, path)
    except InputError:
        return "".join(_masked_line(line) for line in text.splitlines(keepends=True))
    root = new_seq(Mark(0, 0))
    root.extend(documents)
    if artifact.merged_services is None:
        keep = [mark for document in documents for mark in plain_values(document)]
        header = {line for line in artifact.text.splitlines()[:2] if line.startswith("#")}
    else:
        keep = list(_merged_values(documents, artifact.merged_services, artifact.written))
        header = set()
    result = redact(text, root, keep)
    if not header:
        return result
    lines = [
        original if original in header else line
        for original, line in zip(text.split("\n"), result.split("\n"), strict=True)
    ]
    return "\n".join(lines)


def _merged_values(
    documents: list[Any], services: Collection[str], written: Collection[str]
) -> Iterator[Mark]:
    """The marks of the port settings of the merged services."""
    for document in documents:
        found = document.get("services") if isinstance(document, YMap) else None
        if not isinstance(found, YMap):
            continue
        for name in services:
            service = found.get(name)
            if not isinstance(service, YMap):
                continue
            for key in _OWNED:
                value = service.get(key)
                if key == "healthcheck" and isinstance(value, YMap):
                    yield from _health_values(value, written)
                elif isinstance(value, YMap | YSeq):
                    yield from plain_values(value, key)
                elif key in service.value_marks and (
                    value is None or detect.secret(key, str(value)) is None
                ):
                    yield service.value_marks[key]


def _health_values(health: YMap, written: Collection[str]) -> Iterator[Mark]:
    for key, value in health.items():
        if key != "test" and not isinstance(value, YMap | YSeq):
            yield health.value_marks[key]
        elif isinstance(value, YSeq):
            yield from (m for v, m in zip(value, value.item_marks, strict=True) if v in written)
        elif value in written:
            yield health.value_marks[key]


def _masked_line(line: str) -> str:
    body = line.rstrip("\r\n")
    if not body.strip():
        return line
    indent = body[: len(body) - len(body.lstrip())]
    return indent + MASK + line[len(body) :]


# --- env and text -------------------------------------------------------------------------


def _env_line(line: str) -> str:
    """`NAME=value` with the value masked when secret (a password in a URL: the password)."""
    line = text_line(line)
    body = line.rstrip("\r\n")
    match = _ENV_LINE.match(body)
    if match is None or body.lstrip().startswith("#"):
        return line
    head, name, sep, value, tail = match.groups()
    if detect.secret(name, value.strip(_QUOTES)) is None:
        return line
    return f"{head}{name}{sep}{MASK}{tail}{line[len(body) :]}"


def text_line(line: str) -> str:
    """A line of text with its secrets (`secretscan.text.mask_line`) and secret table cells
    masked."""
    line = mask_line(line)
    if line.lstrip().startswith("|"):
        line = _table_row(line)
    return line


def _table_row(line: str) -> str:
    cells = line.split("|")
    for index in range(1, len(cells) - 1):
        name = cells[index - 1].strip().strip(_QUOTES + "*")
        value = cells[index].strip().strip(_QUOTES)
        if name and detect.secret(name, value) is not None:
            cells[index] = f" {MASK} "
    return "|".join(cells)
