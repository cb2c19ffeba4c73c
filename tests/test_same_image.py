"""Identity by image (reconcile/names.py `_same_image`): a compose service and a Kubernetes
workload that run one image are one service whatever their names, so their ports are
compared; not for generic base images, nor when a side runs the image in two services."""

from __future__ import annotations

import pytest

from portplan.reconcile.core import reconcile_paths
from portplan.reconcile.names import image_repository
from tests.conftest import RESOURCES

TREE = RESOURCES / "same_image"


def test_a_compose_service_and_a_workload_of_one_image_are_one_service() -> None:
    found = reconcile_paths([TREE]).findings
    assert [(f.rule, f.message, [str(at) for at in f.locations]) for f in found] == [
        (
            "PP201",
            "mail: http port is 80 here but 1080 in compose.yaml:5",
            [f"{TREE}/deploy.yaml:13:26", f"{TREE}/compose.yaml:5:10"],
        )
    ]  # web = frontend (one repository across registries and tags) agree on 8080;
    # python (api, backend) and postgres (db and cache, database) stay apart


@pytest.mark.parametrize(
    ("image", "repository"),
    [
        ("maildev/maildev", "maildev/maildev"),
        ("docker.io/library/redis:7-alpine", "redis"),
        ("registry.example.test:5000/team/web:1.1@sha256:ab", "team/web"),
        ("localhost/web", "web"),
        ("${REGISTRY}/web:${TAG}", None),
    ],
)
def test_image_repository(image: str, repository: str | None) -> None:
    assert image_repository(image) == repository
