"""import: a service's settings for reaching another (a client's `SMTP_PORT`, `DB_PORT`) are
statements of the port it reaches, not the variable that service reads nor a service of
their own; and the plan imported round-trips through `generate` and `reconcile`."""

from __future__ import annotations

from pathlib import Path

from portplan.cli import main
from portplan.importer.core import import_paths
from portplan.plan import loader
from portplan.reconcile.core import reconcile_paths

# A web app whose base file sends mail to an outside server (`.env`: SMTP_PORT=587, its
# host set at deployment), and whose override (the development variant `docker compose up`
# runs) sends it to a mail catcher by name, on 1025.
BASE = """\
services:
  api:
    image: shop/api:1.4
    env_file: [.env]
    ports: ["8000:8000"]
  db:
    image: postgres:16
"""
OVERRIDE = """\
services:
  api:
    environment:
      SMTP_HOST: mailer
      SMTP_PORT: "1025"
  mailer:
    image: axllent/mailpit
    ports: ["8025:8025", "1025:1025"]
"""
ENV = "SMTP_HOST=\nSMTP_PORT=587\nDB_HOST=db\nDB_PORT=5432\n"


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def _ports(text: str) -> dict[str, list[tuple[str, int, str | None]]]:
    plan = loader.load_text(text)
    return {
        name: [(p.name, p.number, p.env) for p in service.ports]
        for name, service in plan.services.items()
    }


def _round_trip(plan: Path, out: Path) -> list[tuple[str, str]]:
    assert main(["generate", "-f", str(plan), "--out", str(out)]) == 0
    result = reconcile_paths([out], loader.load(plan))
    return [(f.rule, f.message) for f in result.findings]


def test_a_clients_port_setting_for_a_named_host_is_not_that_services_variable(
    tmp_path: Path,
) -> None:
    """`SMTP_PORT: "1025"` beside `SMTP_HOST: mailer` is api's setting: mailer's port 1025
    has no `env` (mailer reads no SMTP_PORT), so only `smtp` (the outside server `.env`
    gives 587) carries SMTP_PORT; `DB_PORT` beside `DB_HOST=db` names db and stays its
    variable. Before, SMTP_PORT was mailer's and smtp's: env/mailer.env held
    SMTP_PORT=1025, which reads back as smtp's port (PP201)."""
    root = _write(
        tmp_path / "src",
        {"compose.yaml": BASE, "compose.override.yaml": OVERRIDE, ".env": ENV},
    )
    text = import_paths([root]).text
    assert _ports(text) == {
        "api": [("port", 8000, None)],
        "db": [("postgresql", 5432, "DB_PORT")],
        "smtp": [("port", 587, "SMTP_PORT")],
        "mailer": [("smtp", 1025, None), ("http", 8025, None)],
    }
    plan = tmp_path / "portplan.yaml"
    plan.write_text(text)
    assert _round_trip(plan, tmp_path / "out") == []
    assert (
        (tmp_path / "out/env/mailer.env")
        .read_text()
        .endswith("# mailer\nMAILER_PORT=1025\nHTTP_PORT=8025\n")
    )


def test_a_db_port_setting_is_the_port_of_the_projects_database(tmp_path: Path) -> None:
    """A workflow server's environment says `DB_PORT=5432` (its database's port) in one
    compose file and `DB_PORT=3306` in an alternative file of the same folder, each beside
    the database that file runs (postgres, mysql): each is that database's port, not a
    service `db` the files do not run (which clashed with postgres on 5432 before)."""
    postgres = (
        "services:\n  engine:\n    image: flowctl/server:2\n"
        "    environment: [DB=postgres12, DB_PORT=5432, POSTGRES_SEEDS=pg]\n"
        "    depends_on: [pg]\n"
        "  pg:\n    image: postgres:16\n    ports: ['5432:5432']\n"
    )
    mysql = (
        "services:\n  engine:\n    image: flowctl/server:2\n"
        "    environment: [DB=mysql8, DB_PORT=3306, MYSQL_SEEDS=maria]\n"
        "    depends_on: [maria]\n"
        "  maria:\n    image: mysql:8\n    ports: ['3306:3306']\n"
    )
    root = _write(
        tmp_path / "src",
        {"docker-compose.yml": postgres, "docker-compose-mysql.yml": mysql},
    )
    text = import_paths([root]).text
    assert _ports(text) == {
        "engine": [],
        "pg": [("postgresql", 5432, "DB_PORT")],
        "maria": [("mysql", 3306, "DB_PORT")],
    }
    plan = tmp_path / "portplan.yaml"
    plan.write_text(text)
    assert _round_trip(plan, tmp_path / "out") == []
    found = reconcile_paths([root], loader.load(plan))
    assert [(f.rule, f.message) for f in found.findings if f.level.name == "ERROR"] == []
