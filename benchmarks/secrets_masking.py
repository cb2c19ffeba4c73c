"""Time the secret masking on long inputs that were quadratic, at 10 KB, 100 KB and 1 MB.

    python benchmarks/secrets_masking.py [--sizes 10000,100000,1000000]

Prints, for each input shape, the time at each size and the growth from one size to the
next (about 10x per 10x of input is linear; the `--check` masking of a 200 KB Markdown line
of one long word took 46 s before: about 100x per 10x). In-process, one run each: the
figures are the masking alone, not a process start-up.

Inputs: a Markdown line of one long word, of letters followed by `+` (a URL scheme that never
ends), of many `a=b` assignments, of many table cells, of many URLs with passwords, a long
`.env` value, a YAML flow mapping of many quoted values holding `}`, the command line of one
long argument, and the detector on one long value.
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import Callable

from portplan.render import Artifact
from portplan.render._diff_mask import masked, text_line
from portplan.secretscan.argv import mask_argv
from portplan.secretscan.detect import secret


def _flow(size: int) -> str:
    items = ", ".join(f'K{i}: "${{V{i}}}"' for i in range(size // 14))
    return "services:\n  api:\n    environment: {" + items + "}\n"


def _yaml(text: str) -> object:
    return masked(text, "k8s.yaml", Artifact("k8s.yaml", text))


SHAPES: dict[str, tuple[Callable[[int], str], Callable[[str], object]]] = {
    "markdown line, one word": (lambda n: "a" * n + "\n", text_line),
    "markdown line, scheme run": (lambda n: "ab+" * (n // 3) + "\n", text_line),
    "markdown line, assignments": (lambda n: "a=b " * (n // 4) + "\n", text_line),
    "markdown line, table cells": (lambda n: "| TOKEN " * (n // 8) + "|\n", text_line),
    "markdown line, URL passwords": (lambda n: "x://u:p@h " * (n // 10) + "\n", text_line),
    ".env value": (
        lambda n: "DB_PASSWORD=" + "a" * n + "\n",
        lambda t: masked(t, ".env", Artifact(".env", t)),
    ),
    "YAML flow mapping": (_flow, _yaml),
    "command line, one argument": (
        lambda n: "--x=" + "a:" * (n // 2),
        lambda t: mask_argv(("app", t)),
    ),
    "detector, one value": (
        lambda n: "postgres://u:" + "p" * n + "@db",
        lambda t: secret("URL", t),
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    sizes = [int(size) for size in parser.parse_args().sizes.split(",")]
    print(f"{'input':32}" + "".join(f"{size:>12,}" for size in sizes) + "   growth per step")
    for name, (make, run) in SHAPES.items():
        times = []
        for size in sizes:
            text = make(size)
            start = time.perf_counter()
            run(text)
            times.append(time.perf_counter() - start)
        growth = ", ".join(f"{b / a:.1f}x" for a, b in itertools.pairwise(times) if a)
        print(f"{name:32}" + "".join(f"{t:>11.3f}s" for t in times) + f"   {growth}")


if __name__ == "__main__":
    main()
