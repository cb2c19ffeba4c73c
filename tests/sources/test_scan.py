"""scan: what cannot be read is one finding saying why (a loop of symbolic links, a folder
without permission), and the templates of a Helm chart are left out with one info note."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from portplan.findings import Level
from portplan.reconcile.core import reconcile
from portplan.sources import scan

SERVICE = "apiVersion: v1\nkind: Service\nmetadata: {name: api}\nspec: {ports: [{port: 80}]}\n"
TEMPLATE = (
    'apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ include "chart.fullname" . }}\n'
    "spec:\n  ports:\n    - port: {{ .Values.service.port }}\n"
)


def _findings(*paths: Path | str) -> list[tuple[str, str, str, str]]:
    return [(f.rule, f.level.name, str(f.locations[0]), f.message) for f in reconcile(scan(paths))]


def test_a_loop_of_symbolic_links_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found in a folder or named itself: the reason is the loop, not a missing file."""
    (tmp_path / "self.yaml").symlink_to("self.yaml")
    monkeypatch.chdir(tmp_path)
    why = "Too many levels of symbolic links"
    assert os.strerror(errno.ELOOP) == why
    assert _findings(".") == [
        ("PP209", "ERROR", "./self.yaml", f"could not read ./self.yaml: {why}")
    ]
    assert _findings("self.yaml") == [
        ("PP209", "ERROR", "self.yaml", f"could not read self.yaml: {why}")
    ]


