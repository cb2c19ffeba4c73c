"""The Dockerfile source: EXPOSE (ranges, /udp, ARG and ENV defaults), HEALTHCHECK, stages,
and the service a Dockerfile belongs to (the compose build that uses it) -> exact
observations and findings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from portplan.reconcile.core import reconcile
from portplan.sources import detect, scan
from portplan.sources.base import SourceResult
from portplan.sources.dockerfile import is_dockerfile_name, read_dockerfile

Row = tuple[Any, ...]

SPRING = """\
# syntax=docker/dockerfile:1
ARG APP_PORT=8080
FROM maven:3-eclipse-temurin-17 AS build
EXPOSE 9999
RUN mvn -q package

FROM eclipse-temurin:17-jre AS runtime
ARG APP_PORT
ENV ADMIN_PORT=9090
EXPOSE ${APP_PORT} \\
    ${ADMIN_PORT}/tcp 5353/udp 7000-7005 $NOT_SET ${ALSO_NOT:-7100}

FROM runtime
HEALTHCHECK --interval=30s CMD curl -fs http://localhost:${APP_PORT}/actuator/health || exit 1
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def rows(result: SourceResult) -> list[Row]:
    return [
        (p.service, p.number, p.range_end, p.protocol, p.published, p.target,
         p.location.line, p.location.column)
        for p in result.ports
    ]  # fmt: skip


def test_expose_and_healthcheck_of_the_built_stage(tmp_path: Path) -> None:
    path = write(tmp_path / "ledger", {"Dockerfile": SPRING}) / "Dockerfile"
    result = read_dockerfile(str(path))
    assert rows(result) == [
        ("ledger", 8080, None, "tcp", False, 8080, 10, 8),  # ARG default of the global ARG
        ("ledger", 9090, None, "tcp", False, 9090, 11, 5),  # ENV
        ("ledger", 5353, None, "udp", False, 5353, 11, 23),
        ("ledger", 7000, 7005, "tcp", False, 7000, 11, 32),
        ("ledger", 7100, None, "tcp", False, 7100, 11, 51),  # ${X:-7100}; $NOT_SET: nothing
        ("ledger", 8080, None, "tcp", False, 8080, 14, 41),  # the health check's URL
    ]
    [service] = result.services
    assert (service.service, service.health_path, service.health_port) == (
        "ledger",
        "/actuator/health",
        8080,
    )
    assert result.errors == []


def test_a_build_stage_is_not_the_image() -> None:
    text = "FROM golang:1.22 AS build\nEXPOSE 6060\nFROM alpine:3\nEXPOSE 8000\n"
    result = SourceResult("x/Dockerfile", "dockerfile")
    from portplan.sources.dockerfile import parse_dockerfile

    parse_dockerfile(text, "x/Dockerfile", "x", result)
    assert [(p.number, p.location.line) for p in result.ports] == [(8000, 4)]


def test_exec_form_healthcheck_and_healthcheck_none(tmp_path: Path) -> None:
    exec_form = (
        'FROM node:20\nEXPOSE 3000\nHEALTHCHECK CMD ["wget", "-qO-", '
        '"http://127.0.0.1:3000/healthz"]\n'
    )
    result = read_dockerfile(str(write(tmp_path / "web", {"Dockerfile": exec_form}) / "Dockerfile"))
    assert [(p.number, p.location.line, p.location.column) for p in result.ports] == [
        (3000, 2, 8),
        (3000, 3, 52),
    ]
    assert result.services[0].health_path == "/healthz"
    none = "FROM node:20\nEXPOSE 3000\nHEALTHCHECK NONE\n"
    result = read_dockerfile(str(write(tmp_path / "api", {"Dockerfile": none}) / "Dockerfile"))
    assert [p.number for p in result.ports] == [3000]
    assert result.services[0].health_path is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Dockerfile", True),
        ("dockerfile", True),
        ("Dockerfile.prod", True),
        ("Dockerfile-for-app-service", True),
        ("api.Dockerfile", True),
        ("Containerfile", True),
        ("Dockerfile.md", False),
        ("Dockerfile.dockerignore", False),
        ("mydockerfile", False),
    ],
)
def test_dockerfile_names(name: str, expected: bool) -> None:
    assert is_dockerfile_name(name) is expected


