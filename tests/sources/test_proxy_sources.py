"""Proxy configurations: nginx (listen, upstream, proxy_pass), Caddyfile (site ports,
reverse_proxy), Envoy (listeners, cluster endpoints), HAProxy (bind, server, backends) and
Traefik labels in compose. Listen ports are the owner's own container ports; upstreams are
references, held to the ports their targets declare (PP216); a HAProxy backend the file does
not define is PP214."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from portplan.reconcile.core import reconcile
from portplan.sources import detect, scan
from portplan.sources.base import SourceResult
from portplan.sources.caddy import read_caddyfile
from portplan.sources.envoy import read_envoy
from portplan.sources.haproxy import read_haproxy
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


HAPROXY = """\
global
    log stdout format raw local0
    stats socket ipv4@127.0.0.1:9999 level admin

defaults
    mode http
    timeout connect 5s

frontend www
    bind *:80
    bind :::443 v4v6 ssl crt /etc/ssl/site.pem   # both families
    bind "${LISTEN_ADDR}:8080",:8081
    bind "*:${METRICS_PORT-9101}"
    bind unix@/var/run/haproxy.sock
    bind :7000-7003
    use_backend api if { path_beg /api }
    use_backend %[req.hdr(host),lower,map(/etc/haproxy/hosts.map)]
    use_backend legacy if { path_beg /old }
    default_backend web

backend web
    balance roundrobin
    server web1 web:3000 check
    server web2 ipv4@web-2:3000 check
    server sidecar 127.0.0.1:3500
    server dyn "${DYN_HOST}:8000"
    server any web
    server-template api 3 api:8080 check

backend api
    server api1 api:9000 check

listen stats 0.0.0.0:8404
    stats enable

listen dns
    bind quic4@:853
    server ns1 dns:53
"""


def haproxy_rows(result: SourceResult) -> list[Row]:
    return [
        (p.service, p.number, p.protocol, p.reference, p.owner, p.location.line, p.location.column)
        for p in result.ports
    ]


def test_haproxy_listeners_servers_and_backends(tmp_path: Path) -> None:
    path = write(tmp_path, {"lb/haproxy.cfg": HAPROXY}) / "lb/haproxy.cfg"
    result = read_haproxy(str(path))
    assert haproxy_rows(result) == [
        ("haproxy", 80, "tcp", False, None, 10, 12),
        ("haproxy", 443, "tcp", False, None, 11, 13),  # `:::443`: the port after the last colon
        ("haproxy", 8080, "tcp", False, None, 12, 26),  # a variable address: the port still read
        ("haproxy", 8081, "tcp", False, None, 12, 33),
        ("haproxy", 7000, "tcp", False, None, 15, 11),
        ("web", 3000, "tcp", True, "haproxy", 23, 21),
        ("web-2", 3000, "tcp", True, "haproxy", 24, 28),  # after `ipv4@`
        ("api", 8080, "tcp", True, "haproxy", 28, 31),  # server-template's address
        ("api", 9000, "tcp", True, "haproxy", 31, 21),
        ("haproxy", 8404, "tcp", False, None, 33, 22),  # the old `listen NAME ADDR` header
        ("haproxy", 853, "udp", False, None, 37, 17),
        ("dns", 53, "tcp", True, "haproxy", 38, 20),
    ]
    assert [p.range_end for p in result.ports][4] == 7003
    assert [(p.address, p.side) for p in result.ports[:4]] == [
        (None, "container"),
        ("::", "container"),
        (None, "container"),
        (None, "container"),
    ]
    # the port is a variable: no number, only that the owner reads it
    assert [(v.service, v.name, v.sets, v.location.line, v.location.column)
            for v in result.variables] == [("haproxy", "METRICS_PORT", False, 13, 13)]  # fmt: skip
    assert [(m.message, m.location.line, m.location.column) for m in result.mismatches] == [
        (
            "use_backend legacy names no backend of this file "
            "(its backends: api, dns, stats, web): HAProxy refuses to start",
            18,
            17,
        )
    ]


@pytest.mark.parametrize(
    ("name", "text", "kind"),
    [
        ("haproxy.cfg", "global\n    daemon\n", "haproxy"),  # by name, whatever it holds
        ("edge.haproxy.cfg", "global\n", "haproxy"),
        ("haproxy/edge.cfg", "# managed by ansible\n", "haproxy"),  # a haproxy folder
        ("conf/lb.cfg", "frontend fe\n    bind :80\n", "haproxy"),  # by content
        ("conf/lb.conf", "backend be\n  server a a:80\n", "haproxy"),
        ("setup.cfg", "[metadata]\nname = shop\n", None),
        ("conf/other.cfg", "frontend = react\nbackend = flask\n", None),
    ],
)
def test_haproxy_discovery(tmp_path: Path, name: str, text: str, kind: str | None) -> None:
    path = write(tmp_path, {name: text}) / name
    assert detect(str(path)) == kind


HAPROXY_COMPOSE = """\
services:
  lb:
    image: haproxy:2.9
    ports: ["80:80", "8404:8404"]
    volumes:
      - ./haproxy:/usr/local/etc/haproxy:ro
  web:
    image: example/web:1.4
    expose: ["3000"]
  api:
    image: example/api:2.1
    expose: ["8000"]