def test_a_missing_path_and_a_dangling_link_say_so_alike(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    (tmp_path / "links").mkdir()
    (tmp_path / "links" / ".env").symlink_to(missing)
    (tmp_path / "links" / "README.md").symlink_to(missing)
    dangling = [tmp_path / "links" / ".env", tmp_path / "links" / "README.md"]
    assert _findings(missing, tmp_path / "links") == [
        ("PP209", "ERROR", str(path), f"could not read {path}: No such file or directory")
        for path in [*dangling, missing]
    ]


def test_a_link_to_a_left_out_file_of_no_source_kind_is_skipped(tmp_path: Path) -> None:
    """`license.json -> license.private` (the private file is not in the repository): no
    source by its name, so nothing to read and no finding; a link named as a source still
    says it cannot be read."""
    (tmp_path / "license.json").symlink_to("license.private")
    (tmp_path / "compose.yaml").write_text("services: {a: {ports: ['80:80']}}\n")
    assert _findings(tmp_path) == []
    (tmp_path / "README.md").symlink_to("docs.private")
    assert [(rule, level) for rule, level, _, _ in _findings(tmp_path)] == [("PP209", "ERROR")]


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv is not installed")
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run as another user")
def test_a_folder_without_permission_is_a_finding() -> None:
    """Run as uid 65534 (nobody), for whom a chmod 000 folder cannot be listed; the files
    beside it are still read."""
    with tempfile.TemporaryDirectory() as name:
        tree = Path(name)
        tree.chmod(0o755)  # reachable by anyone: pytest's own folders are not
        (tree / "locked").mkdir()
        (tree / "locked" / "compose.yaml").write_text("services: {a: {ports: ['80:80']}}\n")
        (tree / "compose.yaml").write_text("services: {b: {ports: ['81:81']}}\n")
        (tree / "locked").chmod(0)
        try:
            lines = _as_nobody(tree)
        finally:
            (tree / "locked").chmod(0o755)
    assert lines == [f"PP209 ERROR could not read {tree / 'locked'}: Permission denied", "['b']"]


def _as_nobody(tree: Path) -> list[str]:
    code = (
        "from portplan.reconcile.core import reconcile; from portplan.sources import scan\n"
        f"for f in reconcile(scan([{str(tree)!r}])): print(f.rule, f.level.name, f.message)\n"
        f"print(sorted(s.service for r in scan([{str(tree)!r}]) for s in r.services))\n"
    )
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    run = subprocess.run(
        [*nobody, sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        cwd=tree,
        env={**os.environ, "HOME": str(tree)},
    )
    assert run.stderr == ""
    return run.stdout.splitlines()


def test_helm_chart_templates_are_read_rendered_with_their_values(tmp_path: Path) -> None:
    chart = tmp_path / "shop"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: shop\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("service: {port: 8080}\n")
    (chart / "templates" / "service.yaml").write_text(TEMPLATE)
    (chart / "templates" / "_helpers.tpl").write_text(
        '{{- define "chart.fullname" -}}x{{- end }}\n'
    )
    (chart / "crds").mkdir()
    (chart / "crds" / "svc.yaml").write_text(SERVICE)  # plain YAML beside: read
    templates = chart / "templates"
    results = scan([tmp_path])
    assert [
        (r.kind, [(p.service, p.number, str(p.location)) for p in r.ports]) for r in results
    ] == [
        ("kubernetes", [("api", 80, f"{chart}/crds/svc.yaml:4:23")]),
        ("kubernetes", [("shop", 8080, f"{templates}/service.yaml:7:13")]),
        ("code", [("shop", 8080, f"{chart}/values.yaml:1:17")]),  # sources/code/helm.py
    ]
    named = scan([templates / "service.yaml"])
    assert [(p.service, p.number) for r in named for p in r.ports] == [("shop", 8080)]
    assert all(f.level is Level.INFO for f in reconcile(results))


COMPOSE = "x-common: &common {restart: always}\nservices:\n  web:\n    <<: *common\n    ports: ['8080:80']\n"
NOT_A_SOURCE = (
    "not a known kind of file; expected compose (a top-level services:), Kubernetes "
    "(apiVersion: and kind:), .env (*.env, .env.*) or Markdown (*.md, *.markdown)"
)


@pytest.mark.parametrize(
    ("name", "text", "kind"),
    [
        ("stack.yml", COMPOSE, "compose"),
        ("prod.compose", COMPOSE, "compose"),
        ("api.manifest", SERVICE, "kubernetes"),
        ("all.json.yaml", "# generated\n---\n" + SERVICE, "kubernetes"),
    ],
)
def test_a_named_file_is_read_by_its_content(
    tmp_path: Path, name: str, text: str, kind: str
) -> None:
    (tmp_path / name).write_text(text)
    assert [(r.file, r.kind, r.errors) for r in scan([tmp_path / name])] == [
        (str(tmp_path / name), kind, [])
    ]
    # in a folder, a YAML file is known by its content too (a compose file named stack.yml)
    in_folder = name.endswith((".yml", ".yaml"))
    assert scan([tmp_path]) == (scan([tmp_path / name]) if in_folder else [])


@pytest.mark.parametrize(
    ("name", "text", "why"),
    [
        ("notes.txt", "hello\n", NOT_A_SOURCE),
        # (a values.yaml is a Helm chart's values, read as code: tests/sources/code/)
        ("settings.yaml", "replicaCount: 2\nservice: {port: 80}\n", NOT_A_SOURCE),
        (
            "portplan.yaml",
            "services:\n  web: {}\n",
            "a portplan plan, not a source; give it with -f",
        ),
    ],
)
def test_a_named_file_of_no_known_kind_is_one_error(
    tmp_path: Path, name: str, text: str, why: str
) -> None:
    (tmp_path / name).write_text(text)
    path = tmp_path / name
    assert _findings(path) == [("PP209", "ERROR", str(path), f"not read {path}: {why}")]


def test_reconcile_and_import_read_a_compose_file_named_stack_yml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from portplan.cli import main

    monkeypatch.chdir(tmp_path)
    Path("stack.yml").write_text(COMPOSE)
    assert main(["reconcile", "stack.yml"]) == 0
    assert capsys.readouterr().out == (
        "sources: read 1 file (1 compose)\n1 file, 1 service: 0 errors, 0 warnings\n"
    )
    assert main(["import", "stack.yml"]) == 0
    assert "  web:\n" in capsys.readouterr().out
    Path("notes.txt").write_text("hello\n")
    assert main(["reconcile", "notes.txt"]) == 1
    assert (
        f"not read notes.txt: {NOT_A_SOURCE}  [PP209 unreadable-source]" in capsys.readouterr().out
    )


def test_a_compose_project_whose_env_file_links_to_a_left_out_file_is_read(
    tmp_path: Path,
) -> None:
    """`.env -> mail.conf` (written by the project's setup script, not in the repository):
    the link says it cannot be read, and the compose file is read with its defaults, as
    without a `.env`."""
    (tmp_path / ".env").symlink_to("mail.conf")
    (tmp_path / "compose.yaml").write_text(
        "services:\n  web:\n    image: nginx:1.27\n    ports:\n"
        "      - '${HTTP_PORT:-80}:${HTTP_PORT:-80}'\n"
    )
    (tmp_path / "README.md").write_text(
        "# Mail\n\nRun `docker compose up -d`, then open http://localhost:8080/admin.\n"
    )
    env, readme = tmp_path / ".env", tmp_path / "README.md"
    assert _findings(tmp_path) == [
        ("PP209", "ERROR", str(env), f"could not read {env}: No such file or directory"),
        (
            "PP216",
            "ERROR",
            f"{readme}:3:56",
            "localhost:8080 after `docker compose up`: no compose file here publishes 8080; "
            "they publish 80 (web, compose.yaml:5)",
        ),
    ]
