"""`generate compose --compose FILE` keeps every scalar it does not own byte for byte
(render._compose_verbatim), and refuses a healthcheck test that is not strings, located."""

from __future__ import annotations

from pathlib import Path

import pytest

from portplan.cli import main

# Every plain scalar ruamel.yaml's round trip would respell: YAML 1.1 and 1.2 numbers,
# infinities, NaN, the null spellings, booleans and timestamps, in block and flow style.
SCALARS = """\
    environment:
      ZERO: -0
      PLUS: +1
      OCT: 0o17
      OLD_OCT: 017
      HEX: 0x1F
      EXP: 1e3
      INF: .Inf
      NEG_INF: -.inf
      NAN: .NaN
      TILDE: ~
      NULL_: null
      CAP_NULL: Null
      YES: yes
      ON: On
      TRUE_: True
      WHEN: 2024-01-15t10:00:00Z
      SPACED: 2024-01-15 10:00:00
      DAY: 2024-1-5
      STR: !!str 1
      UNDERSCORE: 1_000
    labels: [-0, .Inf, ~, Null, 0x1F, FALSE]
    deploy:
      replicas: 01
      resources: {limits: {cpus: .50}}
"""
COMPOSE = f"""\
# the shop
services:
  web:
    image: nginx:1.25
    ports:
      - "8081:80"
{SCALARS}  db:
    image: postgres:16
    shm_size: -0
"""
MERGED = f"""\
# the shop
services:
  web:
    image: nginx:1.25
    ports:
      - "8080:80"
{SCALARS}  db:
    image: postgres:16
    shm_size: -0
"""
PLAN = "services:\n  web:\n    ports:\n      http: {port: 8080, target: 80, exposure: public}\n"


def _run(tmp_path: Path, compose: str, *extra: str) -> int:
    (tmp_path / "portplan.yaml").write_text(PLAN)
    (tmp_path / "compose.yaml").write_text(compose)
    plan = str(tmp_path / "portplan.yaml")
    return main(
        ["generate", "compose", "-f", plan, "--compose", str(tmp_path / "compose.yaml"), *extra]
    )


def test_untouched_scalars_stay_byte_identical(tmp_path: Path) -> None:
    assert _run(tmp_path, COMPOSE) == 0
    assert (tmp_path / "compose.yaml").read_text() == MERGED
    plan = str(tmp_path / "portplan.yaml")
    compose = str(tmp_path / "compose.yaml")
    assert main(["generate", "compose", "-f", plan, "--compose", compose, "--check"]) == 0


def test_a_value_the_merge_changes_is_written_anew(tmp_path: Path) -> None:
    compose = COMPOSE.replace('- "8081:80"', "- {published: 8081, target: 80}")
    assert _run(tmp_path, compose) == 0
    assert (tmp_path / "compose.yaml").read_text() == MERGED.replace(
        '- "8080:80"', "- {published: 8080, target: 80}"
    )


@pytest.mark.parametrize(
    ("test", "where", "what"),
    [
        ('["CMD", []]', "6:21", "services.web.healthcheck.test[1]: expected a string"),
        ('["CMD", {a: 1}]', "6:21", "services.web.healthcheck.test[1]: expected a string"),
        ("[CMD, ~]", "6:19", "services.web.healthcheck.test[1]: expected a string"),
        (
            "{a: 1}",
            "6:13",
            "services.web.healthcheck.test: expected a string or a list of strings",
        ),
    ],
)
@pytest.mark.parametrize("check", [False, True])
def test_a_healthcheck_test_that_is_not_strings_is_one_located_line(
    tmp_path: Path,
    test: str,
    where: str,
    what: str,
    check: bool,
    capsys: pytest.CaptureFixture[str],
) -> None:
    compose = f"services:\n  web:\n    image: x\n    ports: ['8081:80']\n    healthcheck:\n      test: {test}\n"
    assert _run(tmp_path, compose, *(["--check"] if check else [])) == 2
    file = tmp_path / "compose.yaml"
    assert capsys.readouterr().err == f"portplan: error: {file}:{where}: cannot merge: {what}\n"
    assert file.read_text() == compose


def test_a_compose_file_edited_between_read_and_write_is_not_replaced(tmp_path: Path) -> None:
    """An editor saves the compose file after generate read it: the merge, made from the old
    text, would lose the edit, so nothing is written."""
    from portplan.atomicfile import OutputError
    from portplan.render.generate import Request, plan, write

    (tmp_path / "portplan.yaml").write_text(PLAN)
    compose = tmp_path / "compose.yaml"
    compose.write_text(COMPOSE)
    planned = plan(
        Request(str(tmp_path / "portplan.yaml"), ("compose",), str(tmp_path), compose=str(compose))
    )
    edited = COMPOSE.replace("nginx:1.25", "nginx:1.27")
    compose.write_text(edited)
    with pytest.raises(OutputError) as caught:
        write(planned, tmp_path)
    assert (
        str(caught.value)
        == f"{compose}: changed since portplan read it; nothing written (run again)"
    )
    assert compose.read_text() == edited
    assert sorted(p.name for p in tmp_path.iterdir()) == ["compose.yaml", "portplan.yaml"]
