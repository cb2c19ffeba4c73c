"""Ports stated in code, by the service they belong to, against compose (PP217)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from portplan.reconcile.core import reconcile_paths
from portplan.sources import scan, survey

GO = """\
package main

func main() {
	port := getEnv("HTTP_PORT", "8088")
	http.ListenAndServe(":"+port, nil)
}
"""
COMPOSE = """\
services:
  web:
    build: ./services/web
    ports:
      - "8087:8087"
"""


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _findings(root: Path) -> list[tuple[str, list[str], str]]:
    found = reconcile_paths([str(root.relative_to(root))]).findings
    return [
        (f.rule, [f"{loc.file}:{loc.line}:{loc.column}" for loc in f.locations], f.message)
        for f in found
    ]


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_published_port_the_program_does_not_listen_on_is_one_finding(here: Path) -> None:
    _write(here, {"compose.yaml": COMPOSE, "services/web/main.go": GO})
    assert _findings(here) == [
        (
            "PP218",
            ["./compose.yaml:5:10", "./compose.yaml:2:3", "./services/web/main.go:4:10"],
            "web: compose publishes 8087:8087 (container port 8087), but the program listens "
            "on 8088: main.go:4 reads HTTP_PORT, which its compose environment does not set, "
            "and defaults to 8088",
        )
    ]


@pytest.mark.parametrize(
    "files",
    [
        # the compose environment sets the variable to the published container port
        {"compose.yaml": COMPOSE + "    environment:\n      HTTP_PORT: '8087'\n"},
        # so does an env_file of the service
        {
            "compose.yaml": COMPOSE + "    env_file: web.env\n",
            "web.env": "HTTP_PORT=8087\n",
        },
        # the code's default is the published container port
        {"compose.yaml": COMPOSE.replace("8087:8087", "80:8088")},
    ],
    ids=["environment", "env_file", "default"],
)
def test_a_program_that_listens_on_the_published_port_is_no_finding(
    here: Path, files: dict[str, str]
) -> None:
    _write(here, {"services/web/main.go": GO, **files})
    assert _findings(here) == []


def test_a_variable_set_to_another_port_is_named_with_its_place(here: Path) -> None:
    compose = COMPOSE + "    environment:\n      HTTP_PORT: '9000'\n"
    _write(here, {"compose.yaml": compose, "services/web/main.go": GO})
    assert _findings(here) == [
        (
            "PP218",
            ["./compose.yaml:5:10", "./compose.yaml:7:7", "./services/web/main.go:4:10"],
            "web: compose publishes 8087:8087 (container port 8087), but the program listens "
            "on 9000: main.go:4 reads HTTP_PORT, which compose.yaml:7 sets to 9000",
        )
    ]


def test_code_defaults_are_no_port_drift(here: Path) -> None:
    """A default in code is not a statement of the port: the environment may replace it.
    A README and the code may differ without PP201."""
    compose = COMPOSE + "    environment:\n      HTTP_PORT: '8087'\n"
    readme = "# web\n\n| Service | Port |\n|---|---|\n| web | 8087 |\n"
    _write(here, {"compose.yaml": compose, "README.md": readme, "services/web/main.go": GO})
    assert _findings(here) == []


def test_ports_of_the_program_run_on_the_host_are_not_compared(here: Path) -> None:
    launch = (
        '{"profiles": {"web": {"commandName": "Project", '
        '"applicationUrl": "http://localhost:5103"}}}\n'
    )
    _write(here, {"compose.yaml": COMPOSE, "services/web/Properties/launchSettings.json": launch})
    assert _findings(here) == []


OWNED = {
    "compose.yaml": (
        "services:\n"
        "  frontend:\n    build: ./apps/site\n    ports: ['3000:3000']\n"
        "  api:\n    build: {context: ., dockerfile: backend/api/Dockerfile}\n"
        "  worker:\n    image: acme/worker\n"
    ),
    "apps/site/Dockerfile": "FROM node\n",
    "apps/site/src/server.js": "app.listen(process.env.PORT || 3000)\n",
    "backend/api/Dockerfile": "FROM python\n",
    "backend/api/app/main.py": "import os\nPORT = os.getenv('PORT', '8000')\n",
    "backend/worker/go.mod": "module worker\n",
    "backend/worker/cmd/run/main.go": 'package main\nvar a = getEnv("PORT", "9100")\n',
    "tools/metrics/pyproject.toml": "[project]\nname = 'm'\n",
    "tools/metrics/src/m/serve.py": "import os\nPORT = os.getenv('PORT', '9200')\n",
}


def test_each_file_belongs_to_the_service_whose_home_holds_it(here: Path) -> None:
    _write(here, OWNED)
    owners = {r.file: sorted({p.service for p in r.ports}) for r in scan(["."]) if r.kind == "code"}
    assert owners == {
        "./apps/site/src/server.js": ["frontend"],  # the build context
        "./backend/api/app/main.py": ["api"],  # the folder of the Dockerfile it builds from
        "./backend/worker/cmd/run/main.go": ["worker"],  # a folder named as a service
        "./tools/metrics/src/m/serve.py": ["metrics"],  # else its module's folder
    }


def test_tests_vendored_and_generated_folders_are_skipped(here: Path) -> None:
    read = "import os\nPORT = os.getenv('PORT', '8000')\n"
    _write(
        here,
        {
            "svc/app.py": read,
            "svc/tests/test_app.py": read,
            "svc/test_app.py": read,
            "svc/app_test.go": 'package main\nvar a = getEnv("PORT", "1")\n',
            "svc/vendor/lib/server.go": 'package lib\nvar a = getEnv("PORT", "1")\n',
            "svc/node_modules/x/index.js": "app.listen(1)\n",
            "svc/dist/server.js": "app.listen(1)\n",
            "svc/target/x.rs": 'let a = "0.0.0.0:1".parse();\n',
            "svc/bundle.min.js": "app.listen(1)\n",
            "svc/util.py": "def add(a, b):\n    return a + b\n",
        },
    )
    found = survey(["."])
    assert [r.file for r in found.results] == ["./svc/app.py"]
    assert {file: why for file, why in found.skipped.items()} == {
        "./svc/app_test.go": "a test, vendored or generated file",
        "./svc/bundle.min.js": "a test, vendored or generated file",
        "./svc/target/x.rs": "a test, vendored or generated file",
        "./svc/test_app.py": "a test, vendored or generated file",
        "./svc/tests/test_app.py": "a test, vendored or generated file",
        "./svc/util.py": "code that states no listening port",
    }  # vendor, node_modules and dist are never walked


def test_a_file_named_on_its_own_is_read_wherever_it_is(here: Path) -> None:
    _write(here, {"tests/test_app.py": "import os\nPORT = os.getenv('PORT', '8000')\n"})
    assert [len(r.ports) for r in scan(["tests/test_app.py"])] == [1]


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_gitignore_is_honoured_in_a_git_work_tree(here: Path) -> None:
    read = "import os\nPORT = os.getenv('PORT', '8000')\n"
    _write(
        here,
        {
            ".gitignore": "generated/\n*.local.py\n",
            "svc/app.py": read,
            "svc/generated/server.py": read,
            "svc/settings.local.py": read,
            "svc/.gitignore": "old.py\n",
            "svc/old.py": read,
        },
    )
    assert sorted(r.file for r in scan(["."]) if r.kind == "code") == [
        "./svc/app.py",
        "./svc/generated/server.py",
        "./svc/old.py",
        "./svc/settings.local.py",
    ]  # not a work tree: .gitignore says nothing
    subprocess.run(["git", "init", "-q", str(here)], check=True)
    found = survey(["."])
    assert sorted(r.file for r in found.results if r.kind == "code") == ["./svc/app.py"]
    assert found.skipped["./svc/old.py"] == "ignored by .gitignore"


def test_import_takes_the_variable_the_program_reads(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from portplan.cli import main

    spring = "server:\n  port: ${PORT:8080}\nmanagement:\n  server:\n    port: 9090\n"
    compose = (
        COMPOSE
        + "  orders:\n    build: ./orders\n    ports: ['8080:8080', '9090:9090']\n"
        + "  db:\n    image: postgres:16\n    ports: ['5432:5432']\n"
    )
    _write(
        here,
        {
            "compose.yaml": compose,
            "services/web/main.go": GO,
            "orders/Dockerfile": "FROM eclipse-temurin\n",
            "orders/src/main/resources/application.yml": spring,
        },
    )
    main(["import", ".", "-o", "portplan.yaml"])
    plan = (here / "portplan.yaml").read_text()
    assert (
        "  web:\n    exposure: public\n    ports:\n      port:\n"
        "        port: 8087  # note: ./services/web/main.go:4 reads HTTP_PORT (default 8088)\n"
        "        env: HTTP_PORT\n"
    ) in plan
    assert "        env: PORT\n" in plan  # orders' 8080, from ${PORT:8080}
    assert "        env: MANAGEMENT_SERVER_PORT\n" in plan  # orders' 9090
    main(["generate", "env", "--out", "out"])
    capsys.readouterr()
    assert (here / "out" / "env" / "web.env").read_text().splitlines()[-1] == "HTTP_PORT=8087"
    orders = (here / "out" / "env" / "orders.env").read_text().splitlines()
    assert [line for line in orders if "=" in line] == ["PORT=8080", "MANAGEMENT_SERVER_PORT=9090"]


PYTHON_APP = (
    'import os\nimport uvicorn\n\nuvicorn.run("main:app", port=int(os.getenv("PORT", "8000")))\n'
)


@pytest.mark.parametrize(
    ("dockerfile", "found"),
    [
        ("FROM python:3.12\nENV PORT=8087\n", []),
        ("FROM python:3.12\nENV PORT 8087\n", []),
        ('FROM python:3.12\nCMD ["uvicorn", "main:app", "--port", "8087"]\n', []),
        ("FROM python:3.12 AS build\nENV PORT=8087\nFROM python:3.12-slim\nENV PORT=9000\n", [
            (
                "PP218",
                ["./compose.yaml:5:10", "./services/web/Dockerfile:4:5",
                 "./services/web/main.py:4:34"],
                "web: compose publishes 8087:8087 (container port 8087), but the program "
                "listens on 9000: main.py:4 reads PORT, which Dockerfile:4 sets to 9000",
            )
        ]),
        # the final stage inherits ENV and CMD of the stage it is built FROM ...
        ("FROM python:3.12 AS base\nENV PORT=8087\nFROM base AS runtime\nRUN pip install .\n", []),
        ('FROM python:3.12 AS base\nCMD ["uvicorn", "main:app", "--port", "8087"]\n'
         "FROM base\nRUN true\n", []),
        ("FROM python:3.12 AS base\nENV PORT=9000\nFROM base\nENV PORT=8087\n", []),
        # ... not those of a stage it only copies from
        ("FROM python:3.12 AS build\nENV PORT=8087\nFROM python:3.12-slim\n"
         "COPY --from=build /app /app\n", [
            (
                "PP218",
                ["./compose.yaml:5:10", "./compose.yaml:2:3", "./services/web/main.py:4:34"],
                "web: compose publishes 8087:8087 (container port 8087), but the program "
                "listens on 8000: main.py:4 reads PORT, which its compose environment does "
                "not set, and defaults to 8000",
            )
        ]),
    ],
    ids=["env", "env-space", "cmd", "final-stage", "inherited-env", "inherited-cmd",
         "own-env-wins", "builder-env"],
)  # fmt: skip
def test_the_image_sets_the_variable_or_the_port(
    here: Path, dockerfile: str, found: list[tuple[str, list[str], str]]
) -> None:
    _write(
        here,
        {
            "compose.yaml": COMPOSE,
            "services/web/Dockerfile": dockerfile,
            "services/web/main.py": PYTHON_APP,
        },
    )
    assert _findings(here) == found


STAGES = """\
FROM python:3.12-slim AS base
ENV PORT=8087
FROM base AS dev
CMD ["uvicorn", "main:app", "--reload", "--port", "5000"]
FROM base AS prod
CMD ["gunicorn", "-b", "0.0.0.0:8087", "main:app"]
"""


def test_the_compose_target_is_the_image(here: Path) -> None:
    """`build: {target: dev}` runs the dev stage's command (port 5000), not the last
    stage's: compose publishes 8087 where the dev server listens on 5000."""
    compose = (
        "services:\n  web:\n    build: {context: ./services/web, target: dev}\n"
        "    ports:\n      - 8087:8087\n"
    )
    app = "from fastapi import FastAPI\n\napp = FastAPI()\n"
    _write(
        here,
        {"compose.yaml": compose, "services/web/Dockerfile": STAGES, "services/web/main.py": app},
    )
    assert _findings(here) == [
        (
            "PP218",
            ["./compose.yaml:5:9", "./services/web/Dockerfile:4:5"],
            "web: compose publishes 8087:8087 (container port 8087), but the program "
            "listens on 5000: Dockerfile:4 listens on 5000",
        )
    ]
    _write(here, {"compose.yaml": compose.replace("target: dev", "target: prod")})
    assert _findings(here) == []


