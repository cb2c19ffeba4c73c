"""Health checks as the files state them: the script a Dockerfile's HEALTHCHECK runs is
read (its URL to the container itself is the service's health check, located in the
script); a check of a port the service lists is that port, not another value of its http
port; a Kubernetes probe's `path: healthz` is the path the kubelet asks for, `/healthz`."""

from __future__ import annotations

from pathlib import Path

import pytest

from portplan.findings import Level
from portplan.importer.core import import_paths
from portplan.plan import loader
from portplan.reconcile.core import reconcile_paths
from portplan.sources.dockerfile import read_dockerfile

WEB_DOCKERFILE = """\
FROM node:20-alpine
WORKDIR /app
COPY package.json server.js ./
COPY --chmod=755 scripts/healthcheck.sh /usr/local/bin/
EXPOSE 3000
HEALTHCHECK --interval=10s CMD ["/bin/sh", "/usr/local/bin/healthcheck.sh"]
CMD ["node", "server.js"]
"""
WEB_SCRIPT = """\
#!/bin/sh
set -e
# the app answers on /healthz
wget -q -O /dev/null http://localhost:8080/healthz || exit 1
"""
# An edge proxy listening on 80 and 3100; its check calls 80 in one mode, 3100 in the
# other; its env file gives the http port 3100.
EDGE_DOCKERFILE = "FROM caddy:2\nCOPY check.sh /\nEXPOSE 80 3100\nHEALTHCHECK CMD sh /check.sh\n"
EDGE_SCRIPT = """\
#!/bin/sh
if [ "$SUBPATH" = "true" ]; then
  curl -fs http://localhost:80/api/ping || exit 1
else
  curl -fs http://localhost:3100/ || exit 1
fi
"""
COMPOSE = """\
services:
  web:
    build: ./web
    ports: ["3000:3000"]
  edge:
    build: ./edge
    env_file: [edge/.env]
    ports: ["3100:3100", "3080:80"]
"""


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def _project(root: Path, edge_dockerfile: str = EDGE_DOCKERFILE) -> Path:
    return _tree(
        root,
        {
            "compose.yaml": COMPOSE,
            "web/Dockerfile": WEB_DOCKERFILE,
            "web/scripts/healthcheck.sh": WEB_SCRIPT,
            "edge/Dockerfile": edge_dockerfile,
            "edge/check.sh": EDGE_SCRIPT,
            "edge/.env": "ADMIN_URL=http://localhost:3100\n",
        },
    )


def test_the_script_a_healthcheck_runs_states_the_port_it_checks(tmp_path: Path) -> None:
    root = _project(tmp_path)
    result = read_dockerfile(str(root / "web/Dockerfile"))
    [health] = [p for p in result.ports if p.reference]
    script = str(root / "web/scripts/healthcheck.sh")
    assert (health.number, str(health.location)) == (8080, f"{script}:4:39")
    assert (result.services[0].health_path, result.services[0].health_port) == ("/healthz", 8080)


def test_a_script_checking_a_port_the_service_does_not_listen_on_is_reported(
    tmp_path: Path,
) -> None:
    """web's script checks 8080 while web listens on 3000 (EXPOSE, compose): the check
    fails in every container. edge's script checks 80 (one of its ports) while its env
    file calls its http port 3100: no finding (before the listings were asked, 80 was
    another value of the http port: PP201)."""
    root = _project(tmp_path)
    found = reconcile_paths([root]).findings
    assert [(f.rule, f.message, str(f.locations[0])) for f in found if f.level > Level.INFO] == [
        (
            "PP216",
            "web: localhost:8080 reaches web on 8080, but web listens on 3000",
            f"{root}/web/scripts/healthcheck.sh:4:39",
        )
    ]


@pytest.mark.parametrize(
    "dockerfile",
    [
        "FROM caddy:2\nEXPOSE 80 3100\nHEALTHCHECK CMD curl -fs http://localhost:80/api/ping\n",
        # a script copied from another stage is not the build context's: not read
        "FROM caddy:2\nCOPY --from=base /check.sh /\nEXPOSE 80 3100\nHEALTHCHECK CMD sh /check.sh\n",
        # nor one outside the build context (the builder refuses it)
        "FROM caddy:2\nCOPY ../web/scripts/healthcheck.sh /\nEXPOSE 80 3100\n"
        "HEALTHCHECK CMD sh /healthcheck.sh\n",
    ],
)
def test_a_check_of_a_listed_port_is_not_another_value_of_the_http_port(
    dockerfile: str, tmp_path: Path
) -> None:
    root = _project(tmp_path, edge_dockerfile=dockerfile)
    found = reconcile_paths([root]).findings
    assert [f.rule for f in found if f.level is Level.ERROR] == []
    edge = read_dockerfile(str(root / "edge/Dockerfile"))
    assert [p.number for p in edge.ports if p.reference] == ([80] if "curl" in dockerfile else [])


PROBED = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: label-proxy}
spec:
  template:
    spec:
      containers:
        - name: proxy
          image: example/label-proxy:1
          ports: [{name: http, containerPort: 8080}, {name: healthz, containerPort: 8081}]
          livenessProbe:
            httpGet: {path: healthz, port: healthz}
"""


def test_a_probe_path_without_its_slash_is_imported_as_the_kubelet_asks_for_it(
    tmp_path: Path,
) -> None:
    """Before, the plan said `health: {path: healthz}`, which the plan's schema refuses
    (`generate` then failed on the imported plan, exit 2)."""
    root = _tree(tmp_path / "src", {"deploy.yaml": PROBED})
    plan = loader.load_text(import_paths([root]).text)
    port = plan.services["label-proxy"].port("healthz")
    assert port is not None and port.health is not None
    assert (port.number, port.health.path) == (8081, "/healthz")