"""

EDGE = """\
defaults
    mode http

frontend public
    bind :80
    acl is_api path_beg /api
    use_backend api if is_api
    use_backend admin if { path_beg /admin }
    default_backend web

backend web
    server web1 web:3000 check

backend api
    server api1 api:8080 check
    server cache1 cache:6379

listen stats
    bind *:8404
    stats enable
"""


def test_a_mounted_haproxy_config_is_its_service_s(tmp_path: Path) -> None:
    """The config belongs to lb (its folder is mounted): its binds are lb's ports, as
    compose publishes them (no finding); api:8080 reaches api where it listens on 8000
    (PP216), cache is no service (PP217), the admin backend is missing (PP214)."""
    root = write(tmp_path, {"compose.yaml": HAPROXY_COMPOSE, "haproxy/edge.cfg": EDGE})
    results = {Path(r.file).name: r for r in scan([root])}
    assert [(p.service, p.number, p.owner) for p in results["edge.cfg"].ports] == [
        ("lb", 80, None),
        ("web", 3000, "lb"),
        ("api", 8080, "lb"),
        ("cache", 6379, "lb"),
        ("lb", 8404, None),
    ]
    found = [
        (f.rule, f.level.name, [f"{Path(at.file).name}:{at.line}:{at.column}" for at in f.locations],
         f.message)
        for f in reconcile(scan([root]))
    ]  # fmt: skip
    assert found == [
        (
            "PP214",
            "ERROR",
            ["edge.cfg:8:17"],
            "use_backend admin names no backend of this file (its backends: api, stats, web): "
            "HAProxy refuses to start",
        ),
        (
            "PP216",
            "INFO",
            ["edge.cfg:15:21", "compose.yaml:12:15"],
            "lb: api:8080 reaches api on 8080, but api listens on 8000",
        ),
        (
            "PP217",
            "WARNING",
            ["edge.cfg:16:25"],
            "lb: cache:6379 reaches cache, which no source defines",
        ),
    ]


def test_an_unmounted_haproxy_config_keeps_only_its_references(tmp_path: Path) -> None:
    root = write(tmp_path, {"haproxy.cfg": "frontend f\n    bind :80\n    default_backend b\n"
                            "backend b\n    server s1 shop:8080\n"})  # fmt: skip
    (result,) = scan([root])
    assert [(p.service, p.number, p.reference) for p in result.ports] == [("shop", 8080, True)]


def test_haproxy_sections_whatever_the_indentation(tmp_path: Path) -> None:
    """Generated configs indent sections or not at all: a section keyword starts a section
    wherever it is (no directive shares a section's name)."""
    text = "  frontend fe\n  bind :8080\n  default_backend be\nbackend be\nserver a app:9000\n"
    path = write(tmp_path, {"lb.haproxy.cfg": text}) / "lb.haproxy.cfg"
    result = read_haproxy(str(path))
    assert haproxy_rows(result) == [
        ("haproxy", 8080, "tcp", False, None, 2, 9),
        ("app", 9000, "tcp", True, "haproxy", 5, 14),
    ]
    assert result.mismatches == []


# A GIS-portal-style stack: nginx's conf.d snippet (an envsubst template) sets $upstream in
# each location before `proxy_pass http://$upstream`; django's own healthcheck calls 8001.
PORTAL = """\
services:
  django:
    build: .
    healthcheck:
      test: "curl --fail http://127.0.0.1:8001/"
  maps:
    image: example/maps:2
  proxy:
    build: ./nginx
    ports: ["80:80"]
"""
SNIPPET = """\
location /maps {
    set $upstream maps:8080;
    proxy_pass http://$upstream;
}
location /ci {
    set $upstream ci:$CI_HTTP_PORT;
    proxy_pass http://$upstream;
}
location / {
    set $upstream django:8000;
    proxy_pass http://$upstream;
}
"""


def test_nginx_variables_set_before_each_pass(tmp_path: Path) -> None:
    """Each `proxy_pass http://$upstream` reaches what the `set` before it gave (one that an
    envsubst variable still fills states nothing); django's own healthcheck on 8001 misses
    the 8000 its image exposes and nginx reaches it on: an error, not a warning."""
    files = {
        "docker-compose.yml": PORTAL,
        "Dockerfile": "FROM python:3.12\nEXPOSE 8000\n",
        "nginx/Dockerfile": "FROM nginx:1.27\n",
        "nginx/portal.conf.envsubst": SNIPPET,
    }
    root = write(tmp_path, files)
    assert detect(str(root / "nginx/portal.conf.envsubst")) == "nginx"
    assert rows(by_name(root)["portal.conf.envsubst"]) == [
        ("maps", 8080, True, "proxy", 3, 16),  # at the pass: the port is in the set
        ("django", 8000, True, "proxy", 11, 16),
    ]
    assert [
        (f.rule, f.level.name, [f"{Path(loc.file).name}:{loc.line}" for loc in f.locations])
        for f in reconcile(scan([root]))
        if f.rule == "PP216"
    ] == [("PP216", "ERROR", ["docker-compose.yml:5", "Dockerfile:2"])]
