"""`status` with its plan in the plan cache starts the plan's checks before loading it, from
the checks kept beside the cache entry (portplan.live.early): real plan files, sockets and
an HTTP server; the reports are those of checks started once the plan is loaded."""

from __future__ import annotations

import contextlib
import io
import marshal
import os
import re
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from portplan.cli import _status_run
from portplan.cli._status_run import run_status
from portplan.live import early, status
from portplan.plan import cache
from tests.live.conftest import HttpServer, free_port

HELD = 6  # TCP checks of sockets held here, besides 2 HTTP checks and a port nobody holds


@pytest.fixture
def held() -> Iterator[list[int]]:
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(HELD)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
            sock.listen(16)  # a connect completes in the backlog: a healthy TCP check
        yield [sock.getsockname()[1] for sock in sockets]


@pytest.fixture(params=["forked", "thread"])
def way(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Where the early checks run: a forked process (this test process runs the HTTP
    server's threads, which hold no lock the checks take), or a thread, as without fork."""
    forked = request.param == "forked"
    monkeypatch.setattr(early, "_forkable", lambda: forked)
    return str(request.param)


@pytest.fixture
def plan(
    way: str,
    tmp_path: Path,
    held: list[int],
    http_server: HttpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """A plan of 8 checked ports and a down one; its cache in tmp_path; checks start early
    from 4 of them on."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("PORTPLAN_NO_CACHE", raising=False)
    monkeypatch.setattr(early, "EARLY_CHECKS", 4)
    monkeypatch.setattr(status, "EARLY_CHECKS", 4)
    lines = ["system: shop", "services:"]
    lines += [
        "  web:",
        "    ports:",
        f"      http: {{port: {http_server.port}, health: {{path: /ok, expect: {{status: ok}}}}}}",
        f"      admin: {{port: {http_server.port}, health: {{path: /healthy, status: 200}}}}",
        "  ghost:",
        "    ports:",
        f"      http: {{port: {free_port()}, health: /ok}}",
    ]
    for i, port in enumerate(held):
        lines += [
            f"  worker-{i}:",
            "    ports:",
            f"      tcp: {{port: {port}, health: {{tcp: true}}}}",
        ]
    path = tmp_path / "portplan.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _status(plan: Path, workers: int = 1) -> tuple[int, str]:
    out = io.StringIO()
    code = run_status(str(plan), "text", None, 100, workers, False, out.write)
    return code, re.sub(r" +", " ", re.sub(r"\d+\.\d ms", "N ms", out.getvalue()))


def _kept(plan: Path) -> Path:
    found = cache.entry(str(plan))
    assert found is not None
    return Path(found[0].removesuffix(".pickle") + early.SUFFIX)


def _read_kept(kept: Path) -> tuple[int, str, list[str], dict[str, Any]]:
    version, model, _, body = marshal.loads(kept.read_bytes())
    names, hosts = marshal.loads(body)
    return version, model, names, hosts


def _write_kept(kept: Path, version: int, model: str, names: Any, hosts: Any) -> None:
    body = marshal.dumps((names, hosts))
    kept.write_bytes(marshal.dumps((version, model, cache.sha256(body), body)))
    os.chmod(kept, 0o600)


def _started(monkeypatch: pytest.MonkeyPatch, plan: Path) -> Callable[[], list[int]]:
    """How many checks each `probe_all` call sent (early ones in a forked process too)."""
    sent = _sent(monkeypatch, plan.parent / "sent")
    return lambda: [count for count, _ in sent()]


def test_the_kept_checks_start_before_the_plan_and_report_the_same(
    plan: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = _started(monkeypatch, plan)
    events: list[str] = []  # when the plan is loaded, when the checks start
    real_load, real_kept = _status_run.load_plan, early.EarlyChecks.kept.__func__

    def load(*args: Any) -> Any:
        events.append("load")
        return real_load(*args)

    def kept(cls: type[early.EarlyChecks], *args: Any) -> early.EarlyChecks:
        events.append("checks")
        return real_kept(cls, *args)

    monkeypatch.setattr(_status_run, "load_plan", load)
    monkeypatch.setattr(early.EarlyChecks, "kept", classmethod(kept))
    first = _status(plan)  # read afresh: its checks start once loaded; they and the entry kept
    assert _kept(plan).is_file()
    second = _status(plan)  # from the kept checks, started before the plan is loaded
    assert events == ["load", "checks", "checks", "load"]
    assert started() == [8, 8]  # web's 2 HTTP checks and the 6 TCP ones; ghost is down
    assert first == second
    code, text = second
    assert code == 1
    assert "ghost.http" in text and "is down: nothing listens" in text
    assert text.count(" connected") == HELD and text.count(" 200") == 2
    assert text.rstrip().endswith(
        "9 ports on host default: 8 up, 1 down, 0 squatted, 0 unexpected; 1 error, 0 warnings"
    )


def test_kept_checks_that_do_not_match_the_rows_are_checked_afresh(
    plan: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kept list is a hint: a check kept for another row, port or check is not taken for
    the row's; the row is checked once the plan is loaded."""
    expected = _status(plan)
    kept = _kept(plan)
    version, model, names, hosts = _read_kept(kept)
    protocols, checks = hosts["default"]
    # web.http's check kept as its admin port's (another path): each row's own is sent
    swapped = [checks[1][:1] + checks[0][1:], checks[0][:1] + checks[1][1:], *checks[2:]]
    _write_kept(kept, version, model, names, {"default": (protocols, swapped)})
    sent = _sent(monkeypatch, plan.parent / "sent")
    assert _status(plan) == expected
    assert [count for count, _ in sent()] == [8, 2]  # all 8 early, then web's 2 again


def test_forked_checks_run_in_another_process(
    plan: Path, way: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _status(plan)
    sent = _sent(monkeypatch, plan.parent / "sent")
    assert _status(plan) == expected
    (count, pid), *more = sent()
    assert (count, more) == (8, [])
    assert (pid != os.getpid()) == (way == "forked")


def test_early_checks_spread_over_workers(plan: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With --workers N the checks started early are spread over that many processes too."""
    from portplan.live import workers

    expected = _status(plan)
    monkeypatch.setattr(workers, "MIN_PER_WORKER", 2)
    shares = _calls(monkeypatch, plan.parent / "shares", workers, "probe_here")
    assert _status(plan, workers=2) == expected
    assert sorted(count for count, _ in shares()) == [4, 4]
    assert len({pid for _, pid in shares()}) == 2  # the checking thread's or process's, a worker's


def test_a_failing_checking_process_leaves_its_rows_to_be_checked_afresh(
    plan: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _status(plan)
    sent = _sent(monkeypatch, plan.parent / "sent")
    from portplan.live import probing

    spy, here = probing.probe_all, os.getpid()

    def failing(targets: list[object], **options: object) -> object:
        found = spy(targets, **options)  # type: ignore[arg-type]
        if os.getpid() != here:
            raise MemoryError  # the checking process ends with exit status 1
        return found

    monkeypatch.setattr(probing, "probe_all", failing)
    monkeypatch.setattr(early, "_forkable", lambda: True)
    assert _status(plan) == expected
    assert [(count, pid == here) for count, pid in sent()] == [(8, False), (8, True)]


def test_a_checking_process_whose_results_are_not_asked_for_is_ended(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An error before the results are read: the process is not left checking (or waiting
    to send) behind the caller."""
    from portplan.live.probe import Target

    monkeypatch.setattr(early, "_forkable", lambda: True)
    with socket.socket() as mute:  # connects complete in its backlog, no answer ever comes
        mute.bind(("127.0.0.1", 0))
        mute.listen(16)
        health = early._Health("http", "/", None, None, "", 60_000.0)
        target = Target("127.0.0.1", mute.getsockname()[1], health)  # type: ignore[arg-type]
        started = early.EarlyChecks([(0, target)], 100)
        assert started._child is not None
        pid = started._child[0]
        started.close()
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # ended and reaped


def test_no_fork_while_another_thread_runs_even_one_the_interpreter_does_not_list() -> None:
    import _thread
    import threading

    held = threading.Lock()
    held.acquire()
    started = threading.Event()

    def wait() -> None:
        started.set()
        held.acquire()

    _thread.start_new_thread(wait, ())  # a thread `threading` does not count, as a C one
    started.wait(10)
    try:
        assert not early._forkable()
    finally:
        held.release()


def _sent(monkeypatch: pytest.MonkeyPatch, log: Path) -> Callable[[], list[tuple[int, int]]]:
    """(count of checks, process id) of each `probe_all` call."""
    from portplan.live import probing

    return _calls(monkeypatch, log, probing, "probe_all")


def _calls(
    monkeypatch: pytest.MonkeyPatch, log: Path, module: object, name: str
) -> Callable[[], list[tuple[int, int]]]:
    """(count of checks, process id) of each call of `module.name`, in a forked process too
    (the calls are written to `log`, read by the function returned)."""
    real = getattr(module, name)

    def spy(targets: list[object], **options: object) -> object:
        with log.open("a") as out:
            out.write(f"{len(targets)} {os.getpid()}\n")
        return real(targets, **options)

    monkeypatch.setattr(module, name, spy)
    log.write_text("")

    def read() -> list[tuple[int, int]]:
        return [(int(n), int(pid)) for n, pid in map(str.split, log.read_text().splitlines())]

    return read


def test_kept_checks_of_another_model_are_not_used_and_kept_again(
    plan: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _status(plan)
    kept = _kept(plan)
    version, _, names, hosts = _read_kept(kept)
    _write_kept(kept, version, "0" * 64, names, hosts)
    started = _started(monkeypatch, plan)
    expected = _status(plan)  # not from the list: started once the plan is loaded, then kept again
    assert started() == [8]
    assert _read_kept(kept)[1] == cache.entry(str(plan))[1]  # type: ignore[index]
    assert _status(plan) == expected
    assert started() == [8, 8]


def _garbled(kept: Path) -> None:
    """A whole list of the right model whose checks are not checks."""
    version, model, names, hosts = _read_kept(kept)
    protocols, checks = hosts["default"]
    wrong = [("web", "tcp", "port", "http", 1, 2, 3, 4, 5), *checks[1:]]
    _write_kept(kept, version, model, names, {"default": (protocols, wrong)})


def _flipped(kept: Path) -> None:
    """A list whose body no longer matches its digest."""
    data = bytearray(kept.read_bytes())
    data[-5] ^= 0x01
    kept.write_bytes(bytes(data))


def _sctp(kept: Path) -> None:
    version, model, names, hosts = _read_kept(kept)
    _write_kept(kept, version, model, names, {"default": (["sctp"], hosts["default"][1])})


@pytest.mark.parametrize(
    "garble",
    [
        lambda kept: kept.write_bytes(b""),
        lambda kept: kept.write_bytes(b"not marshal"),
        lambda kept: kept.write_bytes(marshal.dumps((99, "x", "y", b""))),
        lambda kept: kept.write_bytes(marshal.dumps([1, 2])),
        _flipped,
        _garbled,
        _sctp,
    ],
)
def test_a_corrupt_or_foreign_list_is_ignored(
    plan: Path, garble: Callable[[Path], object], monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _status(plan)
    kept = _kept(plan)
    garble(kept)
    os.chmod(kept, 0o600)
    assert _status(plan) == expected


def test_a_list_others_may_write_is_not_read(plan: Path) -> None:
    _status(plan)
    kept = _kept(plan)
    os.chmod(kept, 0o666)
    assert early.start(str(plan), None, 100) == (None, True)
    os.chmod(kept, 0o600)
    started, keep = early.start(str(plan), None, 100)
    assert started is not None and not keep
    started.results([])  # the thread joined
