"""Planning, --check exit codes, atomic writing, markers, examples, secrets, compose schema."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from portplan.cli import cli, main
from portplan.errors import InputError
from portplan.plan.loader import load
from portplan.render import Options, render
from portplan.render.docs import sections
from portplan.render.generate import GenerateError, Request, plan, write
from portplan.render.markers import refill

from .conftest import ROOT

SCHEMA = json.loads((ROOT / "tests/resources/schemas/compose-spec.json").read_text())
COMPOSE_SPEC = jsonschema.Draft7Validator(SCHEMA)
K8S_SCHEMA = json.loads(
    (ROOT / "tests/resources/k8s/schema/v1.36-service-deployment.json").read_text()
)
SECRETS = ("deltran_secure_pass_2024", "deltran-secret-key-change-in-production")
DELTRAN = ROOT / "examples/deltran/portplan.yaml"


def _generate(*args: str) -> int:
    return main(["generate", *args])


def test_every_example_is_deterministic(example: Path) -> None:
    first = render(load(example), [], Options(source="portplan.yaml"))
    second = render(load(example), [], Options(source="portplan.yaml"))
    assert [(a.path, a.text) for a in first] == [(a.path, a.text) for a in second]
    assert len({a.path for a in first}) == len(first)


def test_written_files_are_byte_identical_twice(example: Path, tmp_path: Path) -> None:
    assert _generate("-f", str(example), "--out", str(tmp_path / "a")) == 0
    assert _generate("-f", str(example), "--out", str(tmp_path / "b")) == 0
    a, b = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert a == b and a


def _tree(folder: Path) -> dict[Path, bytes]:
    """The files below `folder`, their headers' `--out <folder>` as `--out OUT`."""
    out = f"--out {folder}".encode()
    return {
        p.relative_to(folder): p.read_bytes().replace(out, b"--out OUT")
        for p in folder.rglob("*")
        if p.is_file()
    }


def test_separate_processes_write_the_same_bytes(tmp_path: Path) -> None:
    """Nothing depends on the order of a set or on string hashes (which differ by process)."""
    plan = ROOT / "examples/hybrid-ai-trading/portplan.yaml"
    for seed in ("1", "2"):
        out = tmp_path / seed
        command = [sys.executable, "-m", "portplan", "generate", "-f", str(plan), "--out", str(out)]
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run(command, env=env, check=True, capture_output=True)
    first, second = _tree(tmp_path / "1"), _tree(tmp_path / "2")
    assert first == second and len(first) > 50
    check = [sys.executable, "-m", "portplan", "generate", "-f", str(plan), "--check"]
    done = subprocess.run([*check, "--out", str(tmp_path / "1")], capture_output=True)
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")


def test_compose_is_valid_against_the_compose_spec(example: Path) -> None:
    for artifact in render(load(example), ["compose"], Options()):
        COMPOSE_SPEC.validate(yaml.safe_load(artifact.text))


def test_kubernetes_manifests_have_the_right_shape(example: Path) -> None:
    for artifact in render(load(example), ["kubernetes"], Options()):
        for doc in yaml.safe_load_all(artifact.text):
            assert {"apiVersion", "kind", "metadata", "spec"} <= set(doc)
            assert doc["metadata"]["name"].replace("-", "").isalnum()
            ports = (
                doc["spec"].get("ports")
                or doc["spec"]["template"]["spec"]["containers"][0]["ports"]
            )
            for port in ports:
                assert isinstance(port.get("port", port.get("containerPort")), int)
                assert len(port["name"]) <= 15


def _partial(node: object) -> object:
    """A schema any of whose fields may be left out (what a strategic-merge patch is)."""
    if isinstance(node, dict):
        return {
            k: _partial(v) for k, v in node.items() if not (k == "required" and isinstance(v, list))
        }
    if isinstance(node, list):
        return [_partial(v) for v in node]
    return node


def _k8s_validator(kind: str, patch: bool) -> jsonschema.Draft202012Validator:
    schema = {**(_partial(K8S_SCHEMA) if patch else K8S_SCHEMA), "$ref": f"#/$defs/{kind}"}
    return jsonschema.Draft202012Validator(schema)