def test_not_utf8_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"FROM alpine\nEXPOSE 80 \xff\n")
    assert detect(str(path)) == "dockerfile"
    [error] = read_dockerfile(str(path)).errors
    assert error.message == f"could not read {path}:2:11: not UTF-8 text"


COMPOSE = """\
services:
  auth:
    build: ./auth-service
    ports: ["12340:12340"]
  users:
    build:
      context: .
      dockerfile: docker/users.Dockerfile
    ports: ["12342:12342"]
"""


def found(root: Path) -> list[tuple[str, list[str], str]]:
    return [
        (f.rule, [f"{Path(loc.file).name}:{loc.line}" for loc in f.locations], f.message)
        for f in reconcile(scan([root]))
    ]


def test_expose_of_the_built_dockerfile_is_the_services_port(tmp_path: Path) -> None:
    """The build's Dockerfile states its service's container port: EXPOSE 12349 where
    compose publishes 12340 is drift; users' Dockerfile (named by `dockerfile:`) agrees."""
    root = write(
        tmp_path,
        {
            "compose.yaml": COMPOSE,
            "auth-service/Dockerfile": "FROM eclipse-temurin:17\nEXPOSE 12349\n",
            "docker/users.Dockerfile": "FROM eclipse-temurin:17\nEXPOSE 12342\n",
        },
    )
    assert found(root) == [
        (
            "PP201",
            ["Dockerfile:2", "compose.yaml:4"],
            "auth: port is 12349 here but 12340 in compose.yaml:4",
        )
    ]


def test_only_the_dockerfile_the_build_names_counts(tmp_path: Path) -> None:
    """Another Dockerfile in the build's folder (an App Service variant with its SSH port)
    is an alternative that is not built: it states nothing."""
    compose = 'services:\n  vote:\n    build: ./vote\n    ports: ["8080:80"]\n'
    root = write(
        tmp_path,
        {
            "compose.yaml": compose,
            "vote/Dockerfile": "FROM python:3.12\nEXPOSE 80\n",
            "vote/Dockerfile-for-app-service": "FROM python:3.12\nEXPOSE 2222 80\n",
        },
    )
    assert found(root) == []
    results = {Path(r.file).name: r for r in scan([root])}
    assert [p.service for p in results["Dockerfile"].ports] == ["vote"]
    assert results["Dockerfile-for-app-service"].ports == []


def test_a_dockerfile_shared_by_services_belongs_to_the_one_with_ports(tmp_path: Path) -> None:
    compose = (
        "services:\n  web:\n    build: .\n    ports: ['1377:1337']\n"
        "  worker:\n    build: .\n    command: worker\n"
    )
    root = write(tmp_path, {"compose.yaml": compose, "Dockerfile": "FROM node\nEXPOSE 1337\n"})
    dockerfile = next(r for r in scan([root]) if r.kind == "dockerfile")
    assert [p.service for p in dockerfile.ports] == ["web"]
    assert found(root) == []


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: calculator
spec:
  template:
    spec:
      containers:
      - name: calculator
        image: example/calculator:1.0
        ports:
        - containerPort: 8080
