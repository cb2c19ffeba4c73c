"""Values no tool accepts are one located error each, never a port that silently
disappears or turns into `port: 0`; errors that had no place now say file:line:col."""

from __future__ import annotations

import codecs
import json
import os
import re
from pathlib import Path

import pytest

from portplan.cli import main
from portplan.sources import scan

K8S_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: x
          ports:
            - containerPort: 99999999999999999999
            - containerPort: "80a"
            - containerPort: 8080
              hostPort: 70000
"""
K8S_SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
    - port: 80
      targetPort: -5
    - port: 81
      targetPort: Bad_Name
    - 5
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers: 5
"""


def _errors(*paths: Path) -> list[tuple[str, str]]:
    return [
        (str(error.location), error.message) for result in scan(paths) for error in result.errors
    ]


def test_kubernetes_port_values(tmp_path: Path) -> None:
    (tmp_path / "deploy.yaml").write_text(K8S_DEPLOYMENT)
    (tmp_path / "service.yaml").write_text(K8S_SERVICE)
    port = "expected a port 1-65535"
    found = [message.split(": ", 1)[1] for _, message in _errors(tmp_path)]
    assert found == [
        f"containers[0].ports[0].containerPort: {port}, got an integer above 65535",
        f"containers[0].ports[1].containerPort: {port}, got a string of 3 characters",
        f"containers[0].ports[2].hostPort: {port}, got an integer above 65535",
        f"ports[0].targetPort: {port}, got an integer 0 or below",
        f"ports[1].targetPort: {port} or a port name (IANA_SVC_NAME), got a string of 8 characters",
        "ports[2]: expected a mapping, got an integer",
        "containers: expected a list of containers, got an integer",
    ]
    where = [location.rsplit("/", 1)[1] for location, _ in _errors(tmp_path)]
    assert where == [
        "deploy.yaml:14:30",
        "deploy.yaml:15:31",
        "deploy.yaml:17:25",
        "service.yaml:9:19",
        "service.yaml:11:19",
        "service.yaml:12:7",
        "service.yaml:21:19",
    ]


@pytest.mark.parametrize(
    "codec", ["utf-16-le", "utf-16-be", "utf-32-le"], ids=["utf16le", "utf16be", "utf32le"]
)
def test_a_kubernetes_file_behind_a_wide_bom_is_read(tmp_path: Path, codec: str) -> None:
    bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}.get(
        codec, codecs.BOM_UTF32_LE
    )
    (tmp_path / "svc.yaml").write_bytes(bom + K8S_DEPLOYMENT.encode(codec))
    [result] = scan([tmp_path])
    assert result.kind == "kubernetes"
    assert [p.number for p in result.ports] == [8080]


