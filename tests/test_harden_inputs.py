"""Bad inputs found by the adversarial sweep (session 6): each is one located line on
stderr, a documented exit code, no traceback, and no secret value in the output.

Every case runs portplan as a real process on files written here.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

PLANTED = "Zq7hardenPlanted"


def _portplan(cwd: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "portplan", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def test_an_include_naming_a_url_with_a_password_is_not_quoted(tmp_path: Path) -> None:
    plan = tmp_path / "portplan.yaml"
    plan.write_text(f'include: ["https://ci:{PLANTED}@example.com/p.yaml"]\nservices: {{}}\n')
    result = _portplan(tmp_path, "check", "-f", "portplan.yaml")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "portplan: error: portplan.yaml:1:11: include: no such file (not shown: 46 characters)\n"
    )


def test_an_include_with_a_plain_name_is_still_quoted(tmp_path: Path) -> None:
    (tmp_path / "portplan.yaml").write_text("include: [../shared/ports.yaml]\nservices: {}\n")
    result = _portplan(tmp_path, "check", "-f", "portplan.yaml")
    assert result.returncode == 2
    assert result.stderr == (
        "portplan: error: portplan.yaml:1:11: include: no such file '../shared/ports.yaml'\n"
    )


def test_an_included_file_that_cannot_be_read_is_named_by_shape(tmp_path: Path) -> None:
    name = f"postgres://u:{PLANTED}@db"
    (tmp_path / "postgres:").mkdir()
    (tmp_path / "postgres:" / f"u:{PLANTED}@db").mkdir()  # a folder, not a plan
    (tmp_path / "portplan.yaml").write_text(f'include: ["{name}"]\nservices: {{}}\n')
    result = _portplan(tmp_path, "check", "-f", "portplan.yaml")
    assert result.returncode == 2
    assert result.stderr == (
        "portplan: error: portplan.yaml:1:11: include (not shown: 32 characters) "
        "is a folder, not a file\n"
    )


_CR_PLAN = (
    "ranges:\r  core: {ports: 8000-8009, category: core}\rservices:\r  api:\r"
    "    category: core\r    ports:\r      http: 8000\r"
    f'    environment: {{DB_PASSWORD: "{PLANTED}"}}\r'
)


def test_allocate_dry_run_masks_a_plan_with_old_mac_line_ends(tmp_path: Path) -> None:
    (tmp_path / "portplan.yaml").write_bytes(_CR_PLAN.encode())
    result = _portplan(
        tmp_path, "allocate", "api", "metrics", "--offline", "--dry-run", "-f", "portplan.yaml"
    )
    assert result.returncode == 0, result.stderr
    assert PLANTED not in result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "     environment: {DB_PASSWORD: ***}" in lines
    assert "+      metrics: 8001" in lines


def _listening() -> socket.socket:
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    held.listen()
    return held


def test_serve_on_a_port_in_use_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with _listening() as held:
        port = held.getsockname()[1]
        result = _portplan(
            tmp_path, "serve", "--db", f"sqlite:///{tmp_path}/r.db", "--bind", f"127.0.0.1:{port}"
        )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"portplan: error: --bind: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    )


def test_serve_on_an_address_of_no_interface_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = _portplan(
        tmp_path, "serve", "--db", f"sqlite:///{tmp_path}/r.db", "--bind", "192.0.2.1:8765"
    )
    assert result.returncode == 2
    assert result.stderr == (
        "portplan: error: --bind: cannot listen on 192.0.2.1:8765: Cannot assign requested address\n"
    )


def test_serve_with_a_port_out_of_range_is_refused_at_once(tmp_path: Path) -> None:
    result = _portplan(
        tmp_path,
        "serve",
        "--db",
        f"sqlite:///{tmp_path}/r.db",
        "--bind",
        "127.0.0.1:99999",
        timeout=20,
    )
    assert result.returncode == 2
    assert result.stderr == (
        "portplan: error: --bind: expected HOST:PORT with a port 1-65535, got '127.0.0.1:99999'\n"
    )


def test_serve_on_a_database_it_cannot_open_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = _portplan(tmp_path, "serve", "--db", "sqlite:////proc/1/registry.db")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "portplan: error: --db: cannot open the database sqlite:////proc/1/registry.db\n"
    )


def test_serve_on_an_unreachable_postgresql_hides_the_password(tmp_path: Path) -> None:
    with _listening() as held:  # a port that accepts nothing PostgreSQL would answer
        port = held.getsockname()[1]
    url = f"postgresql://portplan:{PLANTED}@127.0.0.1:{port}/registry"
    result = _portplan(tmp_path, "serve", "--db", url)
    assert result.returncode == 2
    assert result.stderr == (
        "portplan: error: --db: cannot open the database "
        f"postgresql+psycopg://portplan:***@127.0.0.1:{port}/registry\n"
    )


def test_logs_names_its_file_option_the_plan(tmp_path: Path) -> None:
    result = _portplan(tmp_path, "logs", "--help")
    assert result.returncode == 0
    assert "--file FILE   The plan (default: portplan.yaml here or in the" in result.stdout


def _push(tmp_path: Path, server: str, token: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "portplan.yaml").write_text(
        "system: demo\nservices:\n  api: {ports: {http: 8000}}\n"
    )
    env = {**os.environ, "PORTPLAN_SERVER": server, "PORTPLAN_TOKEN": token}
    return subprocess.run(
        [sys.executable, "-m", "portplan", "push"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_registry_url_with_a_password_is_refused_unquoted(tmp_path: Path) -> None:
    result = _push(tmp_path, f"http://ci:{PLANTED}@127.0.0.1:1/", "token")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "portplan: error: the registry's URL (not shown: 39 characters): expected "
        "http(s)://HOST[:PORT][/PATH], without a user, password, query or fragment "
        "(the token goes in PORTPLAN_TOKEN)\n"
    )


def test_a_registry_url_with_a_query_is_refused_unquoted(tmp_path: Path) -> None:
    result = _push(tmp_path, f"http://127.0.0.1:1/?token={PLANTED}", "token")
    assert result.returncode == 2
    assert PLANTED not in result.stderr
    assert result.stderr.startswith(
        "portplan: error: the registry's URL (not shown: 42 characters)"
    )


def test_a_token_with_a_line_break_is_refused_unquoted(tmp_path: Path) -> None:
    result = _push(tmp_path, "http://127.0.0.1:1", f"{PLANTED}\nX-Injected: 1")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "portplan: error: PORTPLAN_TOKEN: expected a token of printable characters without "
        "spaces, got a string of 30 characters holding a space or a control character\n"
    )


def test_an_empty_run_command_is_refused_by_check_not_crashed_on_by_up(tmp_path: Path) -> None:
    (tmp_path / "portplan.yaml").write_text("services:\n  api:\n    run: {command: []}\n")
    for command in ("check", "up"):
        result = _portplan(tmp_path, command, "-f", "portplan.yaml")
        assert (result.returncode, result.stdout) == (2, "")
        assert result.stderr == (
            "portplan: error: portplan.yaml:3:20: services.api.run.command: expected a "
            "non-empty list, got an empty list\n"
        )


def test_a_blank_run_command_is_refused(tmp_path: Path) -> None:
    (tmp_path / "portplan.yaml").write_text(
        "services:\n  api:\n    run: {command: sleep 1, ready: {exec: '  '}}\n"
    )
    result = _portplan(tmp_path, "check", "-f", "portplan.yaml")
    assert result.returncode == 2
    assert result.stderr == (
        "portplan: error: portplan.yaml:3:43: services.api.run.ready.exec: expected a command "
        "that is not blank, got a string of 2 characters\n"
    )


def test_up_refuses_an_unset_required_variable_of_run_env_before_starting(
    tmp_path: Path,
) -> None:
    (tmp_path / "portplan.yaml").write_text(
        "services:\n  api:\n    run: {command: 'touch started', "
        f'env: {{API_TOKEN: "${{HARDEN_UNSET_TOKEN:?{PLANTED}}}"}}}}\n'
    )
    result = _portplan(tmp_path, "up", "-f", "portplan.yaml")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "portplan: error: portplan.yaml:3:54: services.api.run.env.API_TOKEN: required "
        "variable HARDEN_UNSET_TOKEN is missing a value\n"
    )
    assert not (tmp_path / "started").exists()


def test_allocate_keeps_a_utf16_plan_in_utf16(tmp_path: Path) -> None:
    text = (
        "# caf\u00e9 ports\nranges:\n  core: {ports: 8000-8009, category: core}\n"
        "services:\n  api:\n    category: core\n    ports:\n      http: 8000\n"
    )
    for codec, bom in (("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff")):
        plan = tmp_path / f"{codec}.yaml"
        plan.write_bytes(bom + text.encode(codec))
        result = _portplan(tmp_path, "allocate", "api", "metrics", "--offline", "-f", plan.name)
        assert result.returncode == 0, result.stderr
        expected = text.replace("http: 8000\n", "http: 8000\n      metrics: 8001\n")
        assert plan.read_bytes() == bom + expected.encode(codec)


_MARKED_PLAN = "services:\n  api: {ports: {http: 8000}}\n"


def test_markers_keep_a_crlf_file_crlf(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(_MARKED_PLAN)
    readme = tmp_path / "README.md"
    readme.write_bytes(
        b"# Ports\r\n<!-- portplan:begin ports -->\r\nold\r\n<!-- portplan:end -->\r\n"
    )
    result = _portplan(tmp_path, "generate", "markers", "--in", "README.md", "-f", "p.yaml")
    assert result.returncode == 0, result.stderr
    data = readme.read_bytes()
    assert data.startswith(b"# Ports\r\n<!-- portplan:begin ports -->\r\n## Port Matrix\r\n")
    assert data.count(b"\n") == data.count(b"\r\n")


def test_markers_shown_in_a_fenced_code_block_are_left_alone(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(_MARKED_PLAN)
    example = "```md\n<!-- portplan:begin ports -->\n<!-- portplan:end -->\n```\n"
    readme = tmp_path / "README.md"
    readme.write_text(example + "\n<!-- portplan:begin ports -->\nold\n<!-- portplan:end -->\n")
    result = _portplan(tmp_path, "generate", "markers", "--in", "README.md", "-f", "p.yaml")
    assert result.returncode == 0, result.stderr
    text = readme.read_text()
    assert text.startswith(example + "\n<!-- portplan:begin ports -->\n## Port Matrix\n")
    assert "old" not in text
