"""The test install is locked: every dependency pyproject.toml names is pinned in constraints.txt."""

from __future__ import annotations

import re
import tomllib

from tests.conftest import EXAMPLES

ROOT = EXAMPLES.parent


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        pinned = re.match(r"([A-Za-z0-9_.-]+)==([^\s;]+)", line)
        if pinned:
            pins[_canonical(pinned.group(1))] = pinned.group(2)
    return pins


def test_every_dependency_and_extra_is_pinned() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        wanted += extra
    names = {_canonical(re.split(r"[<>=!~;\[ ]", spec, maxsplit=1)[0]) for spec in wanted}
    pins = _pins()
    assert sorted(names - pins.keys()) == []


def test_pins_are_exact_versions() -> None:
    for name, version in _pins().items():
        assert re.fullmatch(r"[0-9][0-9A-Za-z.+!-]*", version), name
