"""Fuzzing the readers with hypothesis: plans and compose projects built from the shapes
real files have, then cut and salted with the characters parsers trip on (`{}[],:#"'*&!`,
CR, NUL, `$`). Whatever comes in, every command run on them exits 0, 1 or 2; on exit 2 it
says so in one `portplan: error:` line; no traceback, no crash log; a case ends within a
generous budget of time and memory; and the secret planted under secret names appears in
no output.

The CLI runs in-process (`portplan.cli.main`, output captured), so hundreds of cases take
seconds; a sample also runs as real processes under a memory cap."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from portplan.cli import main

SECRET = "Zq7planted9Xv"
BUDGET_SECONDS = 30.0  # per command: generous; the slowest case here takes well under 1 s
BUDGET_BYTES = 256 << 20  # Python allocations per command (tracemalloc peak)
SALT = [*"{}[],:#\"'*&!|>%@`?-$ \t\r\n\0\\", "${", "}}", "\ufeff", "---\n", "\u2028"]
NAMES = ["web", "api", "db", "token-engine", "Web", "x" * 70]
SCALARS = [
    "8080", "80", "0", "65536", "-1", "99999999999999999999", "80a", "8080/udp", "80:80",
    "127.0.0.1:8080:80", "1-65535:1-65535", "1024-65535:80", "0:0", "${PORT:-8081}", "$P",
    "http://db:5432", "yes", "~", "''", '""', "[]", "{}", ".inf", "-0", "0x1F",
]  # fmt: skip

_salt = st.lists(st.sampled_from(SALT), max_size=4).map("".join)
# Mostly what real files hold, so that most cases reach the later stages; then the odd.
_scalar = st.integers(0, 5).flatmap(
    lambda n: (
        st.sampled_from(["8080", "9000", "5432"])
        if n < 3
        else (st.sampled_from(SCALARS) if n < 5 else _salt)
    )
)
_name = st.integers(0, 5).flatmap(
    lambda n: st.sampled_from(NAMES[:4]) if n < 4 else st.one_of(st.sampled_from(NAMES), _salt)
)


@st.composite
def _salted(draw: st.DrawFn, text: str) -> str:
    """`text` with up to three cuts or insertions of salt at drawn places."""
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2, 3]))):  # half of them stay whole
        at = draw(st.integers(0, len(text)))
        if draw(st.booleans()):
            text = text[:at] + draw(_salt) + text[at:]
        else:
            text = text[:at] + text[at + draw(st.integers(0, 8)) :]
    return text


@st.composite
def plans(draw: st.DrawFn) -> str:
    lines = ["version: 1", "services:"]
    for name in dict.fromkeys(["web", *draw(st.lists(_name, max_size=2))]):
        lines += [f"  {name}:", "    ports:"]
        for port in draw(
            st.lists(st.sampled_from(["http", "grpc", "metrics"]), max_size=2, unique=True)
        ):
            lines.append(f"      {port}: {draw(_scalar)}")
        lines += ["    environment:", f"      DB_PASSWORD: {SECRET}"]
        lines.append(f"      DATABASE_URL: postgres://app:{SECRET}@db:5432/app")
    ranges = draw(st.sampled_from(["9100-9199"] * 5 + ["9199-9100", "0-1", "x"]))
    lines += ["ranges:", "  r:", f"    ports: {ranges}"]
    if draw(st.integers(0, 3)) == 0:
        lines.append(f"include: [{draw(st.sampled_from(['a.yaml', '/dev/zero', '.', 'p.yaml']))}]")
    flow = draw(st.integers(0, 3)) == 0
    text = "\n".join(lines) + "\n"
    if flow:
        text = f'services: {{web: {{ports: {{http: {draw(_scalar)}}}, environment: {{DB_PASSWORD: "{SECRET}", REF: "${{REF}}"}}}}}}\nranges: {{r: {{ports: {ranges}}}}}\n'
    return draw(_salted(text))


@st.composite
def projects(draw: st.DrawFn) -> tuple[str, str]:
    lines = ["services:"]
    for name in draw(st.lists(_name, min_size=1, max_size=3)):
        lines += [f"  {name}:", "    image: nginx"]
        ports = draw(st.lists(_scalar, max_size=3))
        lines.append("    ports: [" + ", ".join(f'"{p}"' for p in ports) + "]")
        lines += ["    environment:", f"      DB_PASSWORD: {SECRET}"]
        lines.append(f"      DATABASE_URL: postgres://app:{SECRET}@db:5432/app")
        if draw(st.booleans()):
            lines.append(f"    extends: {{service: {draw(_name)}}}")
        if draw(st.booleans()):
            lines.append(
                f"    env_file: {draw(st.sampled_from(['.env', 'missing.env', '/dev/zero', '.']))}"
            )
    if draw(st.booleans()):
        lines.insert(
            0, f"include: [{draw(st.sampled_from(['compose.yaml', '/dev/zero', 'x.yaml']))}]"
        )
    compose = draw(_salted("\n".join(lines) + "\n"))
    env = draw(_salted(f"PORT=8080\nSECRET_KEY={SECRET}\nA=${{PORT}}${{PORT}}\n"))
    return compose, env


def _run(args: list[str], cwd: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    here = os.getcwd()
    os.chdir(cwd)
    tracemalloc.start()
    start = time.monotonic()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(args)
    finally:
        took = time.monotonic() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        os.chdir(here)
    assert took < BUDGET_SECONDS, (args, took)
    assert peak < BUDGET_BYTES, (args, peak)
    return code, out.getvalue(), err.getvalue()


def _held(code: int, out: str, err: str, args: list[str], tmp: Path) -> None:
    assert code in (0, 1, 2), (args, code, err)
    assert "Traceback" not in out + err, (args, err)
    assert not list(tmp.glob("portplan-crash-*")), (args, err)
    assert SECRET not in out + err, (args, out, err)
    errors = [line for line in err.splitlines() if line.startswith("portplan: error:")]
    if code == 2:
        assert len(errors) == 1, (args, err)
        assert err.rstrip("\n").splitlines()[-1] == errors[0], (args, err)
        assert "\n" not in errors[0]


# No shrinking: a failure is shown as generated (shrinking a multi-file case can take minutes).
PHASES = (Phase.explicit, Phase.reuse, Phase.generate)
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    phases=PHASES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _tree(tmp: Path, plan: str, compose: str, env: str) -> None:
    (tmp / "p.yaml").write_bytes(plan.encode("utf-8", "surrogatepass"))
    (tmp / "c").mkdir()
    (tmp / "c" / "compose.yaml").write_bytes(compose.encode("utf-8", "surrogatepass"))
    (tmp / "c" / ".env").write_bytes(env.encode("utf-8", "surrogatepass"))


def _commands() -> list[list[str]]:
    return [
        ["check", "-f", "p.yaml"],
        ["check", "-f", "p.yaml", "--format", "json"],
        ["reconcile", "-f", "p.yaml", "c"],
        ["reconcile", "c", "--format", "sarif"],
        ["import", "c"],
        ["generate", "compose", "-f", "p.yaml", "--compose", "c/compose.yaml", "--check"],
        ["generate", "env", "-f", "p.yaml", "--out", "out", "--check"],
        ["allocate", "-f", "p.yaml", "web", "extra", "--range", "r", "--offline", "--dry-run"],
    ]


@SETTINGS
@given(plan=plans(), project=projects())
def test_every_command_holds_on_fuzzed_input(plan: str, project: tuple[str, str]) -> None:
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        _tree(tmp, plan, *project)
        for args in _commands():
            _held(*_run(args, tmp), args, tmp)


@settings(max_examples=6, deadline=None, derandomize=True, phases=PHASES)
@given(plan=plans(), project=projects())
def test_a_sample_holds_as_real_processes_under_a_memory_cap(
    plan: str, project: tuple[str, str]
) -> None:
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        _tree(tmp, plan, *project)
        for args in (
            ["check", "-f", "p.yaml"],
            ["reconcile", "-f", "p.yaml", "c"],
            ["import", "c"],
        ):
            done = subprocess.run(
                ["prlimit", f"--as={1 << 30}", sys.executable, "-m", "portplan", *args],
                cwd=tmp, capture_output=True, text=True, timeout=120,
                env={**os.environ, "TMPDIR": str(tmp)},
            )  # fmt: skip
            _held(done.returncode, done.stdout, done.stderr, args, tmp)
