"""The data folder, and what the clients take from the command line and the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from portplan.errors import UsageError
from portplan.server import remote
from portplan.server.client import Client
from portplan.server.settings import Settings


def test_the_default_database_is_in_the_data_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("PORTPLAN_DATA", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert Settings().url() == f"sqlite:///{tmp_path}/xdg/portplan/registry.db"
    monkeypatch.setenv("PORTPLAN_DATA", str(tmp_path / "data"))
    assert Settings().url() == f"sqlite:///{tmp_path}/data/registry.db"
    assert Settings(database_url="postgresql://db/x").url() == "postgresql://db/x"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("30m", 1800), ("2h", 7200), ("1d", 86400), ("45", 45), ("1.5h", 5400)],
)
def test_ttl(text: str, seconds: float) -> None:
    assert remote.parse_ttl(text) == seconds


@pytest.mark.parametrize("text", ["", "0", "soon", "5y", "-3m"])
def test_bad_ttl(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        remote.parse_ttl(text)
    assert (
        str(caught.value) == f"--ttl: expected a duration such as 90s, 30m, 2h or 1d, got {text!r}"
    )


def test_server_and_token_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PORTPLAN_SERVER", raising=False)
    monkeypatch.delenv("PORTPLAN_TOKEN", raising=False)
    with pytest.raises(UsageError) as missing_server:
        Client.from_environment(None)
    assert str(missing_server.value) == "no registry: give --server URL or set PORTPLAN_SERVER"
    with pytest.raises(UsageError) as missing_token:
        Client.from_environment("http://r:1")
    assert str(missing_token.value) == "no token: set PORTPLAN_TOKEN"
    monkeypatch.setenv("PORTPLAN_TOKEN", "ppt_secret")
    client = Client.from_environment("http://r:1/")
    assert (client.server, client.token) == ("http://r:1", "ppt_secret")
    assert "ppt_secret" not in repr(client)


def test_an_unreachable_registry_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from portplan.cli import main
    from tests.server.postgres import free_port

    monkeypatch.setenv("PORTPLAN_TOKEN", "ppt_secret")
    port = free_port()
    assert main(["release", "abc", "--server", f"http://127.0.0.1:{port}"]) == 2
    err = capsys.readouterr().err
    assert (
        err
        == f"portplan: error: http://127.0.0.1:{port}: cannot reach the registry: [Errno 111] Connection refused\n"
    )