_LABEL_NAME = r"(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)"
LABEL_KEY = re.compile(rf"(?:[a-z0-9](?:[-a-z0-9.]{{0,251}}[a-z0-9])?/)?{_LABEL_NAME}")
LABEL_VALUE = re.compile(rf"{_LABEL_NAME}?")


def test_kubernetes_manifests_are_valid_and_labelled(example: Path) -> None:
    """Against the Kubernetes v1.36 schema (strict: no unknown field), the Deployment as a
    patch (any field may be left out); every object and the pod template carry the
    recommended labels, and each Service selects the pods of the patched Deployment."""
    services = _k8s_validator("Service", patch=False)
    deployment = _k8s_validator("Deployment", patch=True)
    for artifact in render(load(example), ["kubernetes"], Options()):
        *found, patch = yaml.safe_load_all(artifact.text)
        deployment.validate(patch)
        pods = patch["spec"]["template"]["metadata"]["labels"]
        for doc in [*found, patch]:
            labels = doc["metadata"]["labels"]
            assert labels == pods, artifact.path
            assert labels["app.kubernetes.io/managed-by"] == "portplan"
            assert all(
                LABEL_KEY.fullmatch(k) and LABEL_VALUE.fullmatch(v) for k, v in labels.items()
            )
        for service in found:
            services.validate(service)
            assert service["spec"]["selector"].items() <= pods.items()


def test_no_secret_value_in_any_artifact() -> None:
    for artifact in render(load(DELTRAN), [], Options()):
        for secret in SECRETS:
            assert secret not in artifact.text, artifact.path


def test_check_fresh_stale_missing(tmp_path: Path) -> None:
    out = str(tmp_path)
    assert _generate("env", "-f", str(DELTRAN), "--out", out, "--check") == 1  # missing
    assert _generate("env", "-f", str(DELTRAN), "--out", out) == 0
    assert _generate("env", "-f", str(DELTRAN), "--out", out, "--check") == 0  # fresh
    stale = tmp_path / "env/gateway.env"
    stale.write_text(stale.read_text().replace("8080", "8081"))
    assert _generate("env", "-f", str(DELTRAN), "--out", out, "--check") == 1  # stale
    (tmp_path / "service-ports.env").unlink()
    assert _generate("env", "-f", str(DELTRAN), "--out", out, "--check") == 1  # missing


