"""reconcile's discovery: compose files known by their content, what each run read and
skipped (text summary, `-v`, JSON `sources`), exit 2 when nothing is recognised, and the
plan found as `check` finds it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from portplan.cli import main
from portplan.sources import scan


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


WEB = "services:\n  web:\n    image: nginx:1.27\n    ports: ['8080:80']\n"
STACK = (
    "version: '3.8'\n"
    "x-defaults: &defaults\n  restart: unless-stopped\n"
    "services:\n  api:\n    <<: *defaults\n    image: registry.example/api:2\n"
    "    ports: ['9000:9000']\n    deploy:\n      replicas: 2\n"
    "networks:\n  default: {}\n"
)


@pytest.mark.parametrize(
    "name", ["full-stack.yml", "docker-compose-v3.yml", "stack.yml", "app.compose.yaml",
             "quickstart-docker-compose.yml", "deploy/prod.yaml"],
)  # fmt: skip
def test_a_compose_file_named_otherwise_is_known_by_its_content(tmp_path: Path, name: str) -> None:
    _write(tmp_path, {name: STACK})
    assert [(Path(r.file).name, r.kind, [p.number for p in r.ports]) for r in scan([tmp_path])] == [
        (Path(name).name, "compose", [9000])
    ]


@pytest.mark.parametrize(
    "text",
    [
        "version: 1\nservices:\n  web:\n    ports: {http: 8080}\n",  # a plan named otherwise
        "replicaCount: 2\nservices:\n  web:\n    image: x\n",  # Helm values: keys of its own
        "services:\n  - name: web\n    port: 80\n",  # no service key compose knows
        "name: ci\non: push\njobs:\n  build:\n    services:\n      db:\n        image: pg\n",
    ],
)
def test_yaml_that_only_resembles_compose_is_not_read(tmp_path: Path, text: str) -> None:
    _write(tmp_path, {"values.yml": text, "README.md": "# app\n"})
    assert [Path(r.file).name for r in scan([tmp_path])] == ["README.md"]


def test_a_base_file_other_services_extend_is_no_project_of_its_own(tmp_path: Path) -> None:
    files = {
        "common/node.yml": "services:\n  node:\n    image: node:22\n    expose: ['3000']\n",
        "compose.yaml": (
            "services:\n  web:\n    extends: {file: common/node.yml, service: node}\n"
            "    ports: ['3000:3000']\n"
        ),
    }
    results = scan([_write(tmp_path, files)])
    assert [(Path(r.file).name, [s.service for s in r.services]) for r in results] == [
        ("compose.yaml", ["web"])
    ]


TREE = {
    "compose.yaml": WEB,
    "compose.override.yaml": "services:\n  web:\n    environment: {DEBUG: '1'}\n",
    ".env": "WEB_PORT=8080\n",
    ".env.example": "WEB_PORT=8000\n",
    "README.md": "# web\n\nOpen http://localhost:8080.\n",
    "src/main.go": "package main\n",
    "chart/Chart.yaml": "apiVersion: v2\nname: web\n",
    "chart/templates/svc.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: {{ .Release.Name }}}\n",
    "broken/compose.yaml": "services: [\n",
}


def test_the_text_report_says_what_was_read_and_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(_write(tmp_path, TREE))
    main(["reconcile", "."])
    lines = capsys.readouterr().out.splitlines()
    assert lines[-2] == (
        "sources: read 5 files (2 compose, 1 Kubernetes, 1 .env, 1 Markdown); 1 unreadable; "
        "1 superseded by their real file; skipped 2 (code that states no listening port: 1, "
        "no known kind: 1)"
    )
    main(["reconcile", ".", "-v"])
    out = capsys.readouterr().out
    listing = out[out.index("sources: ") :].splitlines()[1:-1]
    assert listing == [
        "  read       .env       ./.env",
        "  superseded .env       ./.env.example: an example of ./.env, which is read",
        "  read       Markdown   ./README.md",
        "  unreadable compose    ./broken/compose.yaml: could not read ./broken/compose.yaml:2:1: "
        "invalid YAML: did not find expected node content (while parsing a flow node that "
        "starts at line 2, column 1)",
        "  skipped    unknown    ./chart/Chart.yaml: no known kind",
        "  read       Kubernetes ./chart/templates/svc.yaml",
        "  read       compose    ./compose.override.yaml: merged into the project of ./compose.yaml",
        "  read       compose    ./compose.yaml: one compose project with ./compose.override.yaml",
        "  skipped    unknown    ./src/main.go: code that states no listening port",
    ]


def test_the_json_report_lists_every_file_with_kind_and_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(_write(tmp_path, TREE))
    main(["reconcile", ".", "--format", "json"])
    sources = json.loads(capsys.readouterr().out)["sources"]
    assert [(s["file"], s["kind"], s["status"]) for s in sources] == [
        ("./.env", "dotenv", "read"),
        ("./.env.example", "dotenv", "superseded"),
        ("./README.md", "markdown", "read"),
        ("./broken/compose.yaml", "compose", "unreadable"),
        ("./chart/Chart.yaml", "unknown", "skipped"),
        ("./chart/templates/svc.yaml", "kubernetes", "read"),
        ("./compose.override.yaml", "compose", "read"),
        ("./compose.yaml", "compose", "read"),
        ("./src/main.go", "unknown", "skipped"),
    ]
    assert sources[-1]["why"] == "code that states no listening port"


def test_a_folder_with_nothing_recognised_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path, {"main.go": "package main\n", "Makefile": "all:\n"})
    assert main(["reconcile", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == (
        "",
        f"portplan: error: no source found in {tmp_path} (2 files of no known kind): expected "
        "compose, .env, Kubernetes or Markdown files; name a file to read it by its content\n",
    )
    (tmp_path / "empty").mkdir()
    assert main(["reconcile", str(tmp_path / "empty"), "--format", "json"]) == 2
    error = json.loads(capsys.readouterr().out)["error"]
    assert error["message"] == (
        f"no source found in {tmp_path / 'empty'}: expected compose, .env, Kubernetes or "
        "Markdown files; name a file to read it by its content"
    )


PLAN = "version: 1\nservices:\n  web:\n    ports:\n      http: {port: 8081, target: 80}\n"


def test_reconcile_finds_the_plan_as_check_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path, {"portplan.yaml": PLAN, "deploy/compose.yaml": WEB})
    monkeypatch.chdir(tmp_path / "deploy")
    assert main(["reconcile"]) == 1
    out = capsys.readouterr().out
    assert "web: http port is 8080 here but 8081 in portplan.yaml:5" in out
    assert out.endswith("1 file, 1 service against ../portplan.yaml: 2 errors, 0 warnings\n")
    assert main(["reconcile", "--no-plan"]) == 0
    capsys.readouterr()
    monkeypatch.chdir(tmp_path)
    assert main(["reconcile", "deploy"]) == 1  # the plan of deploy's folder or a parent
    out = capsys.readouterr().out
    assert "skipped 1 (the plan)" not in out  # the plan is not under deploy
    assert main(["reconcile", "."]) == 1
    assert "skipped 1 (the plan)" in capsys.readouterr().out


def test_a_kubernetes_manifest_named_like_a_compose_file_is_kubernetes(tmp_path: Path) -> None:
    """Generated manifests take their service's name: `docker-compose-manifests-redis.yaml`
    holds a Deployment and a Service, not a compose project."""
    manifest = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: redis}\nspec:\n"
        "  template:\n    spec:\n      containers:\n        - name: redis\n"
        "          image: redis:7\n          ports: [{containerPort: 6379}]\n"
        "---\napiVersion: v1\nkind: Service\nmetadata: {name: redis}\n"
        "spec:\n  ports: [{port: 6379}]\n"
    )
    _write(tmp_path, {"docker-compose-manifests-redis.yaml": manifest, "compose.yaml": WEB})
    assert [(Path(r.file).name, r.kind, r.errors) for r in scan([tmp_path])] == [
        ("compose.yaml", "compose", []),
        ("docker-compose-manifests-redis.yaml", "kubernetes", []),
    ]
