"""Proxy configurations: nginx (listen, upstream, proxy_pass), Caddyfile (site ports,
reverse_proxy), Envoy (listeners, cluster endpoints) and Traefik labels in compose. Listen
ports are the owner's own container ports; upstreams are references, held to the ports their
targets declare (PP216)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from portplan.reconcile.core import reconcile
from portplan.sources import detect, scan
from portplan.sources.base import SourceResult
from portplan.sources.caddy import read_caddyfile
from portplan.sources.envoy import read_envoy
from portplan.sources.nginx import read_nginx

Row = tuple[Any, ...]

NGINX = """\
# the edge proxy
upstream api_pool {
    server api:8080 max_fails=3;
    server api-canary:8080 backup;
}

server {
    listen       80;
    listen  [::]:80;
    listen 443 ssl;
    server_name  shop.example.com;

    location /api/ {
        proxy_pass http://api_pool/;
    }
    location /web/ {
        proxy_pass http://web;             # port 80 by its scheme
    }
    location /admin/ {
        set $admin "http://admin:9000";
        proxy_pass $admin;
    }
    location /env/ {
        proxy_pass $BACKEND_URI;           # set by the entrypoint: not written here
    }
    location /side/ {
        proxy_pass http://127.0.0.1:3500;  # a sidecar on the container's own network
    }
    location /rpc/ {
        grpc_pass grpc://rpc:50051;
    }
}
"""

CADDYFILE = """\
{
    admin off
}

:8080, localhost:8443 {
    reverse_proxy /api/* api:8080 api-2:8080
    reverse_proxy @assets {
        to http://assets
    }
    reverse_proxy {$LEGACY_HOST}:9000
}

shop.example.com {
    reverse_proxy web:3000
}
"""

ENVOY = """\
admin:
  address:
    socket_address: {address: 0.0.0.0, port_value: 8001}
static_resources:
  listeners:
  - address:
      socket_address:
        address: 0.0.0.0
        port_value: 10000
  clusters:
  - name: catalog
    load_assignment:
      cluster_name: catalog
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address:
                address: catalog-api
                port_value: 80
  - name: sidecar
    hosts:
    - socket_address:
        address: 127.0.0.1
        port_value: 3500
"""


def rows(result: SourceResult) -> list[Row]:
    return [
        (p.service, p.number, p.reference, p.owner, p.location.line, p.location.column)
        for p in result.ports
    ]


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def by_name(root: Path) -> dict[str, SourceResult]:
    return {Path(r.file).name: r for r in scan([root])}


def test_nginx(tmp_path: Path) -> None:
    root = write(tmp_path, {"edge/nginx.conf": NGINX})
    assert detect(str(root / "edge/nginx.conf")) == "nginx"
    assert rows(read_nginx(str(root / "edge/nginx.conf"))) == [
        ("api", 8080, True, "nginx", 3, 16),  # upstream servers
        ("api-canary", 8080, True, "nginx", 4, 23),
        ("nginx", 80, False, None, 8, 18),  # listen ([::]:80 is the same port)
        ("nginx", 443, False, None, 10, 12),
        ("web", 80, True, "nginx", 17, 27),  # http://web: its scheme's port
        ("admin", 9000, True, "nginx", 21, 20),  # through `set $admin`
        ("rpc", 50051, True, "nginx", 30, 30),
    ]
    # no service mounts it or builds from its folder: its listen ports are no one's
    assert [p.number for p in by_name(root)["nginx.conf"].ports] == [8080, 8080, 80, 9000, 50051]


def test_nginx_by_content_only(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "proxy/conf": "server {\n    listen 80;\n    location / { proxy_pass http://b:8000; }\n}\n",
            "supervisord.conf": "[program:app]\ncommand=/usr/bin/app --port 8080\n",
            "default.conf.template": "server {\n  listen ${NGINX_PORT};\n}\n",
        },
    )
    assert detect(str(root / "proxy/conf")) == "nginx"
    assert detect(str(root / "supervisord.conf")) is None
    assert detect(str(root / "default.conf.template")) == "nginx"
    assert by_name(root)["default.conf.template"].ports == []


def test_caddyfile(tmp_path: Path) -> None:
    root = write(tmp_path, {"Caddyfile": CADDYFILE})
    assert rows(read_caddyfile(str(root / "Caddyfile"))) == [
        ("caddy", 8080, False, None, 5, 2),
        ("caddy", 8443, False, None, 5, 18),
        ("api", 8080, True, "caddy", 6, 30),
        ("api-2", 8080, True, "caddy", 6, 41),
        ("assets", 80, True, "caddy", 8, 19),  # `to` in the block, http's port
        ("web", 3000, True, "caddy", 14, 23),
    ]


def test_envoy(tmp_path: Path) -> None:
    root = write(tmp_path, {"gateway/envoy.yaml": ENVOY})
    assert detect(str(root / "gateway/envoy.yaml")) == "envoy"
    result = read_envoy(str(root / "gateway/envoy.yaml"))
    assert rows(result) == [
        ("envoy", 8001, False, None, 3, 52),
        ("envoy", 10000, False, None, 9, 21),
        ("catalog-api", 80, True, "envoy", 20, 29),
    ]
    assert [p.port_name for p in result.ports] == ["admin", None, None]


COMPOSE = """\
services:
  proxy:
    image: nginx:1.27
    ports: ["80:80"]
    volumes:
      - ./edge/nginx.conf:/etc/nginx/conf.d/default.conf:ro
  api:
    image: example/api:2.0
    expose: ["8081"]
  web:
    image: example/web:2.0
    labels:
      - traefik.enable=true
      - traefik.http.services.web.loadbalancer.server.port=3000
  shop:
    build: ./shop
    labels:
      traefik.http.services.shop.loadbalancer.server.port: "8000"
      traefik.udp.services.dns.loadbalancer.server.port: "53"
"""


def test_a_mounted_nginx_config_belongs_to_its_service(tmp_path: Path) -> None:
    """The upstream reaches api on 8080 where api listens on 8081 (PP216); the proxy's own
    listen ports are the proxy's; Traefik's label says web serves on 3000."""
    nginx = "upstream pool {\n    server api:8080;\n}\nserver {\n    listen 80;\n}\n"
    root = write(tmp_path, {"compose.yaml": COMPOSE, "edge/nginx.conf": nginx})
    results = by_name(root)
    assert rows(results["nginx.conf"]) == [
        ("api", 8080, True, "proxy", 2, 16),
        ("proxy", 80, False, None, 5, 12),
    ]
    labels = [p for p in results["compose.yaml"].ports if p.source == "traefik"]
    at = [
        (p.service, p.number, p.protocol, p.side, p.location.line, p.location.column)
        for p in labels
    ]
    assert at == [
        ("web", 3000, "tcp", "container", 14, 60),
        ("shop", 8000, "tcp", "container", 18, 61),
        ("shop", 53, "udp", "container", 19, 59),
    ]
    assert [
        (f.rule, [f"{Path(loc.file).name}:{loc.line}" for loc in f.locations], f.message)
        for f in reconcile(scan([root]))
    ] == [
        (
            "PP216",
            ["nginx.conf:2", "compose.yaml:9"],
            "proxy: api:8080 reaches api on 8080, but api listens on 8081",
        )
    ]