"""


def test_a_dockerfile_no_compose_builds_names_its_folder(tmp_path: Path) -> None:
    """Without a compose build, the folder names the service (as a Kubernetes workload is
    often named): two EXPOSE lines are two ports, not two values of one."""
    root = write(
        tmp_path,
        {
            "calculator/Dockerfile": "FROM node\nEXPOSE 8080\nEXPOSE 3000\n",
            "deploy/calculator.yaml": DEPLOYMENT,
        },
    )
    assert found(root) == []
    (tmp_path / "calculator/Dockerfile").write_text("FROM node\nEXPOSE 8081\n")
    assert found(root) == [
        (
            "PP201",
            ["Dockerfile:2", "calculator.yaml:12"],
            "calculator: port is 8081 here but 8080 in calculator.yaml:12",
        )
    ]


def test_a_healthcheck_on_a_port_the_image_does_not_expose(tmp_path: Path) -> None:
    """HEALTHCHECK calls the service's own container on 8080 where it listens on 8000: a
    warning (PP216) naming both lines."""
    compose = 'services:\n  api:\n    build: ./api\n    ports: ["9000:8000"]\n'
    dockerfile = (
        "FROM python:3.12-slim\nEXPOSE 8000\n"
        "HEALTHCHECK CMD curl -fs http://localhost:8080/health || exit 1\n"
    )
    root = write(tmp_path, {"compose.yaml": compose, "api/Dockerfile": dockerfile})
    assert [
        (f.rule, f.level.name, [f"{Path(loc.file).name}:{loc.line}" for loc in f.locations])
        for f in reconcile(scan([root]))
    ] == [("PP216", "WARNING", ["Dockerfile:3", "Dockerfile:2", "compose.yaml:4"])]


NODE_STAGES = """\
FROM node:20-alpine AS base
ENV PORT=3000 METRICS_PORT=9464
EXPOSE $METRICS_PORT

FROM base AS build
ENV PORT=6006
EXPOSE 6006
RUN npm run build

FROM base AS runtime
COPY --from=build /app/dist ./dist
EXPOSE ${PORT}
HEALTHCHECK CMD wget -qO- http://localhost:$PORT/healthz || exit 1

FROM nginx:1.27 AS static
COPY --from=build /app/dist /usr/share/nginx/html
EXPOSE 80
"""


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        # the last stage: the image nginx serves, nothing of node's stages
        (None, [("shop", 80, None, "tcp", False, 80, 17, 8)]),
        # runtime: its own EXPOSE with the ENV of base, base's EXPOSE; not the build stage's
        ("runtime", [
            ("shop", 9464, None, "tcp", False, 9464, 3, 8),
            ("shop", 3000, None, "tcp", False, 3000, 12, 8),
            ("shop", 3000, None, "tcp", False, 3000, 13, 27),  # the health check (at its URL)
        ]),
        ("build", [
            ("shop", 9464, None, "tcp", False, 9464, 3, 8),
            ("shop", 6006, None, "tcp", False, 6006, 7, 8),
        ]),
        ("nope", []),  # no such stage: the build fails, the file says nothing
    ],
)  # fmt: skip
def test_the_built_stage_and_what_it_inherits(
    tmp_path: Path, target: str | None, expected: list[Row]
) -> None:
    path = write(tmp_path / "shop", {"Dockerfile": NODE_STAGES}) / "Dockerfile"
    result = read_dockerfile(str(path), target)
    assert rows(result) == expected


def test_each_service_is_the_stage_it_builds(tmp_path: Path) -> None:
    """Two services built from one Dockerfile to different targets: each has its stage's
    ports (the `runtime` app's 3000 and 9464, the `static` server's 80), as compose maps."""
    compose = (
        "services:\n"
        "  app:\n    build: {context: ./shop, target: runtime}\n    ports: ['3000:3000']\n"
        "  web:\n    build: {context: ./shop, target: static}\n    ports: ['8080:80']\n"
    )
    root = write(tmp_path, {"compose.yaml": compose, "shop/Dockerfile": NODE_STAGES})
    images = [r for r in scan([root]) if r.kind == "dockerfile"]
    assert sorted((p.service, p.number, p.location.line) for r in images for p in r.ports) == [
        ("app", 3000, 12),
        ("app", 3000, 13),
        ("app", 9464, 3),
        ("web", 80, 17),
    ]
    assert found(root) == []
    # built to a stage that exposes another port than compose maps: drift, at that stage
    root = write(tmp_path, {"compose.yaml": compose.replace("target: static", "target: base")})
    assert found(root) == [
        (
            "PP201",
            ["Dockerfile:3", "compose.yaml:7"],
            "web: port is 9464 here but 8080 in compose.yaml:7",
        )
    ]
