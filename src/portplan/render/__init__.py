"""Renderers: one module per target, each a pure function of the topology.

`render(topology, options) -> list[Artifact]` never touches the disk; `portplan.render.generate`
plans every artifact first and then checks or writes them all at once.
"""

from __future__ import annotations

import gc
import importlib
import shlex
from collections.abc import Callable
from dataclasses import dataclass

from portplan.errors import UsageError
from portplan.model import Topology


@dataclass(frozen=True, slots=True)
class Artifact:
    """A generated file: its path (relative to the output folder unless absolute) and text.

    `merged_services` is set for a file of the user's that portplan merged into (a compose
    file): the services whose sections portplan wrote (None for a file portplan writes
    whole), and `written` the healthcheck words it wrote there.
    """

    path: str
    text: str
    merged_services: frozenset[str] | None = None
    written: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Options:
    """What a renderer needs besides the topology.

    `source` names the plan in headers; `env` the overlay applied; `out` the folder
    written to (both in the regenerate command); `compose_base` an
    existing compose file (path, text) to merge the port sections into instead of writing
    an override file.
    """

    source: str = "portplan.yaml"
    env: str | None = None
    compose_base: tuple[str, str] | None = None
    out: str | None = None

    def regenerate(self, target: str) -> str:
        """The command that regenerates a target's artifacts (with its --out and --env)."""
        out = f" --out {shlex.quote(self.out)}" if self.out not in (None, ".") else ""
        env = f" --env {self.env}" if self.env else ""
        return f"portplan generate {target} -f {self.source}{out}{env}"


Renderer = Callable[[Topology, Options], list[Artifact]]

# target name -> module under portplan.render defining `render`
TARGETS: dict[str, str] = {
    "env": "env",
    "compose": "compose",
    "kubernetes": "kubernetes",
    "prometheus": "prometheus",
    "docs": "docs",
    "graph": "graph",
}


def get(name: str) -> Renderer:
    """The renderer of a target; UsageError for an unknown name."""
    module_name = TARGETS.get(name)
    if module_name is None:
        known = ", ".join(TARGETS)
        raise UsageError(f"unknown target {name!r}; expected one of {known}")
    module = importlib.import_module(f"portplan.render.{module_name}")
    renderer: Renderer = module.render
    return renderer


def render(topology: Topology, targets: list[str], options: Options) -> list[Artifact]:
    """Every artifact of the targets (all targets when none is named), in a stable order."""
    renderers = [get(name) for name in targets or TARGETS]
    artifacts: list[Artifact] = []
    # Rendering makes many short-lived containers and no cycles: the collector would only
    # walk the topology again and again (a tenth of the time on 5,000 services).
    collecting = gc.isenabled()
    gc.disable()
    try:
        for renderer in renderers:
            artifacts.extend(renderer(topology, options))
    finally:
        if collecting:
            gc.enable()
    return artifacts