def test_check_prints_a_unified_diff(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["generate", "graph", "-f", str(DELTRAN), "--out", str(tmp_path)]
    runner.invoke(cli, args)
    mmd = tmp_path / "graph/dependencies.mmd"
    mmd.write_text(mmd.read_text().replace("gateway :8080", "gateway :9999"))
    result = runner.invoke(cli, [*args, "--check"], standalone_mode=False)
    assert result.return_value == 1
    assert f"--- {mmd}\n+++ {mmd}\n" in result.output
    assert '-    gateway["gateway :9999"]\n+    gateway["gateway :8080"]\n' in result.output
    assert (tmp_path / "graph/dependencies.dot").exists()


def test_writing_is_all_or_none(tmp_path: Path) -> None:
    (tmp_path / "service-ports.env").write_text("old\n")
    (tmp_path / "compose.ports.yaml").mkdir()  # the second target cannot be written
    planned = plan(Request(str(DELTRAN), ["env", "compose"], str(tmp_path)))
    with pytest.raises(GenerateError, match="is a folder"):
        write(planned)
    assert (tmp_path / "service-ports.env").read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["compose.ports.yaml", "service-ports.env"]


def test_a_failed_generate_leaves_no_folder_it_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "new/deploy"
    (tmp_path / "new").mkdir()
    (tmp_path / "new/keep").mkdir()  # there before: stays
    assert _generate("env", "-f", str(DELTRAN), "--out", str(out)) == 0
    (out / "env").rename(tmp_path / "env.bak")
    (out / "prometheus").mkdir()
    (out / "prometheus/scrape-configs.yaml").mkdir()  # cannot be written
    (out / "service-ports.env").unlink()
    assert _generate("env", "prometheus", "-f", str(DELTRAN), "--out", str(out)) == 2
    assert "scrape-configs.yaml: is a folder" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["prometheus"]
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["deploy", "keep"]


def test_the_regenerate_command_names_the_out_folder_and_the_environment(
    tmp_path: Path,
) -> None:
    options = Options(source="p.yaml", env="prod", out="deploy dir")
    assert (
        options.regenerate("env") == "portplan generate env -f p.yaml --out 'deploy dir' --env prod"
    )
    assert Options(source="p.yaml", out=".").regenerate("env") == "portplan generate env -f p.yaml"
    assert _generate("env", "-f", str(DELTRAN), "--out", str(tmp_path)) == 0
    text = (tmp_path / "service-ports.env").read_text()
    # an absolute path under the current folder is named relative to it; others stay
    plan = os.path.relpath(DELTRAN)
    assert f"# Regenerate: portplan generate env -f {plan} --out {tmp_path}\n" in text


PLAN_TEXT = (
    "version: 1\nservices:\n  api:\n    ports:\n      http: 8080\n"
    "  db:\n    ports:\n      postgresql: 5432\n"
)


@pytest.mark.parametrize(
    ("folder", "args"),
    [
        (".", ["-f", "plan.yaml", "--out", "gen"]),
        (".", ["-f", "./plan.yaml", "--out", "gen/"]),
        (".", ["-f", "./plan.yaml", "--out", "./gen/."]),
        (".", ["-f", "{root}/plan.yaml", "--out", "{root}/gen"]),
        ("sub", ["-f", "../plan.yaml", "--out", "../gen"]),
        ("sub", ["-f", "{root}/plan.yaml", "--out", "../gen/"]),
    ],
)
def test_check_gives_one_answer_however_the_paths_are_spelled(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    folder: str,
    args: list[str],
) -> None:
    (tmp_path / "plan.yaml").write_text(PLAN_TEXT)
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    assert _generate("-f", "plan.yaml", "--out", "gen") == 0
    monkeypatch.chdir(tmp_path / folder)
    capsys.readouterr()
    spelled = [a.replace("{root}", str(tmp_path)) for a in args]
    assert (_generate("--check", *spelled), capsys.readouterr().out) == (0, "")
    (tmp_path / "gen/service-ports.env").write_text(
        (tmp_path / "gen/service-ports.env").read_text().replace("8080", "8081")
    )
    assert _generate("--check", *spelled) == 1
    out = capsys.readouterr().out
    changed = [line for line in out.splitlines() if line[:1] in "+-" and line[:3] not in "+++---"]
    assert changed == ["-API_HTTP_PORT=8081", "+API_HTTP_PORT=8080"]  # never the header


def test_a_file_where_a_folder_is_needed_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "service-ports.env").write_text("old\n")
    (tmp_path / "env").write_text("a file\n")  # env/<service>.env cannot be written
    assert _generate("env", "-f", str(DELTRAN), "--out", str(tmp_path)) == 2
    assert capsys.readouterr().err == (
        f"portplan: error: {tmp_path}/env/gateway.env: cannot write: "
        "a file stands where a folder is needed\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["env", "service-ports.env"]
    assert (tmp_path / "service-ports.env").read_text() == "old\n"


def test_rewriting_keeps_the_mode_and_writes_only_what_changed(tmp_path: Path) -> None:
    out = str(tmp_path)
    assert _generate("env", "-f", str(DELTRAN), "--out", out) == 0
    target = tmp_path / "env/gateway.env"
    target.chmod(0o640)
    target.write_text("stale\n")
    planned = plan(Request(str(DELTRAN), ["env"], out))
    assert write(planned) == [target]
    assert target.stat().st_mode & 0o777 == 0o640
    assert write(plan(Request(str(DELTRAN), ["env"], out))) == []


def test_failure_exit_code_is_2(tmp_path: Path) -> None:
    (tmp_path / "compose.ports.yaml").mkdir()
    assert _generate("-f", str(DELTRAN), "--out", str(tmp_path)) == 2


def test_unknown_environment_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert _generate("env", "-f", str(DELTRAN), "--env", "prod", "--check") == 2
    assert "no environment 'prod'" in capsys.readouterr().err


MARKED = """\
# Our system

Hand-written intro.
<!-- portplan:begin health -->
stale text
<!-- portplan:end -->

Footer stays\r\nbyte for byte.
"""


def test_markers_refill_only_between(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_bytes(MARKED.encode())
    assert _generate("markers", "-f", str(DELTRAN), "--in", str(readme)) == 0
    text = readme.read_bytes().decode()
    before, _, rest = text.partition("<!-- portplan:begin health -->\n")
    body, _, after = rest.partition("<!-- portplan:end -->")
    assert before == "# Our system\n\nHand-written intro.\n"
    assert after == "\n\nFooter stays\r\nbyte for byte.\n"
    assert body.startswith("## Health Check Endpoints\n") and "stale text" not in body
    assert _generate("markers", "-f", str(DELTRAN), "--in", str(readme), "--check") == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "<!-- portplan:begin nope -->\n<!-- portplan:end -->\n",
            "doc.md:1:1: unknown section 'nope'",
        ),
        (
            "x\n<!-- portplan:begin health -->\n",
            "doc.md:2:1: portplan:begin without a portplan:end",
        ),
        ("<!-- portplan:end -->\n", "doc.md:1:1: portplan:end without a portplan:begin"),
    ],
)
def test_bad_markers(text: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        refill(text, sections(load(DELTRAN)), "doc.md")
    assert str(info.value).startswith(message)


COMPOSE = """\
# our stack
services:
  gateway:
    image: deltran/gateway:1.2  # pinned
    ports:
      - "0.0.0.0:8080:8080"
      - "9999:9999"
    environment:
      LOG: debug
  token-engine:
    image: deltran/token
    ports: ["8081:8081"]
  unrelated:
    image: busybox
"""


def test_compose_merge_keeps_comments_and_order(tmp_path: Path) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text(COMPOSE)
    assert _generate("compose", "-f", str(DELTRAN), "--compose", str(compose)) == 0
    # gateway's 8080 on every interface agrees with its public exposure and 9999 is not
    # the plan's: both stay; token-engine's ports are internal: exposed, not published.
    assert compose.read_text() == (
        "# our stack\n"
        "services:\n"
        "  gateway:\n"
        "    image: deltran/gateway:1.2  # pinned\n"
        "    ports:\n"
        '      - "0.0.0.0:8080:8080"\n'
        '      - "9999:9999"\n'
        "    environment:\n"
        "      LOG: debug\n"
        "    healthcheck:\n"
        '      test: ["CMD-SHELL", "curl -fsS http://localhost:8080/health || exit 1"]\n'
        "      interval: 10s\n"
        "      timeout: 2s\n"
        "      retries: 3\n"
        "  token-engine:\n"
        "    image: deltran/token\n"
        "    expose:\n"
        '      - "8081"\n'
        '      - "50051"\n'
        "    healthcheck:\n"
        '      test: ["CMD-SHELL", "curl -fsS http://localhost:8081/health || exit 1"]\n'
        "      interval: 10s\n"
        "      timeout: 2s\n"
        "      retries: 3\n"
        "  unrelated:\n"
        "    image: busybox\n"
    )
    COMPOSE_SPEC.validate(yaml.safe_load(compose.read_text()))
    assert _generate("compose", "-f", str(DELTRAN), "--compose", str(compose), "--check") == 0


def test_generate_has_help() -> None:
    result = CliRunner().invoke(cli, ["generate", "--help"])
    assert result.exit_code == 0 and "--check" in result.output


def test_a_stale_header_is_never_a_masked_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Files generated from plan.yaml, checked against a copy named secret-token.yaml with
    one port changed: the YAML and env diffs show that port only, never a header line
    (masked or not) for the other plan name."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plan.yaml").write_text(PLAN_TEXT)
    assert _generate("-f", "plan.yaml", "--out", "gen") == 0
    (tmp_path / "secret-token.yaml").write_text(PLAN_TEXT.replace("8080", "8081"))
    capsys.readouterr()
    assert _generate("compose", "env", "--check", "-f", "./secret-token.yaml", "--out", "gen/") == 1
    out = capsys.readouterr().out
    changed = [line for line in out.splitlines() if line[:1] in "+-" and line[:3] not in "+++---"]
    assert sorted(changed) == [
        '+    - "8081"',
        "+API_HTTP_PORT=8081",
        "+HTTP_PORT=8081",
        '-    - "8080"',
        "-API_HTTP_PORT=8080",
        "-HTTP_PORT=8080",
    ]
    assert "***" not in out
