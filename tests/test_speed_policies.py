"""What the speed work must not change: the collector's pause, names, locations, breadcrumbs."""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from portplan import model
from portplan.cli import main
from portplan.cli._commands import BATCH, COMMANDS
from portplan.collector import paused
from portplan.model import Location, normalize_name


@pytest.fixture
def collecting() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_paused_stops_the_collector_and_resumes_it(collecting: None) -> None:
    with paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_paused_resumes_it_after_an_error(collecting: None) -> None:
    with pytest.raises(ValueError), paused():
        raise ValueError
    assert gc.isenabled()


def test_paused_leaves_a_stopped_collector_stopped(collecting: None) -> None:
    gc.disable()
    with paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_only_commands_that_end_are_paused() -> None:
    assert set(COMMANDS) >= BATCH
    assert not BATCH & {"serve", "up", "logs", "status", "ps", "restart", "lease", "push", "pull"}


def test_a_batch_command_resumes_the_collector(
    collecting: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "portplan.yaml"
    plan.write_text("services:\n  api:\n    ports: {http: 8080}\n")
    assert main(["check", "-f", str(plan)]) == 0
    assert "1 port in 1 service" in capsys.readouterr().out
    assert gc.isenabled()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Token Engine", "tokenengine"),
        ("token-engine", "tokenengine"),
        ("TOKEN_ENGINE", "tokenengine"),
        ("api2", "api2"),
        ("svc-00012", "svc00012"),
        ("", ""),
        ("--", ""),
        ("Çà-Va_Bien", "çàvabien"),
        ("ΣΥΣΤΗΜΑ 1", "σύστημα1".replace("ύ", "υ")),
        ("数据-服务", "数据服务"),
        ("İstanbul", "istanbul"),  # lowered: i and a combining dot, which is no letter
        ("x½y٣", "x½y٣"),
    ],
)
def test_normalize_name(name: str, expected: str) -> None:
    assert normalize_name(name) == expected
    assert normalize_name(name) == expected  # remembered: the same answer


def test_normalize_name_forgets_when_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model, "_NORMALIZED_MAX", 3)
    monkeypatch.setattr(model, "_NORMALIZED", {})
    names = [f"Name-{i}" for i in range(10)]
    assert [normalize_name(n) for n in names] == [f"name{i}" for i in range(10)]
    assert len(model._NORMALIZED) <= 3


def test_location_is_still_a_frozen_ordered_record() -> None:
    here = Location("a.yaml", 3, 7)
    assert (here.file, here.line, here.column) == ("a.yaml", 3, 7)
    assert here == Location(file="a.yaml", line=3, column=7)
    assert hash(here) == hash(Location("a.yaml", 3, 7))
    assert Location("a.yaml") < here < Location("a.yaml", 4)
    assert str(here) == "a.yaml:3:7" and str(Location("b.yaml")) == "b.yaml"
    assert repr(here) == "Location(file='a.yaml', line=3, column=7)"
    with pytest.raises(dataclasses.FrozenInstanceError):
        here.line = 4  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "services:\n  api:\n    ports:\n      http: {port: 99999}\n",
            "p.yaml:4:20: services.api.ports.http.port: expected an integer 1-65535",
        ),
        (
            "services:\n  api:\n    ports: [1]\n",
            "p.yaml:3:12: services.api.ports: expected a mapping",
        ),
        (
            "services:\n  'a b':\n    ports:\n      'x y': {port: 0}\n",
            "p.yaml:4:21: services['a b'].ports['x y'].port: expected an integer 1-65535",
        ),
    ],
)
def test_breadcrumbs_made_on_demand_are_unchanged(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    message: str,
) -> None:
    (tmp_path / "p.yaml").write_text(text)
    monkeypatch.chdir(tmp_path)
    assert main(["check", "-f", "p.yaml"]) == 2
    assert message in capsys.readouterr().err


def test_every_hot_record_sets_its_fields_through_its_slots() -> None:
    """The records given a faster `__init__` keep the dataclass's parameters and defaults."""
    import inspect

    for cls in (
        model.Location,
        model.Port,
        model.Health,
        model.Service,
        model.Dependency,
        model.EnvVar,
        model.Binding,
    ):
        init = vars(cls)["__init__"]
        assert init.__code__.co_filename == "<string>", cls
        parameters = list(inspect.signature(cls).parameters.values())
        assert [p.name for p in parameters] == [f.name for f in dataclasses.fields(cls)]
    service = model.Service(name="api", location=Location("p.yaml", 2, 3))
    assert service == dataclasses.replace(service)
    assert service.ports == () and service.run is None
    spec = model.RunSpec(command=("run",), location=Location("p.yaml"))
    assert spec.wait_for == {} and spec.wait_for is not model.RunSpec(("x",)).wait_for


@pytest.mark.parametrize(
    ("file", "projects", "expected"),
    [
        ("/w/a/b/compose.yaml", {"/w/a", "/w/a/b", "/w"}, "/w/a/b"),
        ("/w/a/bc/compose.yaml", {"/w/a/b", "/w"}, "/w"),
        ("/w/ab/compose.yaml", {"/w/a"}, None),
        ("/w/a/b/c/d/x.env", {"/w/a/b"}, "/w/a/b"),
        ("/f.yaml", {"/"}, "/"),
        ("/w/f.yaml", set(), None),
    ],
)
def test_project_of_a_set_is_the_deepest_holding_folder(
    file: str, projects: set[str], expected: str | None
) -> None:
    from portplan.reconcile.projects import project_of
    from portplan.sources.base import SourceResult

    result = SourceResult(file=file, kind="compose")
    assert project_of(result, projects) == expected == project_of(result, sorted(projects))
