"""What compose says of the files a service is built from or mounts: `build:` -> the
Dockerfile, `volumes:` -> the host paths (the hook `portplan.sources.homes` settles owners
with)."""

from __future__ import annotations

from pathlib import Path

from portplan.sources.compose import read_compose

COMPOSE = """\
services:
  web:
    build:
      context: ./web
      dockerfile: ../docker/web.Dockerfile
    volumes:
      - ./nginx/nginx.conf:/etc/nginx/nginx.conf:ro
      - "${DATA:-data}:/var/lib/web"
      - data:/srv
      - type: bind
        source: ./prometheus
        target: /etc/prometheus
  api:
    build: ./api
  remote:
    build: https://github.com/example/app.git#main
  inline:
    build:
      dockerfile_inline: "FROM alpine"
  image-only:
    image: redis:7
volumes:
  data: {}
"""


def test_build_and_mounts(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    result = read_compose([str(tmp_path / "compose.yaml")])
    found = {s.service: (s.build, s.mounts) for s in result.services}
    assert found == {
        "web": (
            str(tmp_path / "docker/web.Dockerfile"),
            (str(tmp_path / "nginx/nginx.conf"), str(tmp_path / "prometheus")),
        ),
        "api": (str(tmp_path / "api/Dockerfile"), ()),
        "remote": (None, ()),
        "inline": (None, ()),
        "image-only": (None, ()),
    }
    assert result.errors == []
