"""Time YAML loaders side by side on generated topology files; prints Markdown tables.

    python benchmarks/yaml_loaders.py [--sizes 30,100,1000,5000,20000] [--runs 5]
                                      [--extra-path DIR]

In-process: best of --runs after one warm-up, in a fresh interpreter per loader and size,
with the garbage collector as the loader leaves it unless the row says "gc off".
Whole process: median wall time of a fresh `python -c ...` that imports the loader and
loads the file, with bytecode caches. Candidates that are not installed are skipped;
install the Rust-based ones beside the project, without touching its environment, with
`pip install --target DIR yaml-rs fastyaml-rs ryaml pyyaml-rs` and pass `--extra-path DIR`.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Loader = Callable[[str], Any]


def generate(services: int, seed: int = 1) -> str:
    """Topology-like YAML: scalar fields, 2-3 named ports (short and long form), depends_on."""
    rnd = random.Random(seed)
    lines = [
        "system: bench",
        "ranges:",
        "  http:    {ports: 8080-8099, kind: http}",
        "  grpc:    {ports: 50051-50070, kind: grpc}",
        "reserved:",
        "  - {ports: 8004-8006, reason: future expansion}",
        "services:",
    ]
    for i in range(services):
        base = 10000 + 3 * i
        lines += [
            f"  svc-{i:05d}:",
            f"    purpose: service number {i}",
            f"    technology: {rnd.choice(['go', 'python', 'rust', 'java'])}",
            f"    exposure: {rnd.choice(['public', 'internal'])}",
            "    ports:",
            f"      http: {base}",
            f"      grpc: {{port: {base + 1}, env: GRPC_PORT, health: {{grpc: true}}}}",
        ]
        if i % 2:
            lines.append(f"      metrics: {{port: {base + 2}, env: METRICS_PORT}}")
        deps = [f"svc-{rnd.randrange(services):05d}" for _ in range(rnd.randint(1, 3))]
        if i % 3 == 0:
            lines.append("    depends_on:")
            lines += [f"      - {dep}" for dep in deps]
        else:
            lines.append(f"    depends_on: [{', '.join(deps)}]")
    return "\n".join(lines) + "\n"


# --- the candidates -------------------------------------------------------------------


def _pyyaml_plain(text: str) -> Any:
    import yaml

    return yaml.load(text, Loader=yaml.CSafeLoader)


def _pyyaml_compose_walk(text: str) -> Any:
    """PyYAML's C composer, its nodes walked into YMap/YSeq with marks (no schema work)."""
    import yaml

    from portplan.yamlio.tree import Mark, new_map, new_seq

    def walk(node: Any) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return node.value
        start = node.start_mark
        if isinstance(node, yaml.MappingNode):
            ymap = new_map(Mark(start.line + 1, start.column + 1))
            for key, value in node.value:
                ymap[key.value] = walk(value)
                ymap.key_marks[key.value] = Mark(key.start_mark.line + 1, key.start_mark.column + 1)
                vmark = value.start_mark
                ymap.value_marks[key.value] = Mark(vmark.line + 1, vmark.column + 1)
            return ymap
        yseq = new_seq(Mark(start.line + 1, start.column + 1))
        for item in node.value:
            yseq.append(walk(item))
            yseq.item_marks.append(Mark(item.start_mark.line + 1, item.start_mark.column + 1))
        return yseq

    return walk(yaml.compose(text, Loader=yaml.CSafeLoader))


def _events(text: str) -> Any:
    from portplan.yamlio.events import parse_documents

    return parse_documents(text, "bench.yaml", True)


def _fast(text: str) -> Any:
    from portplan.yamlio.fast import parse

    result = parse(text, "bench.yaml", True)
    assert result is not None, "the fast parser handed the file over"
    return result


def _portplan(text: str) -> Any:
    from portplan.yamlio.load import load

    return load(text, "bench.yaml")


def _ryml_parse(text: str) -> Any:
    import ryml

    return ryml.parse_in_arena(text.encode())


def _ryml_walk(text: str) -> Any:
    """rapidyaml's tree walked into dicts through its SWIG API (it exposes no node positions)."""
    import ryml

    tree = ryml.parse_in_arena(text.encode())
    none = ryml.NONE

    def walk(node: int) -> Any:
        if tree.is_map(node):
            result = {}
            child = tree.first_child(node)
            while child != none:
                result[bytes(tree.key(child)).decode()] = walk(child)
                child = tree.next_sibling(child)
            return result
        if tree.is_seq(node):
            items = []
            child = tree.first_child(node)
            while child != none:
                items.append(walk(child))
                child = tree.next_sibling(child)
            return items
        return bytes(tree.val(node)).decode()

    return walk(tree.root_id())


def _module_call(module: str, function: str) -> Loader:
    def load(text: str) -> Any:
        return getattr(importlib.import_module(module), function)(text)

    return load


