"""Kubernetes LoadBalancer and NodePort Services: each LoadBalancer has an address of its
own (two on port 80 do not clash); a nodePort is opened on every node (two Services asking
for 30001 clash)."""

from __future__ import annotations

from pathlib import Path

from portplan.reconcile.core import reconcile
from portplan.sources import scan


def service(name: str, kind: str, port: int, node_port: int | None = None) -> str:
    node = f"\n    nodePort: {node_port}" if node_port else ""
    return (
        f"apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  type: {kind}\n"
        f"  selector:\n    app: {name}\n  ports:\n  - port: {port}\n    targetPort: 8080{node}\n"
    )


def found(root: Path) -> list[tuple[str, list[str], str]]:
    return [
        (f.rule, [f"{Path(loc.file).name}:{loc.line}" for loc in f.locations], f.message)
        for f in reconcile(scan([root]))
    ]


def write(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(text)
    return root


def test_two_load_balancers_on_80_do_not_clash(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "front.yaml": service("front", "LoadBalancer", 80),
            "admin.yaml": service("admin", "LoadBalancer", 80),
        },
    )
    assert found(root) == []


def test_two_node_ports_30001_clash(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "front.yaml": service("front", "NodePort", 80, 30001),
            "admin.yaml": service("admin", "NodePort", 8000, 30001),
            "api.yaml": service("api", "LoadBalancer", 80, 30002),
        },
    )
    assert found(root) == [
        (
            "PP212",
            ["admin.yaml:10", "front.yaml:10"],
            "node port 30001/tcp is opened on every node twice: by admin and by "
            "front (front.yaml:10)",
        )
    ]


def test_a_load_balancers_node_port_clashes_with_a_node_port(tmp_path: Path) -> None:
    """A LoadBalancer opens a nodePort on every node too."""
    root = write(
        tmp_path,
        {
            "front.yaml": service("front", "LoadBalancer", 80, 30080),
            "admin.yaml": service("admin", "NodePort", 81, 30080),
        },
    )
    assert [rule for rule, _, _ in found(root)] == ["PP212"]


def test_one_service_in_two_manifest_sets_asks_once(tmp_path: Path) -> None:
    """The same NodePort Service in the per-service manifests (namespace shop) and in an
    all-in-one file without a namespace is one Service applied from either: no clash; a
    different Service on that node port still clashes."""
    front = service("front", "NodePort", 80, 30001)
    shop = front.replace("  name: front\n", "  name: front\n  namespace: shop\n")
    root = write(tmp_path, {"front-svc.yaml": shop, "all-in-one.yaml": front})
    assert found(root) == []
    write(tmp_path, {"admin.yaml": service("admin", "NodePort", 81, 30001)})
    assert [rule for rule, _, _ in found(root)] == ["PP212"]
