"""Each reader on small files of the forms it knows: exact port, variable and place."""

from __future__ import annotations

from pathlib import Path

import pytest

from portplan.sources.code import (
    aspnet,
    golang,
    helm,
    node,
    procfile,
    python,
    rust,
    spring,
    systemd,
)
from portplan.sources.code.base import Listen, is_own_port_variable

Row = tuple[int | None, str | None, str]  # number, variable, "line:col"


def _rows(found: list[Listen]) -> list[Row]:
    return [
        (x.number, x.variable, f"{x.location.line}:{x.location.column}")
        for x in sorted(found, key=lambda x: (x.location.line, x.location.column))
    ]


PYTHON = """\
import os
import uvicorn

PORT = int(os.getenv("PORT", "8010"))
DB_PORT = os.getenv("DB_PORT", "5432")
http = os.environ.get("HTTP_PORT", 8011)
app_port = int(os.environ["APP_PORT"])
uvicorn.run(app, host="0.0.0.0", port=PORT)
app.run(port=int(os.getenv("SVC_PORT", 9000)))
web.run_app(app, port=8080)
parser.add_argument("--port", type=int, default=7000)
bind = '0.0.0.0:8001'
HTTPServer(("", 8002), Handler)
server.add_insecure_port(f"[::]:{os.environ.get('GRPC_PORT', '50051')}")
sock.listen(128)
name = "café"; other = os.getenv("LISTEN_PORT", 8003)
"""


def test_python() -> None:
    assert _rows(python.read("app.py", PYTHON)) == [
        (8010, "PORT", "4:12"),  # read once, though uvicorn.run takes it too
        (8011, "HTTP_PORT", "6:8"),
        (None, "APP_PORT", "7:16"),
        (9000, "SVC_PORT", "9:18"),  # any variable a server's port comes from
        (8080, None, "10:23"),
        (7000, None, "11:49"),
        (8001, None, "12:8"),
        (8002, None, "13:17"),
        (50051, "GRPC_PORT", "14:34"),
        (8003, "LISTEN_PORT", "16:24"),  # columns count characters, not UTF-8 bytes (25)
    ]


def test_python_that_does_not_parse_says_nothing() -> None:
    assert python.read("old.py", 'print "port", os.getenv("PORT", "80")\n') == []


GO = """\
package main

// http.ListenAndServe(":1111", nil)
func main() {
	port := getEnv("HTTP_PORT", "8088")
	db := getEnv("DB_PORT", "5432")
	addr := os.Getenv("LISTEN_ADDR")
	if addr == "" {
		addr = ":9001"
	}
	p := os.Getenv("PORT")
	http.ListenAndServe(":8080", nil)
	lis, _ := net.Listen("tcp", ":9000")
	srv := &http.Server{Addr: "0.0.0.0:7070"}
	flag.IntVar(&port, "port", 6060, "port")
	/* r.Run(":2222") */
}
"""


def test_go() -> None:
    assert _rows(golang.read("main.go", GO)) == [
        (8088, "HTTP_PORT", "5:10"),
        (9001, "LISTEN_ADDR", "7:10"),
        (None, "PORT", "11:7"),
        (8080, None, "12:23"),
        (9000, None, "13:31"),
        (7070, None, "14:29"),
        (6060, None, "15:29"),
    ]


NODE = """\
const express = require('express');
// app.listen(1111)
const port = process.env.PORT || 3000;
const db = process.env.DB_PORT || 5432;
const p2 = parseInt(process.env.HTTP_PORT, 10) || 3001;
const p3 = process.env["API_PORT"] ?? "3002";
const { APP_PORT = 3003 } = process.env;
const SVC = process.env.SVC_PORT || 4000;
app.listen(port, () => {});
server.listen(SVC);
other.listen(5000);
"""


def test_node() -> None:
    assert _rows(node.read("server.js", NODE)) == [
        (3000, "PORT", "3:14"),
        (3001, "HTTP_PORT", "5:21"),
        (3002, "API_PORT", "6:12"),
        (3003, "APP_PORT", "7:9"),
        (4000, "SVC_PORT", "8:13"),  # listened on: any variable
        (5000, None, "11:14"),
    ]


RUST = """\
use std::env;
fn main() {
    // let a = "0.0.0.0:1111".parse();
    let port = env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(8088);
    let h = std::env::var("HTTP_PORT").unwrap_or_else(|_| "8089".to_string());
    let d = env::var("DATABASE_URL").unwrap();
    let addr: SocketAddr = "0.0.0.0:8090".parse().unwrap();
    let l = TcpListener::bind("127.0.0.1:8091").await?;
    HttpServer::new(f).bind(("0.0.0.0", 8092))?;
    let a = SocketAddr::from(([0, 0, 0, 0], 8093));
    let b = env::var("BIND_ADDR");
}
"""


def test_rust() -> None:
    assert _rows(rust.read("main.rs", RUST)) == [
        (8088, "PORT", "4:16"),
        (8089, "HTTP_PORT", "5:18"),
        (8090, None, "7:29"),
        (8091, None, "8:32"),
        (8092, None, "9:41"),
        (8093, None, "10:45"),
        (None, "BIND_ADDR", "11:13"),
    ]