# name, loader, keeps marks, gc off while loading, whole-process snippet ({path} is the file)
CANDIDATES: list[tuple[str, Loader, str, bool, str]] = [
    (
        "PyYAML CSafeLoader `yaml.load`",
        _pyyaml_plain,
        "no",
        False,
        "import yaml; yaml.load(open({path!r}).read(), Loader=yaml.CSafeLoader)",
    ),
    ("same, gc off", _pyyaml_plain, "no", True, ""),
    ("PyYAML C compose, nodes walked to YMap (gc off)", _pyyaml_compose_walk, "yes", True, ""),
    ("libyaml events -> YMap: portplan complete path (gc off)", _events, "yes", True, ""),
    ("portplan fast line parser (gc off)", _fast, "yes", True, ""),
    (
        "**`portplan.yamlio.load.load`** (fast path, gc off inside)",
        _portplan,
        "yes",
        False,
        "from portplan.yamlio.load import load_file; load_file({path!r})",
    ),
    (
        "rapidyaml 0.15 `parse_in_arena` only (no Python objects)",
        _ryml_parse,
        "no API",
        False,
        "import ryml; ryml.parse_in_arena(open({path!r}, 'rb').read())",
    ),
    ("rapidyaml parse + walk to dicts (gc off)", _ryml_walk, "no API", True, ""),
    (
        "yaml-rs 0.1.6 `loads`",
        _module_call("yaml_rs", "loads"),
        "no",
        False,
        "import yaml_rs; yaml_rs.loads(open({path!r}).read())",
    ),
    (
        "fastyaml-rs 0.7 `safe_load`",
        _module_call("fast_yaml", "safe_load"),
        "errors only",
        False,
        "",
    ),
    ("pyyaml-rs 0.1 `safe_load`", _module_call("pyyaml_rs", "safe_load"), "no", False, ""),
    ("ryaml 0.5 `loads`", _module_call("ryaml", "loads"), "no", False, ""),
]


def best_ms(loader: Loader, text: str, runs: int, gc_off: bool) -> float:
    loader(text)  # warm-up: imports, caches
    times = []
    for _ in range(runs):
        if gc_off:
            gc.disable()
        start = time.perf_counter()
        result = loader(text)
        elapsed = time.perf_counter() - start
        gc.enable()
        del result
        gc.collect()
        times.append(elapsed * 1000)
    return min(times)


def isolated_best_ms(index: int, size: int, runs: int, extra_path: str | None) -> float:
    """best_ms in a fresh interpreter, so one loader's garbage does not slow the next."""
    command = [sys.executable, __file__, "--one", f"{index},{size}", "--runs", str(runs)]
    if extra_path:
        command += ["--extra-path", extra_path]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return float(done.stdout)


def interleaved(text: str, rounds: int) -> dict[str, tuple[float, float]]:
    """(min, median) ms of the loaders that keep marks, taking turns in one process."""
    loaders = {name: loader for name, loader, marks, _, _ in CANDIDATES if marks == "yes"}
    times: dict[str, list[float]] = {name: [] for name in loaders}
    for loader in loaders.values():
        loader(text)
    for _ in range(rounds):
        for name, loader in loaders.items():
            gc.collect()
            gc.disable()
            start = time.perf_counter()
            result = loader(text)
            times[name].append((time.perf_counter() - start) * 1000)
            gc.enable()
            del result
    return {name: (min(found), statistics.median(found)) for name, found in times.items()}


def process_ms(code: str, runs: int, extra_path: str | None) -> float:
    prefix = f"import sys; sys.path.append({extra_path!r}); " if extra_path else ""
    command = [sys.executable, "-c", prefix + code]
    # As installed: with bytecode caches (a session may set PYTHONDONTWRITEBYTECODE).
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(command, check=True, env=env)  # warm the caches and fail loudly
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, env=env)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def available(loader: Loader) -> bool:
    try:
        loader("a: 1\n")
    except ImportError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="30,100,1000,5000,20000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--extra-path", help="a folder with more candidates (pip --target)")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: "candidate,size"
    args = parser.parse_args()
    if args.extra_path:
        sys.path.append(args.extra_path)
    if args.one:
        index, size = (int(part) for part in args.one.split(","))
        _, loader, _, gc_off, _ = CANDIDATES[index]
        print(best_ms(loader, generate(size), args.runs, gc_off))
        return
    sizes = [int(size) for size in args.sizes.split(",")]
    texts = {size: generate(size) for size in sizes}
    header = "| loader | marks | " + " | ".join(f"{size:,}" for size in sizes) + " |"
    rule = "|---|---|" + "---:|" * len(sizes)
    print(f"Python {sys.version.split()[0]}; file sizes: ", end="")
    print(
        ", ".join(f"{size:,} services {len(text) / 1024:,.0f} KiB" for size, text in texts.items())
    )
    print("\nIn-process, best of runs (ms)\n")
    print(header + "\n" + rule)
    for index, (name, loader, marks, _, _) in enumerate(CANDIDATES):
        if available(loader):
            cells = [
                f"{isolated_best_ms(index, size, args.runs, args.extra_path):,.1f}"
                for size in sizes
            ]
            print(f"| {name} | {marks} | " + " | ".join(cells) + " |")
    rounds = max(args.runs, 9)
    print(
        f"\nLoaders that keep marks, taking turns in one process: min / median of {rounds} (ms)\n"
    )
    print("| loader | " + " | ".join(f"{size:,}" for size in sizes) + " |")
    print("|---|" + "---:|" * len(sizes))
    results = {size: interleaved(texts[size], rounds) for size in sizes}
    for name in results[sizes[0]]:
        cells = [f"{results[size][name][0]:,.0f} / {results[size][name][1]:,.0f}" for size in sizes]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("\nWhole process, median wall time (ms), start-up and imports included\n")
    print(header + "\n" + rule)
    with tempfile.TemporaryDirectory() as folder:
        paths = {size: Path(folder) / f"topology-{size}.yaml" for size in sizes}
        for size, path in paths.items():
            path.write_text(texts[size])
        rows = [("`python -c pass`", "pass", "-")]
        rows += [("`import portplan.yamlio.load`", "import portplan.yamlio.load", "-")]
        rows += [("`import yaml`", "import yaml", "-")]
        rows += [
            (name, code, marks)
            for name, loader, marks, _, code in CANDIDATES
            if code and available(loader)
        ]
        for name, code, marks in rows:
            cells = [
                f"{process_ms(code.format(path=str(paths[size])), args.runs, args.extra_path):,.0f}"
                for size in sizes
            ]
            print(f"| {name} | {marks} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
