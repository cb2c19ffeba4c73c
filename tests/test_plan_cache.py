"""The plan cache (portplan.plan.cache): the same model as a fresh load, an entry per plan
kept only while every file it read is unchanged, and never an error of its own."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from portplan.cli import main as click_main
from portplan.errors import InputError
from portplan.plan import cache, loader

ROOT = Path(__file__).resolve().parents[1]

PLAN = (
    "system: shop\n"
    "include: [infra/portplan.yaml]\n"
    "ranges:\n  apps: {ports: 9000-9099}\n"
    "services:\n"
    "  ledger:\n"
    "    image: ghcr.io/shop/ledger:1.4\n"
    "    ports:\n"
    "      http: {port: 9001, health: {path: /health, expect: {status: ok}, timeout: 2s}}\n"
    "      metrics: {port: 9002, published: false}\n"
    "    depends_on: [postgres]\n"
    "    environment: [LEDGER_DB=postgres]\n"
    "environments:\n  ci: {services: {ledger: {ports: {http: 9011}}}}\n"
)
INFRA = "system: infra\nservices:\n  postgres:\n    ports:\n      pg: {port: 5432, health: {tcp: true}}\n"


@pytest.fixture
def plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A plan with an include, in the current folder; the cache in a folder of the test."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(cache.NO_CACHE_VARIABLE, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "portplan.yaml").write_text(INFRA)
    (tmp_path / "portplan.yaml").write_text(PLAN)
    return tmp_path / "portplan.yaml"


def entries(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "cache" / "portplan" / "plans"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def from_cache_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any load that does not come from the cache."""

    def refuse(path: str, env: str | None) -> None:
        raise AssertionError(f"{path} was read afresh")

    monkeypatch.setattr(cache, "_load", refuse)


@pytest.mark.parametrize("env", [None, "ci"])
def test_an_entry_gives_the_model_a_fresh_load_gives(
    plan: Path, monkeypatch: pytest.MonkeyPatch, env: str | None
) -> None:
    fresh = loader.load("portplan.yaml", env)
    assert repr(cache.load("portplan.yaml", env)) == repr(fresh)  # the entry is written
    assert len(entries(plan.parent)) == 1
    from_cache_only(monkeypatch)
    cached = cache.load("portplan.yaml", env)
    assert cached == fresh and repr(cached) == repr(fresh)  # locations, marks and all
    health, fresh_health = (t.services["ledger"].ports[0].health for t in (cached, fresh))
    assert health is not None and fresh_health is not None
    assert health.expect == {"status": "ok"}
    # the located mapping keeps where its keys and values are
    for marks in ("key_marks", "value_marks"):
        assert getattr(health.expect, marks) == getattr(fresh_health.expect, marks) != {}


@pytest.mark.parametrize(
    "example", sorted(p.parent.name for p in (ROOT / "examples").glob("*/portplan.yaml"))
)
def test_the_examples_come_back_the_same(
    plan: Path, monkeypatch: pytest.MonkeyPatch, example: str
) -> None:
    path = ROOT / "examples" / example / "portplan.yaml"
    fresh = repr(loader.load(path))
    cache.load(path)
    from_cache_only(monkeypatch)
    assert repr(cache.load(path)) == fresh


def test_each_plan_and_overlay_has_its_own_entry(plan: Path) -> None:
    cache.load("portplan.yaml")
    cache.load("portplan.yaml", "ci")
    cache.load(plan)  # the same file named otherwise: its locations name it so
    cache.load("portplan.yaml")
    assert len(entries(plan.parent)) == 3
    assert cache.load(plan).source == str(plan)


