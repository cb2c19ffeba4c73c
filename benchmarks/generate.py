"""Time `portplan generate` as a whole process on generated topologies.

    python benchmarks/generate.py [--sizes 30,1000,5000] [--runs 5] [--targets all,env,...]
                                  [--baseline SRC]

--baseline SRC times another version of portplan beside this one, run for run: SRC is the
`src` folder of that version (`git archive REV src | tar -x -C /tmp/before`, then
`--baseline /tmp/before/src`), put first on the children's PYTHONPATH.

The topologies are those of `check_speed.py` (2-3 ports per service, a dependency each,
metrics on every third). For each size, the median wall time (Python start-up included) of:

- every target into an empty folder (all files written), and each target alone;
- every target again into that folder (all up to date: nothing written);
- `--check` on that folder (nothing written; exit 0);
- `portplan check` on the same file, for reference (load and validation only).

Then, in-process (best of --runs, CPU time), the YAML of the Kubernetes, compose and
Prometheus targets written three ways: PyYAML's pure-Python SafeDumper, its CSafeDumper
(libyaml's emitter behind PyYAML's Python representer), and portplan's own emitter.

The output folder is emptied before each timed run, outside the timing; the package is
byte-compiled first (the environment may set PYTHONDONTWRITEBYTECODE).
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from subprocess import PIPE

from check_speed import generate

TARGETS = ("env", "compose", "kubernetes", "prometheus", "docs", "graph")


def median_ms(
    command: list[str],
    runs: int,
    before: Callable[[], None] | None = None,
    envs: Sequence[dict[str, str] | None] = (None,),
) -> list[float]:
    """The median wall time of `command` under each environment, interleaved run by run."""
    times: list[list[float]] = [[] for _ in envs]
    for _ in range(runs):
        for env, found in zip(envs, times, strict=True):
            if before is not None:
                before()
            start = time.perf_counter()
            done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=PIPE)
            found.append((time.perf_counter() - start) * 1000)
            if done.returncode not in (0, 1):
                sys.exit(f"{' '.join(command)}: exit {done.returncode}: {done.stderr.decode()}")
    return [statistics.median(found) for found in times]


def _versions(baseline: str | None) -> dict[str, dict[str, str] | None]:
    """Version name -> the children's environment (None: this one), byte-compiled."""
    spec = importlib.util.find_spec("portplan")
    folders = list(spec.submodule_search_locations or []) if spec else []
    versions: dict[str, dict[str, str] | None] = {}
    if baseline:
        path = os.pathsep.join(p for p in (baseline, os.environ.get("PYTHONPATH")) if p)
        versions["before"] = {**os.environ, "PYTHONPATH": path}
        folders.append(os.path.join(baseline, "portplan"))
    versions["after" if baseline else "ms"] = None
    for folder in folders:
        compileall.compile_dir(folder, quiet=1)
    return versions


def _emptied(folder: Path) -> Callable[[], None]:
    def empty() -> None:
        shutil.rmtree(folder, ignore_errors=True)

    return empty


def _documents(path: Path) -> list[object]:
    from portplan.plan.loader import load
    from portplan.render import compose, kubernetes

    topology = load(str(path))
    found: list[object] = [compose.compose_sections(topology)]
    for service in topology.services.values():
        found.append(kubernetes.k8s_service(topology, service))
        found.append(kubernetes.deployment_patch(topology, service))
    return found


def _emitters(path: Path, runs: int) -> dict[str, float]:
    """CPU ms to write the documents of `path` with each emitter (best of `runs`)."""
    import yaml

    from portplan.render._yaml import Quoted, dump_yaml

    documents = _documents(path)
    options = {"sort_keys": False, "default_flow_style": False, "width": 10_000}

    def pyyaml(base: type[yaml.SafeDumper]) -> Callable[[object], str]:
        class Dumper(base):  # type: ignore[valid-type,misc]
            def ignore_aliases(self, data: object) -> bool:
                return True

        def quoted(dumper: yaml.SafeDumper, value: Quoted) -> yaml.Node:
            return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style='"')

        Dumper.add_representer(Quoted, quoted)
        return lambda data: yaml.dump(data, Dumper=Dumper, **options)

    ways = {
        "PyYAML SafeDumper": pyyaml(yaml.SafeDumper),
        "PyYAML CSafeDumper": pyyaml(yaml.CSafeDumper),
        "portplan render._yaml": dump_yaml,
    }
    figures = {}
    for name, dump in ways.items():
        times = []
        for _ in range(runs):
            start = time.process_time()
            for document in documents:
                dump(document)
            times.append((time.process_time() - start) * 1000)
        figures[name] = min(times)
    return figures


def _row(label: str, figures: Sequence[float | str]) -> str:
    cells = "".join(f"{f:>14,.0f}" if isinstance(f, float) else f"{f:>14}" for f in figures)
    return f"{label:<34}{cells}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="30,1000,5000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--targets", default="all," + ",".join(TARGETS))
    parser.add_argument("--baseline", default=None)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    versions = _versions(args.baseline)
    envs = list(versions.values())
    portplan = [sys.executable, "-m", "portplan"]
    print(f"python -c pass: {median_ms([sys.executable, '-c', 'pass'], args.runs)[0]:.0f} ms")
    print(f"median ms of {args.runs} runs, whole processes")
    print(_row("services", [f"{size:,} {name}" for size in sizes for name in versions]))
    rows: dict[str, list[float]] = {}
    emitters: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            plan = Path(tmp) / f"portplan-{size}.yaml"
            plan.write_text(generate(size))
            out = Path(tmp) / f"out-{size}"
            base = [*portplan, "generate", "-f", str(plan), "--out", str(out)]
            commands = {
                f"generate {target} (new)": (base if target == "all" else [*base, target])
                for target in args.targets.split(",")
            }
            for label, command in commands.items():
                rows.setdefault(label, []).extend(
                    median_ms(command, args.runs, _emptied(out), envs)
                )
            subprocess.run(base, stdout=subprocess.DEVNULL, check=True)
            again = {
                "generate all (up to date)": base,
                "generate all --check": [*base, "--check"],
                "check (reference)": [*portplan, "check", "-f", str(plan)],
            }
            for label, command in again.items():
                rows.setdefault(label, []).extend(median_ms(command, args.runs, envs=envs))
            for name, figure in _emitters(plan, args.runs).items():
                emitters.setdefault(name, []).append(figure)
    for label, figures in rows.items():
        print(_row(label, figures))
    print("\nYAML of kubernetes + compose, in-process CPU ms (best of --runs), this version")
    print(_row("services", [f"{size:,}" for size in sizes]))
    for label, figures in emitters.items():
        print(_row(label, figures))


if __name__ == "__main__":
    main()