def test_a_gunicorn_config_file_binds_another_port(here: Path) -> None:
    """As in a book's sample shop: compose maps 80:8000, the Dockerfile runs gunicorn with
    its config file, which binds 8001."""
    config = "import os\n\nworker_class = 'gevent'\nbind = '0.0.0.0:8001'\n"
    compose = "services:\n  holdings:\n    build: ./holdings\n    ports:\n      - 80:8000\n"
    dockerfile = 'FROM python:3.12\nCMD ["gunicorn", "-c", "config.py", "app:app"]\nEXPOSE 8000\n'
    _write(
        here,
        {
            "compose.yaml": compose,
            "holdings/Dockerfile": dockerfile,
            "holdings/config.py": config,
        },
    )
    assert _findings(here) == [
        (
            "PP218",
            ["./compose.yaml:5:9", "./holdings/config.py:4:8"],
            "holdings: compose publishes 80:8000 (container port 8000), but the program "
            "listens on 8001: config.py:4 listens on 8001",
        )
    ]


def test_a_folder_several_services_build_from_is_the_home_of_the_one_with_ports(
    here: Path,
) -> None:
    compose = (
        "services:\n"
        "  site:\n    build: ./app\n    ports: ['8000:8000']\n"
        "  jobs:\n    build: ./app\n    command: celery worker\n"
        "  a:\n    build: ./both\n    ports: ['81:80']\n"
        "  b:\n    build: ./both\n    ports: ['82:80']\n"
    )
    _write(
        here,
        {
            "compose.yaml": compose,
            "app/Dockerfile": "FROM python\n",
            "app/main.py": PYTHON_APP,
            "both/Dockerfile": "FROM python\n",
            "both/main.py": PYTHON_APP,
        },
    )
    owners = {r.file: sorted({p.service for p in r.ports}) for r in scan(["."]) if r.kind == "code"}
    assert owners == {"./app/main.py": ["site"], "./both/main.py": ["both"]}


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: acme/web
          ports:
            - containerPort: 8087
