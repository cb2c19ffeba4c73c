"""reconcile on compose projects as real repositories write them: env files that each user
writes (missing in the repository), `${VAR?}` the user must set, example files standing in
for `.env`."""

from __future__ import annotations

from pathlib import Path

import pytest

from portplan.reconcile.core import reconcile
from portplan.sources import scan


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def _found(root: Path) -> list[tuple[str, str, list[str], str]]:
    return [
        (
            f.rule,
            str(f.level),
            [f"{Path(loc.file).name}:{loc.line}" for loc in f.locations],
            f.message,
        )
        for f in reconcile(scan([root]))
    ]


# A portainer-style stack: every service reads the stack.env the user writes.
STACK = """\
services:
  web:
    image: registry.example/web
    ports: ["8000:8000"]
    env_file: stack.env
  worker:
    image: registry.example/web
    env_file: [stack.env, worker.env]
  broker:
    image: redis:7
    env_file:
      - path: optional.env
        required: false
"""


def test_a_missing_env_file_is_one_warning_naming_every_reader(tmp_path: Path) -> None:
    (tmp_path / "worker.env").write_text("QUEUE=jobs\n")
    root = _write(tmp_path, {"docker-compose.yml": STACK})
    assert _found(root) == [
        (
            "PP209",
            "warning",
            ["docker-compose.yml:5"],
            "env_file stack.env of web, worker: No such file or directory; read without it",
        )
    ]
    # the rest of the file is read: web's port is there
    (result,) = [r for r in scan([root]) if r.kind == "compose"]
    assert [(p.service, p.number) for p in result.ports] == [("web", 8000)]


def test_an_example_env_file_stands_in_for_a_missing_env_file(tmp_path: Path) -> None:
    files = {
        "docker-compose.yml": STACK.replace("stack.env", ".env"),
        "worker.env": "QUEUE=jobs\n",
        ".env.example": "WEB_WORKERS=4\n",
    }
    root = _write(tmp_path, files)
    assert _found(root) == []
    (result,) = [r for r in scan([root]) if r.kind == "compose"]
    assert result.stand_ins == {f"{root}/.env.example": f"{root}/.env"}


@pytest.mark.parametrize(
    "example", [".env.example", "env.example", ".env.sample", ".env.dist", ".env.template"]
)
def test_an_example_file_stands_in_for_dotenv_in_interpolation(
    tmp_path: Path, example: str
) -> None:
    """mattermost-style: `cp env.example .env`; the compose file's ports come from it."""
    compose = (
        "services:\n  app:\n    image: app\n    ports:\n"
        "      - ${APP_PORT}:8065\n      - ${CALLS_PORT}:${CALLS_PORT}/udp\n"
    )
    root = _write(
        tmp_path, {"docker-compose.yml": compose, example: "APP_PORT=8065\nCALLS_PORT=8443\n"}
    )
    assert _found(root) == []
    (result,) = [r for r in scan([root]) if r.kind == "compose"]
    assert [(p.number, p.target, p.protocol) for p in result.ports] == [
        (8065, 8065, "tcp"),
        (8443, 8443, "udp"),
    ]


def test_a_real_dotenv_wins_over_its_example(tmp_path: Path) -> None:
    compose = "services:\n  app:\n    image: app\n    ports: ['${APP_PORT}:80']\n"
    files = {"compose.yaml": compose, ".env": "APP_PORT=9000\n", "env.example": "APP_PORT=8000\n"}
    (result,) = [r for r in scan([_write(tmp_path, files)]) if r.kind == "compose"]
    assert [p.number for p in result.ports] == [9000]
    assert result.stand_ins == {}


def test_an_unset_required_variable_is_one_finding_and_the_rest_is_read(tmp_path: Path) -> None:
    compose = (
        "services:\n"
        "  api:\n"
        "    image: api\n"
        "    ports: ['${API_PORT:?set API_PORT}:80', '9090:9090']\n"
        "    environment:\n"
        "      TOKEN: ${API_TOKEN?}\n"
        "  web:\n"
        "    image: web\n"
        "    ports: ['${API_PORT:?set API_PORT}:8080']\n"
    )
    root = _write(tmp_path, {"compose.yaml": compose})
    assert _found(root) == [
        (
            "PP207",
            "warning",
            ["compose.yaml:4", "compose.yaml:9"],
            "api and web read ${API_PORT}, which nothing sets",
        ),
        ("PP207", "warning", ["compose.yaml:6"], "api reads ${API_TOKEN}, which nothing sets"),
    ]
    (result,) = [r for r in scan([root]) if r.kind == "compose"]
    assert [(p.service, p.number) for p in result.ports] == [("api", 9090)]
    assert result.errors == []


def test_a_port_of_unset_variables_only_is_the_variable_finding(tmp_path: Path) -> None:
    """`${CALLS_PORT}:${CALLS_PORT}/udp` with CALLS_PORT unset says no port at all: the
    entry is left out and the unset variable is the one finding (not an unreadable file)."""
    compose = (
        "services:\n  app:\n    image: app\n    ports:\n"
        "      - ${CALLS_PORT}:${CALLS_PORT}/udp\n      - ${CALLS_PORT}:${CALLS_PORT}/tcp\n"
    )
    override = "services:\n  app:\n    ports:\n      - ${CALLS_PORT}:${CALLS_PORT}/udp\n"
    root = _write(tmp_path, {"compose.yaml": compose, "compose.override.yaml": override})
    assert _found(root) == [
        (
            "PP207",
            "warning",
            ["compose.override.yaml:4", "compose.yaml:5", "compose.yaml:6"],
            "app reads ${CALLS_PORT}, which nothing sets",
        )
    ]


def test_an_unset_variable_of_alternative_files_is_one_finding(tmp_path: Path) -> None:
    one = "services:\n  app:\n    image: app:${TAG}\n    ports: ['8080:80']\n"
    files = {"compose.dev.yml": one, "compose.prod.yml": one.replace("8080", "80")}
    assert _found(_write(tmp_path, files)) == [
        (
            "PP207",
            "warning",
            ["compose.dev.yml:3", "compose.prod.yml:3"],
            "app reads ${TAG}, which nothing sets",
        )
    ]