@pytest.mark.parametrize(
    ("files", "location", "message"),
    [
        (
            {"compose.yaml": "services:\n  web:\n    image: x\n    ports: ['0:0', '8080:80']\n"},
            "compose.yaml:4:13",
            "services.web.ports: container port 0",
        ),
        (
            {
                "compose.yaml": "services:\n  web:\n    image: x\n",
                "compose.override.yaml": "services: [1]\n",
            },
            "compose.override.yaml:1:11",
            "services: expected a mapping of services, got a list",
        ),
        (
            {
                "compose.yaml": "services:\n  web:\n    image: x\n",
                "compose.override.yaml": "services:\n  web: 5\n",
            },
            "compose.override.yaml:2:8",
            "services.web: expected a mapping, got an integer",
        ),
        (
            {".env": "A=1\nWEB_PORT=80\x0080\n"},
            ".env:2:12",
            "is a binary file (a NUL character), not text",
        ),
        (
            {"README.md": "# x\n\n| service | port |\n|---|---|\n| web | 80\x00 |\n"},
            "README.md:5:11",
            "is a binary file (a NUL character), not text",
        ),
    ],
    ids=["port-0", "services-list", "service-integer", "nul-env", "nul-markdown"],
)
def test_bad_source_values(
    tmp_path: Path, files: dict[str, str], location: str, message: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    where = f"{tmp_path}/{location}"
    assert _errors(tmp_path) == [(where, f"could not read {where}: {message}")]


def test_import_never_writes_port_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    image: x\n    ports: ['0:0']\n")
    assert main(["import", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert "port: 0" not in out
    assert "services.web.ports: container port 0" in err


def test_a_dotenv_with_a_nul_stops_its_compose_project(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(
        "services:\n  web:\n    image: x\n    ports: ['${WEB_PORT:-8080}:80']\n"
    )
    (tmp_path / ".env").write_text("WEB_PORT=90\x0090\n")
    results = {r.kind: r for r in scan([tmp_path])}
    assert results["compose"].ports == []
    env = tmp_path / ".env"
    assert [e.message for e in results["compose"].errors] == [
        f"not read {tmp_path}/compose.yaml: its variables file {env} cannot be read "
        "(is a binary file (a NUL character), not text): values would be guesses"
    ]


@pytest.mark.skipif(os.geteuid() != 0, reason="runs the child as nobody: needs root")
def test_an_unreadable_dotenv_imports_no_default() -> None:
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as name:  # reachable by nobody: pytest's are not
        tree = Path(name)
        tree.chmod(0o755)
        (tree / "compose.yaml").write_text(
            "services:\n  web:\n    image: x\n    ports: ['${WEB_PORT:-8080}:80']\n"
        )
        (tree / ".env").write_text("WEB_PORT=9090\n")
        (tree / ".env").chmod(0)
        code = (
            "from portplan.sources import scan\n"
            f"for r in scan([{str(tree)!r}]):\n"
            "    print(r.kind, [p.number for p in r.ports], [e.message for e in r.errors])\n"
        )
        done = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
             sys.executable, "-c", code],
            capture_output=True, text=True, timeout=60, cwd="/",
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )  # fmt: skip
    env = tree / ".env"
    assert done.stdout.splitlines() == [
        f"dotenv [] ['could not read {env}: Permission denied']",
        f"compose [] ['not read {tree}/compose.yaml: its variables file {env} cannot be "
        "read (Permission denied): values would be guesses']",
    ], done.stderr


def test_a_chain_of_extends_too_deep_is_located(tmp_path: Path) -> None:
    lines = ["services:", "  s0: {image: x}"]
    lines += [f"  s{i}: {{extends: s{i - 1}}}" for i in range(1, 300)]
    (tmp_path / "compose.yaml").write_text("\n".join(lines) + "\n")
    where = f"{tmp_path}/compose.yaml:3:17"
    assert _errors(tmp_path) == [
        (
            where,
            f"could not read {where}: services.s65.extends: a chain of more than 64 extends, "
            "cut here",
        )
    ]


PLAN = "services:\n  web:\n    ports:\n      http: 8080\n"
LOCATED = re.compile(r"^portplan: error: [^:]+:\d+:\d+: ")


def test_odd_length_utf16_is_located(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = codecs.BOM_UTF16_LE + PLAN.encode("utf-16-le")
    (tmp_path / "p.yaml").write_bytes(data[:-1])
    assert main(["check", "-f", str(tmp_path / "p.yaml")]) == 2
    err = capsys.readouterr().err
    assert (
        err
        == f"portplan: error: {tmp_path}/p.yaml:4:17: cannot decode the text here: expected UTF-16\n"
    )


def test_include_depth_is_located(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for n in range(20):
        (tmp_path / f"d{n}.yaml").write_text(f"include: [d{n + 1}.yaml]\nservices: {{}}\n")
    (tmp_path / "d20.yaml").write_text("services: {}\n")
    assert main(["check", "-f", str(tmp_path / "d0.yaml")]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"portplan: error: {tmp_path}/d16.yaml:1:11: include 'd17.yaml': includes nest "
        "deeper than 16\n"
    )


def test_a_multi_document_compose_file_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "p.yaml").write_text(PLAN)
    (tmp_path / "multi.yaml").write_text("services:\n  web: {image: x}\n---\nservices: {}\n")
    args = ["generate", "compose", "-f", str(tmp_path / "p.yaml"), "--compose"]
    assert main([*args, str(tmp_path / "multi.yaml"), "--check"]) == 2
    assert capsys.readouterr().err == (
        f"portplan: error: {tmp_path}/multi.yaml:3:1: cannot merge: a compose file holds one "
        "document, and a second one starts here\n"
    )


@pytest.mark.parametrize("eol", ["\r", "\r\n", "\n"], ids=["cr", "crlf", "lf"])
def test_allocate_keeps_the_line_ends(tmp_path: Path, eol: str) -> None:
    text = (
        PLAN.replace("\n", eol)
        + f"  api:{eol}    image: x{eol}ranges:{eol}  r:{eol}    ports: 9100-9199{eol}"
    )
    (tmp_path / "p.yaml").write_bytes(text.encode())
    args = ["allocate", "-f", str(tmp_path / "p.yaml"), "api", "http", "--range", "r", "--offline"]
    assert main(args) == 0
    written = (tmp_path / "p.yaml").read_bytes().decode()
    assert written == text.replace(
        f"    image: x{eol}", f"    image: x{eol}    ports:{eol}      http: 9100{eol}"
    )
    assert main(["check", "-f", str(tmp_path / "p.yaml"), "--format", "json"]) in (0, 1)
    json.loads  # noqa: B018  (the plan still reads)


def test_a_target_port_of_0_is_the_port_as_kubernetes_takes_it(tmp_path: Path) -> None:
    """`targetPort: 0` (a headless Service) is no targetPort: Kubernetes defaults it to the
    port, so it is no error."""
    (tmp_path / "service.yaml").write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: dispatch}\nspec:\n"
        "  clusterIP: None\n  ports:\n    - {name: headless, port: 55555, targetPort: 0}\n"
    )
    assert _errors(tmp_path) == []


@pytest.mark.parametrize(
    ("compose", "where", "what"),
    [
        (
            "services:\n  web:\n    image: [a\n    ports: x\n",
            "4:10",
            "expected ',' or ']' in the list opened at line 3, column 12",
        ),
        (
            "services: {web: {image: x}\n",
            "2:1",
            "expected ',' or '}' in the mapping opened at line 1, column 11",
        ),
        (
            "services:\n  web: {image: x}\n  web: {image: y}\n",
            "3:3",
            "duplicate key 'web' (first at line 2)",
        ),
    ],
    ids=["list", "mapping", "duplicate"],
)
def test_a_compose_file_that_is_no_yaml_says_why_and_where(
    tmp_path: Path, compose: str, where: str, what: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "p.yaml").write_text(PLAN)
    (tmp_path / "compose.yaml").write_text(compose)
    args = ["generate", "compose", "-f", str(tmp_path / "p.yaml"), "--compose"]
    assert main([*args, str(tmp_path / "compose.yaml")]) == 2
    assert capsys.readouterr().err == (
        f"portplan: error: {tmp_path}/compose.yaml:{where}: cannot merge: {what}\n"
    )


def _reading(folder: Path, wrong: str) -> list[list[str]]:
    """Commands that read the plan, or a file given beside it, given `wrong` instead."""
    plan = str(folder / "p.yaml")
    return [
        ["check", "-f", wrong],
        ["env", "-f", wrong],
        ["status", "-f", wrong],
        ["up", "-f", wrong],
        ["reconcile", "-f", wrong],
        ["generate", "-f", wrong],
        ["generate", "compose", "-f", plan, "--compose", wrong],
        ["generate", "docs", "-f", plan, "--in", wrong],
    ]


def test_a_folder_given_for_a_file_is_one_line_in_portplans_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "p.yaml").write_text(PLAN)
    (tmp_path / "folder").mkdir()
    for args in _reading(tmp_path, str(tmp_path / "folder")):
        assert main(args) == 2, args
        err = capsys.readouterr().err
        assert err == f"portplan: error: {tmp_path}/folder: is a folder, not a file\n", args


def test_an_unreadable_file_is_one_line_in_portplans_words(tmp_path: Path) -> None:
    """`FILE: cannot read: REASON` from every command, never click's "is not readable"
    usage error (read by a user the file's mode refuses: root reads every file)."""
    import shutil
    import subprocess
    import sys
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="portplan-unreadable-"))  # others may enter it
    try:
        folder.chmod(0o755)
        (folder / "p.yaml").write_text(PLAN)
        (folder / "p.yaml").chmod(0o644)
        locked = folder / "locked.yaml"
        locked.write_text(PLAN)
        locked.chmod(0)
        user = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        prefix = user if os.geteuid() == 0 else []
        if prefix and shutil.which("setpriv") is None:
            pytest.fail("setpriv is missing (util-linux): needed to read as another user")
        env = {**os.environ, "PORTPLAN_STATE_DIR": str(folder / "state")}
        for args in _reading(folder, str(locked)):
            command = [*prefix, sys.executable, "-m", "portplan", *args]
            done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=folder)
            assert (done.returncode, done.stdout, done.stderr) == (
                2,
                "",
                f"portplan: error: {locked}: cannot read: Permission denied\n",
            ), args
    finally:
        shutil.rmtree(folder, ignore_errors=True)
