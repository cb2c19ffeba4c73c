"""The package's import graph: no cycle between modules, and the layers of docs/architecture.md.

Every import of a portplan module counts, wherever it is written (module level, inside a
function, under `if TYPE_CHECKING:`): a lazy import still ties two modules together.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import portplan

PACKAGE = Path(portplan.__file__).parent


def modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package under `root`."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = [root.name, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imported(name: str, path: Path, known: Mapping[str, Path]) -> set[str]:
    """The modules of the package that module `name` (at `path`) imports."""
    package = name.split(".")[0]
    here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                stem = here[: len(here) - node.level + 1]
                base = ".".join([*stem, base] if base else stem)
            # `from a import b` imports the module a.b when there is one, else a
            targets.update(
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            )
    return {_owner(t, known) for t in targets if t.split(".")[0] == package} - {name, ""}


def _owner(target: str, known: Mapping[str, Path]) -> str:
    while target and target not in known:
        target = target.rpartition(".")[0]
    return target


def graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    known = modules(root)
    return {name: imported(name, path, known) for name, path in known.items()}


def cycles(edges: Mapping[str, set[str]]) -> list[list[str]]:
    """One cycle (a -> b -> ... -> a) per strongly connected group of modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return [_one_cycle(group, edges) for group in groups]


def _one_cycle(group: list[str], edges: Mapping[str, set[str]]) -> list[str]:
    """A path through `group` from its first module back to it."""
    start, members = group[0], set(group)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        node = frontier.pop(0)
        for nxt in sorted(edges[node] & members):
            if nxt == start:
                return [*paths[node], start]
            if nxt not in paths:
                paths[nxt] = [*paths[node], nxt]
                frontier.append(nxt)
    return group  # unreachable for a strongly connected group


def _importers(edges: Mapping[str, set[str]], target: str) -> Iterator[str]:
    for name, targets in edges.items():
        if any(t == target or t.startswith(target + ".") for t in targets):
            yield name


def test_no_import_cycle() -> None:
    found = cycles(graph())
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)


def test_the_library_never_imports_the_cli() -> None:
    edges = graph()
    outside = {
        name
        for name in _importers(edges, "portplan.cli")
        if not (name == "portplan.cli" or name.startswith("portplan.cli."))
    }
    # _entry is the console-script shim: plain `ports`/`who` without click, else the CLI
    assert outside == {"portplan._entry"}


def test_the_model_imports_nothing_of_portplan_but_errors() -> None:
    assert graph()["portplan.model"] <= {"portplan.errors"}


def test_a_planted_cycle_is_caught(tmp_path: Path) -> None:
    root = tmp_path / "pkg"
    (root / "sub").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "sub" / "__init__.py").write_text("")
    (root / "a.py").write_text("from pkg.sub import b\n")
    (root / "sub" / "b.py").write_text("def f():\n    from .c import g\n")
    (root / "sub" / "c.py").write_text("import pkg.a\n")
    (root / "d.py").write_text("from pkg import a\n")
    assert cycles(graph(root)) == [["pkg.a", "pkg.sub.b", "pkg.sub.c", "pkg.a"]]
