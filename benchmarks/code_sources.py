"""Benchmark: `portplan reconcile` of a monorepo of 200 services with their code.

    python benchmarks/code_sources.py [--services 200] [--files 100] [--runs 5] [--keep DIR]

Generates one compose file (each service built from its own folder, one port published)
and, per service, a Dockerfile, one program that states its port (Python, Go, Node, Rust or
a Spring `application.yml`, in turn) and about --files other source files of the same
languages that state none (models, handlers, utilities; a few mention `port` in a comment
or a name, so the content gate cannot rule every one out), plus a `tests/` folder and a
vendored `vendor/` folder: about 20,000 source files in all. Every tenth service has the
classic bug: compose publishes 8087:8087 while the program reads HTTP_PORT, unset, and
defaults to 8088; the run must find exactly those (PP218).

Times `portplan reconcile --format json` as a whole process (median of --runs) beside
`rg -c PORT` over the same tree (the floor for reading the files at all), and prints the
ratio. Without ripgrep (`apt-get install -y ripgrep`) it says so and times portplan alone.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
PORTPLAN = str(BIN / "portplan")
LANGUAGES = ("python", "go", "node", "rust", "spring")

PROGRAMS = {
    "python": (
        "main.py",
        'import os\nimport uvicorn\n\nPORT = int(os.getenv("{var}", "{default}"))\n\n'
        'if __name__ == "__main__":\n    uvicorn.run("main:app", host="0.0.0.0", port=PORT)\n',
    ),
    "go": (
        "main.go",
        'package main\n\nimport "net/http"\n\nfunc main() {{\n'
        '\tport := getEnv("{var}", "{default}")\n\thttp.ListenAndServe(":"+port, nil)\n}}\n',
    ),
    "node": (
        "src/server.js",
        "const express = require('express');\nconst app = express();\n"
        "const port = process.env.{var} || {default};\napp.listen(port);\n",
    ),
    "rust": (
        "src/main.rs",
        'fn main() {{\n    let port = std::env::var("{var}")\n'
        '        .unwrap_or_else(|_| "{default}".to_string());\n}}\n',
    ),
    "spring": (
        "src/main/resources/application.yml",
        "spring:\n  application:\n    name: svc\nserver:\n  port: ${{{var}:{default}}}\n",
    ),
}
FILLER = {
    "python": (
        ".py",
        "from dataclasses import dataclass\n\n\n@dataclass\nclass Record{n}:\n"
        "    name: str\n    size: int = {n}\n\n\ndef total_{n}(items):\n"
        "    return sum(item.size for item in items)\n",
    ),
    "go": (
        ".go",
        "package model\n\n// Record{n} is one row; its Port field is the client's.\n"
        "type Record{n} struct {{\n\tName string\n\tPort int\n}}\n\n"
        "func Sum{n}(rs []Record{n}) int {{\n\tt := 0\n\tfor _, r := range rs {{\n"
        "\t\tt += r.Port\n\t}}\n\treturn t\n}}\n",
    ),
    "node": (
        ".js",
        "export function handler{n}(req, res) {{\n  const body = req.body || {{}};\n"
        "  res.json({{ ok: true, n: {n}, keys: Object.keys(body) }});\n}}\n",
    ),
    "rust": (
        ".rs",
        "pub struct Record{n} {{\n    pub name: String,\n    pub size: u32,\n}}\n\n"
        "pub fn total_{n}(items: &[Record{n}]) -> u32 {{\n"
        "    items.iter().map(|i| i.size).sum()\n}}\n",
    ),
    "spring": (
        ".java",
        "package com.acme;\n\npublic class Record{n} {{\n    private String name;\n"
        "    public String getName() {{ return name; }}\n}}\n",
    ),
}


def generate(root: Path, services: int, files: int) -> tuple[int, set[str]]:
    """Write the tree; the number of files written and the services with the bug."""
    compose = ["services:"]
    written, buggy = 1, set()
    for index in range(services):
        name, language = f"svc-{index:03d}", LANGUAGES[index % len(LANGUAGES)]
        home = root / "services" / name
        bug = index % 10 == 3
        published = 8087 if bug else 8000 + index
        default = 8088 if bug else published
        compose += [
            f"  {name}:",
            f"    build: ./services/{name}",
            "    ports:",
            f'      - "{10000 + index if not bug else 20000 + index}:{published}"',
        ]
        if bug:
            buggy.add(name)
        relative, text = PROGRAMS[language]
        written += _write(home / relative, text.format(var="HTTP_PORT", default=default))
        written += _write(home / "Dockerfile", f"FROM {language}\nEXPOSE {published}\n")
        suffix, filler = FILLER[language]
        for n in range(files - 8):
            folder = ("models", "handlers", "util", "internal/store")[n % 4]
            written += _write(home / folder / f"file_{n}{suffix}", filler.format(n=n))
        for n in range(3):
            test = PROGRAMS[language][1].format(var="PORT", default=1)
            written += _write(home / "tests" / f"case_{n}{suffix}", test)
            written += _write(home / "vendor" / "lib" / f"dep_{n}{suffix}", test)
    written += _write(root / "compose.yaml", "\n".join(compose) + "\n") - 1
    return written, buggy


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _write(path: Path, text: str) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return 1


def _time(command: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    return time.perf_counter() - start, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=200)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="generate into DIR and keep it")
    options = parser.parse_args()
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(PORTPLAN).parents[1])])
    root = options.keep or Path(tempfile.mkdtemp(prefix="portplan-code-"))
    try:
        _run(root, options)
    finally:
        if options.keep is None:
            shutil.rmtree(root, ignore_errors=True)


def _run(root: Path, options: argparse.Namespace) -> None:
    written, buggy = generate(root, options.services, options.files)
    print(f"tree: {root} ({options.services} services, {written} files)")
    print(f"load average before: {_load()}")
    rg = shutil.which("rg")
    reconcile = [PORTPLAN, "reconcile", "--no-plan", "--format", "json", "."]
    ours, theirs = [], []
    for _ in range(options.runs):
        seconds, done = _time(reconcile, root)
        ours.append(seconds)
        if rg is not None:
            theirs.append(_time([rg, "-c", "PORT", "."], root)[0])
    findings = json.loads(done.stdout)["findings"]
    found = {f["service"] for f in findings if f["rule"] == "PP218"}
    others = sorted({f["rule"] for f in findings if f["rule"] != "PP218"})
    verdict = "ok" if found == buggy else "MISMATCH"
    print(f"PP218 findings: {len(found)} (expected {len(buggy)}: {verdict})")
    if others:
        print(f"other rules that fired: {', '.join(others)}")
    print(f"load average after: {_load()} (on {os.cpu_count()} cores)")
    median = statistics.median(ours)
    print(f"portplan reconcile: {median:.2f} s (median of {options.runs}; goal < 3 s)")
    if rg is None:
        print("rg -c PORT: ripgrep is not installed (apt-get install -y ripgrep); no ratio")
        return
    floor = statistics.median(theirs)
    print(f"rg -c PORT:         {floor:.2f} s (median of {options.runs})")
    print(f"ratio: {median / floor:.1f}x")


if __name__ == "__main__":
    main()