@pytest.mark.parametrize("edited", ["portplan.yaml", "infra/portplan.yaml"])
def test_an_edit_of_the_plan_or_an_include_is_read_afresh(plan: Path, edited: str) -> None:
    assert cache.load("portplan.yaml").services["postgres"].ports[0].number == 5432
    target = plan.parent / edited
    text = target.read_text()
    # the same length, and the same modification time: only the bytes tell
    stamp = target.stat()
    target.write_text(text.replace("9001", "9003").replace("5432", "5433"))
    os.utime(target, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    topology = cache.load("portplan.yaml")
    numbers = {s.ports[0].number for s in topology.services.values()}
    assert numbers == ({9003, 5432} if edited == "portplan.yaml" else {9001, 5433})
    assert repr(topology) == repr(loader.load("portplan.yaml"))
    assert len(entries(plan.parent)) == 1  # the entry is replaced, not added to


def test_a_removed_include_is_the_loaders_error(plan: Path) -> None:
    cache.load("portplan.yaml")
    (plan.parent / "infra" / "portplan.yaml").unlink()
    with pytest.raises(InputError) as error:
        cache.load("portplan.yaml")
    assert str(error.value) == "portplan.yaml:2:11: include: no such file 'infra/portplan.yaml'"


def test_a_broken_plan_is_reported_every_time_and_never_kept(plan: Path) -> None:
    plan.write_text("services:\n  api: {ports: {http: 5oo}}\n")
    for _ in range(2):
        with pytest.raises(InputError) as error:
            cache.load("portplan.yaml")
        assert str(error.value).startswith("portplan.yaml:2:")
    assert entries(plan.parent) == []


@pytest.mark.parametrize(
    "spoil",
    [
        lambda data: b"",
        lambda data: b"garbage",
        lambda data: data[: len(data) // 2],  # cut short
        lambda data: data[:-40] + b"\x00" * 40,
        lambda data: data.replace(b"ledger", b"LEDGER"),  # a header that names other bytes
        lambda data: data[:30] + bytes([data[30] ^ 0xFF]) + data[31:],
    ],
    ids=["empty", "garbage", "truncated", "zeroed", "altered", "flipped"],
)
def test_a_corrupt_entry_is_ignored_and_written_again(plan: Path, spoil: object) -> None:
    fresh = repr(cache.load("portplan.yaml"))
    [entry] = entries(plan.parent)
    entry.write_bytes(spoil(entry.read_bytes()))  # type: ignore[operator]
    assert repr(cache.load("portplan.yaml")) == fresh
    assert repr(cache.load("portplan.yaml")) == fresh
    assert entry.read_bytes().startswith(b"portplan plan cache 1\n")


def test_another_plans_entry_is_not_taken(plan: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text("services:\n  solo: {ports: {http: 7000}}\n")
    cache.load("portplan.yaml")
    cache.load("other.yaml")
    first, second = entries(tmp_path)
    first.write_bytes(second.read_bytes())
    second.write_bytes(first.read_bytes())
    assert set(cache.load("portplan.yaml").services) == {"ledger", "postgres"}
    assert set(cache.load("other.yaml").services) == {"solo"}


def test_an_entry_others_may_write_is_not_trusted(
    plan: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache.load("portplan.yaml")
    [entry] = entries(plan.parent)
    entry.chmod(0o666)
    from_cache_only(monkeypatch)
    with pytest.raises(AssertionError, match="read afresh"):
        cache.load("portplan.yaml")


@pytest.mark.parametrize("how", ["variable", "argument"])
def test_turned_off_nothing_is_read_or_written(
    plan: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    cache.load("portplan.yaml")
    plan.write_text(PLAN.replace("9001", "9004"))
    if how == "variable":
        monkeypatch.setenv(cache.NO_CACHE_VARIABLE, "1")
    topology = cache.load("portplan.yaml", cache=how != "argument")
    assert topology.services["ledger"].ports[0].number == 9004
    [entry] = entries(plan.parent)
    assert b"9004" not in entry.read_bytes()


def test_a_cache_folder_that_cannot_be_written_is_no_error(
    plan: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "blocked").write_text("a file where the folder would be\n")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "blocked"))
    for _ in range(2):
        assert set(cache.load("portplan.yaml").services) == {"ledger", "postgres"}
    assert not list(tmp_path.glob("**/*.tmp"))


def test_the_folder_follows_xdg_cache_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", "/var/cache/me")
    assert cache.folder() == "/var/cache/me/portplan/plans"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/is/ignored")
    monkeypatch.setenv("HOME", "/home/me")
    assert cache.folder() == "/home/me/.cache/portplan/plans"


@pytest.mark.parametrize("flag", [[], ["--no-cache"]])
def test_status_reads_through_the_cache_unless_told(
    plan: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], flag: list[str]
) -> None:
    from portplan._entry import main as entry_main

    for run in (entry_main, click_main):
        assert run(["status", "--no-health", *flag]) == 1  # nothing listens: down
        assert "3 ports on host default: 0 up, 2 down" in capsys.readouterr().out
    assert len(entries(plan.parent)) == (0 if flag else 1)