SPRING_YAML = """\
spring:
  application:
    name: orders
server:
  port: ${PORT:8080}
management:
  server:
    port: 9090
---
spring.config.activate.on-profile: docker
server.port: 8081
"""


def test_spring_yaml_with_a_profile_document() -> None:
    found = spring.read("application.yml", SPRING_YAML)
    assert _rows(found) == [
        (8080, "PORT", "5:9"),
        (9090, "MANAGEMENT_SERVER_PORT", "8:11"),
        (8081, "SERVER_PORT", "11:14"),  # a literal is read from the variable Spring binds
    ]
    assert [x.name for x in found] == [None, "management", None]


def test_spring_properties() -> None:
    text = "spring.application.name=x\nserver.port = ${HTTP_PORT:8082}\nserver.port.x=1\n"
    assert _rows(spring.read("application-dev.properties", text)) == [(8082, "HTTP_PORT", "2:15")]


LAUNCH = """\
{
  "iisSettings": { "iisExpress": { "applicationUrl": "http://localhost:40000" } },
  "profiles": {
    "Basket.API": {
      "commandName": "Project",
      "applicationUrl": "http://localhost:5103;https://localhost:7103",
      "environmentVariables": { "ASPNETCORE_ENVIRONMENT": "Development" }
    }
  }
}
"""
APPSETTINGS = """\
{
  // .NET reads comments
  "Kestrel": {
    "Endpoints": {
      "Http": { "Url": "http://0.0.0.0:5000" },
      "Grpc": { "Url": "http://+:5001", "Protocols": "Http2" }
    }
  },
  "urls": "http://*:80"
}
"""
CSHARP = """\
var builder = WebApplication.CreateBuilder(args);
builder.WebHost.UseUrls("http://*:5005");
builder.WebHost.ConfigureKestrel(o => o.ListenAnyIP(5006));
"""


def test_aspnet() -> None:
    launch = aspnet.read("Properties/launchSettings.json", LAUNCH)
    assert _rows(launch) == [
        (5103, "ASPNETCORE_URLS", "6:26"),
        (7103, "ASPNETCORE_URLS", "6:48"),
    ]
    assert {x.side for x in launch} == {"local"}  # the program run on the host
    settings = aspnet.read("appsettings.json", APPSETTINGS)
    assert _rows(settings) == [
        (5000, "Kestrel__Endpoints__Http__Url", "5:25"),
        (5001, "Kestrel__Endpoints__Grpc__Url", "6:25"),
        (80, "ASPNETCORE_URLS", "9:12"),
    ]
    assert [x.name for x in settings] == ["http", "http", "grpc"]  # urls, then Kestrel's
    assert {x.side for x in aspnet.read("appsettings.Development.json", APPSETTINGS)} == {"local"}
    assert _rows(aspnet.read("Program.cs", CSHARP)) == [(5005, None, "2:26"), (5006, None, "3:53")]


def test_procfile() -> None:
    text = (
        "web: gunicorn app:app --bind 0.0.0.0:$PORT --workers 2\n"
        "worker: celery -A tasks worker\n"
        "api: uvicorn main:app --host 0.0.0.0 --port ${PORT:-8000}\n"
        "dev: flask run\n"
        "admin: python manage.py runserver 0.0.0.0:8004\n"
        "conf: gunicorn -c gunicorn.conf.py app:app\n"  # its config file says the port
    )
    assert _rows(procfile.read("Procfile", text)) == [
        (None, "PORT", "1:30"),
        (8000, "PORT", "3:45"),
        (5000, "FLASK_RUN_PORT", "4:6"),  # flask run's own default
        (8004, None, "5:35"),
    ]


def test_systemd() -> None:
    service = "[Service]\nExecStart=/usr/bin/python3 -m gunicorn -b 127.0.0.1:8005 app:app\n"
    assert _rows(systemd.read("api.service", service)) == [(8005, None, "2:43")]
    socket = "[Socket]\nListenStream=0.0.0.0:8006\nListenStream=/run/api.sock\n"
    assert _rows(systemd.read("api.socket", socket)) == [(8006, None, "2:14")]


def test_helm_values_beside_a_chart(tmp_path: Path) -> None:
    values = "image: {repository: api}\nservice:\n  port: 80\n  targetPort: 8080\nreplicas: 2\n"
    (tmp_path / "values.yaml").write_text(values)
    assert helm.read(str(tmp_path / "values.yaml"), values) == []  # no Chart.yaml: no chart
    (tmp_path / "Chart.yaml").write_text("apiVersion: v2\nname: api\n")
    found = helm.read(str(tmp_path / "values.yaml"), values)
    assert _rows(found) == [(80, None, "3:9"), (8080, None, "4:15")]
    assert [x.name for x in found] == ["service.port", "service.targetPort"]


@pytest.mark.parametrize(
    ("variable", "own"),
    [
        ("PORT", True),
        ("HTTP_PORT", True),
        ("FLASK_RUN_PORT", True),
        ("serverPort", True),
        ("DB_PORT", False),
        ("REDIS_PORT", False),
        ("PORTS", False),
    ],
)
def test_own_port_variables(variable: str, own: bool) -> None:
    assert is_own_port_variable(variable) is own