"""


@pytest.mark.parametrize(
    ("env", "found"),
    [
        (
            "",
            [
                (
                    "PP218",
                    ["./deploy/web.yaml:13:30", "./deploy/web.yaml:3:18", "./web/main.go:4:10"],
                    "web: Kubernetes declares container port 8087, but the program listens on "
                    "8088: main.go:4 reads HTTP_PORT, which its environment does not set, and "
                    "defaults to 8088",
                )
            ],
        ),
        ("          env: [{name: HTTP_PORT, value: '8087'}]\n", []),
    ],
    ids=["unset", "set"],
)
def test_without_compose_the_container_ports_kubernetes_declares(
    here: Path, env: str, found: list[tuple[str, list[str], str]]
) -> None:
    _write(
        here,
        {
            "deploy/web.yaml": DEPLOYMENT + env,
            "web/go.mod": "module web\n",
            "web/main.go": GO,
        },
    )
    assert _findings(here) == found


@pytest.mark.parametrize(
    "command",
    [
        'command: ["serve", "--port", "8087"]',
        "command: serve --port=8087",
        'entrypoint: ["/app/web"]\n    command: ["--listen", "0.0.0.0:8087"]',
    ],
)
def test_a_compose_command_with_a_port_flag_replaces_the_default(here: Path, command: str) -> None:
    """compose's `command:`/`entrypoint:` replace the image's command line: a port flag
    there is where the program listens, whatever its code's default says."""
    compose = COMPOSE.replace("    ports:", f"    {command}\n    ports:")
    _write(here, {"compose.yaml": compose, "services/web/main.go": GO})
    assert _findings(here) == []


def test_a_compose_command_without_a_port_flag_keeps_the_default(here: Path) -> None:
    compose = COMPOSE.replace("    ports:", '    command: ["web", "--verbose"]\n    ports:')
    _write(here, {"compose.yaml": compose, "services/web/main.go": GO})
    assert [rule for rule, _, _ in _findings(here)] == ["PP218"]
