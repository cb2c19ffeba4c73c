"""No secret value ever appears in portplan's output: every broken input is reported by
position and shape, never by quoting the text that broke.

Each case plants a distinctive value (it contains PLANTED) in one kind of broken input,
runs `portplan reconcile`, `portplan import` and (for a plan) `portplan check` through the
CLI's main(), and asserts the value appears nowhere in standard output or standard error,
that no command fails with an internal error (whose traceback would be logged), and that
the breakage *is* reported, exactly (a file not read at all would leak nothing either).
An internal error, forced, must leave the value out of its message and its log too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from portplan import rules
from portplan.cli import main
from portplan.model import Topology

PLANTED = "Zq7"

# name -> (files, the messages of the PP209 findings `portplan reconcile` prints for them,
# which `portplan import` prints as warnings)
CASES: dict[str, tuple[dict[str, str | bytes], list[str]]] = {
    "dotenv-unterminated-quote": (
        {".env": 'API_PORT=8080\nDB_PASSWORD="Zq7dotenvQuote\nOTHER=1\n'},
        ["could not read {d}/.env:2:13: unterminated double-quoted value (opened at column 13)"],
    ),
    "dotenv-required-reason": (
        {".env": "API_URL=${API_HOST:?Zq7dotenvReason}\n"},
        ["could not read {d}/.env:1:9: required variable API_HOST is missing a value"],
    ),
    "dotenv-space-in-key": (
        {".env": "PASSWORD Zq7dotenvSpace\n"},
        ["could not read {d}/.env:1:1: key cannot contain a space"],
    ),
    "dotenv-not-utf8": (
        {".env": b"DB_PASSWORD=Zq7bytes\xff\n"},
        ["could not read {d}/.env:1:21: not UTF-8 text"],
    ),
    "compose-interpolation": (
        {
            ".env": "DB_PASSWORD=Zq7fromDotenv\n",
            "compose.yaml": (
                "services:\n"
                "  api:\n"
                "    ports: ['8080:80']\n"
                "    environment:\n"
                '      TOKEN: "Zq7composeTemplate${"\n'
                '      REQUIRED: "${NOT_SET:?Zq7composeReason}"\n'
                '      INDIRECT: "${ALSO_UNSET:?$DB_PASSWORD}"\n'
            ),
        },
        [
            "could not read {d}/compose.yaml:5:33: invalid interpolation: "
            '"${" must be followed by a variable name, then "}" or an operator '
            '(:- - :? ? :+ +); write "$$" for a "$"',
        ],  # the unset required variables are unset-variable warnings (PP207), not quoted
    ),
    "compose-ports": (
        {
            ".env": "DB_PASSWORD=Zq7interpolatedPort\n",
            "compose.yaml": (
                "services:\n"
                "  api:\n"
                "    ports:\n"
                "      - 'Zq7composePort:80'\n"
                "      - '${DB_PASSWORD}:81'\n"
                "      - 'Zq7hostIp:8082:82'\n"
                "      - {target: 83, published: Zq7longPublished}\n"
                "      - {target: Zq7longTarget}\n"
                "    expose: ['Zq7expose']\n"
            ),
        },
        [
            "could not read {d}/compose.yaml:4:9: services.api.ports: invalid host port: the port is not a "
            "number",
            "could not read {d}/compose.yaml:5:9: services.api.ports: invalid host port: the port is not a "
            "number",
            "could not read {d}/compose.yaml:6:9: services.api.ports: invalid host IP address: expected an "
            "IPv4 address or an IPv6 one in brackets",
            "could not read {d}/compose.yaml:7:33: services.api.ports: invalid published port: the port is "
            "not a number",
            "could not read {d}/compose.yaml:8:18: services.api.ports: target must be an integer, got a "
            "string that is not a number",
            "could not read {d}/compose.yaml:9:14: services.api.expose: expected a port 1-65535 or a range "
            "such as 8000-8010, then /tcp or /udp",
        ],
    ),
    "kubernetes-documents": (
        {
            "app.yaml": (
                "apiVersion: v1\nkind: Service\nmetadata: {name: api}\nspec:\n"
                "  ports: [{port: 80}]\n"
                "---\n"
                "apiVersion: v1\nkind: Secret\nmetadata: {name: creds}\nstringData:\n"
                "  token: Zq7k8sColon: here\n"
                "---\n"
                "apiVersion: v1\nkind: Secret\nmetadata: {name: more}\nstringData:\n"
                '  password: "Zq7k8sQuote\n'
            ),
        },
        [
            "could not read {d}/app.yaml:11:21: unexpected ':' (a plain value cannot contain ': '; quote it, "
            "or check the indentation)",
            'could not read {d}/app.yaml:17:13: unclosed quoted string: no closing " before the end of the '
            "file",
        ],
    ),
    "kubernetes-tag-and-alias": (
        {
            "app.yaml": (
                "apiVersion: v1\nkind: Secret\nmetadata: {name: tagged}\nstringData:\n"
                "  password: !!int Zq7k8sTag\n"
                "---\n"
                "apiVersion: v1\nkind: Secret\nmetadata: {name: aliased}\nstringData:\n"
                "  password: *Zq7k8sAlias\n"
            ),
        },
        [
            "could not read {d}/app.yaml:5:13: expected an integer for tag !!int, got a string of "
            "9 characters",
            "could not read {d}/app.yaml:11:13: unknown alias: no anchor of that name is defined "
            "before it (a value starting with '*' must be quoted)",
        ],
    ),
    "markdown-compose-fragment": (
        {
            "README.md": (
                "# Services\n\n```yaml\nservices:\n  api:\n    ports: ['Zq7markdownPort:80']\n"
                "  db:\n    ports: ['5432:5432']\n```\n"
            ),
        },
        ["services.api.ports: invalid host port: the port is not a number"],
    ),
    # issue 11: a key holding a secret is described, never quoted
    "compose-duplicate-secret-key": (
        {
            "compose.yaml": (
                "services:\n  api:\n    image: acme/api\n    environment:\n"
                '      "postgres://u:Zq7dupKey@h/d": 1\n'
                '      "postgres://u:Zq7dupKey@h/d": 2\n'
            ),
        },
        [
            "could not read {d}/compose.yaml:6:7: duplicate key (not shown: 26 characters) (first at line 5)"
        ],
    ),
    "compose-secret-service-name": (
        {
            "compose.yaml": (
                'services:\n  "postgres://u:Zq7service@h/d":\n    image: x\n    ports: ["abc:80"]\n'
            ),
        },
        [
            "could not read {d}/compose.yaml:4:13: services.postgres://u:***@h/d.ports: invalid "
            "host port: the port is not a number"
        ],
    ),
}
# A fragment's error is located by the finding; import's warning shows the location.
IMPORT_WARNINGS = {
    "markdown-compose-fragment": [
        "{d}/README.md:6:14: services.api.ports: invalid host port: the port is not a number"
    ]
}
TOP_KEYS = (
    "defaults, description, environments, ephemeral, hosts, include, networks, ranges, "
    "reserved, services, system, version, zones"
)
PLAN = "version: 1\nservices:\n  api:\n    ports: {http: 8080}\n    environment:\n"
# name -> (the plan, the one line `portplan check` and `portplan reconcile` print for it)
PLAN_CASES: dict[str, tuple[str, str]] = {
    "unclosed-quote": (
        PLAN + '      DB_PASSWORD: "Zq7planQuote\n',
        '6:20: unclosed quoted string: no closing " before the end of the file',
    ),
    "tag": (
        PLAN + "      password: !!int Zq7planTag\n",
        "6:17: expected an integer for tag !!int, got a string of 10 characters",
    ),
    "alias": (
        PLAN + "      PASSWORD: *Zq7planAlias\n",
        "6:17: unknown alias: no anchor of that name is defined before it (a value starting "
        "with '*' must be quoted)",
    ),
    "bad-start": (
        PLAN + "      PASSWORD: @Zq7planAt\n",
        "6:17: a plain value cannot start with @ ` % | or > here: quote the value",
    ),
    "alias-bomb": (
        "version: 1\nx: &Zq7bomb ["
        + ", ".join(["lol"] * 9)
        + "]\n"
        + "".join(
            f"y{i}: &y{i} [{', '.join(['*' + (f'y{i - 1}' if i else 'Zq7bomb')] * 9)}]\n"
            for i in range(6)
        ),
        "7:10: this alias makes the document expand past 100,000 nodes; refusing a possible "
        "alias bomb",
    ),
    "environment-as-text": (
        "version: 1\nservices:\n  api:\n    environment: PASSWORD=Zq7planText\n",
        "4:18: services.api.environment: expected a mapping of variables or a list of "
        "KEY=value, got a string of 20 characters",
    ),
    "environment-key": (
        "version: 1\nservices:\n  api:\n    environment: {PASSWORD=Zq7planKey: 1}\n",
        "4:19: services.api.environment: expected an environment variable name, got a key of "
        "19 characters",
    ),
    "port-as-text": (
        'version: 1\nservices:\n  api:\n    ports: {http: "Zq7planPort"}\n',
        "4:19: services.api.ports.http: expected an integer 1-65535, got a string of 11 characters",
    ),
    "status": (
        "version: 1\nservices:\n  api: {status: Zq7planStatus}\n",
        "3:17: services.api.status: expected one of active, planned, reserved, deprecated, "
        "got a string of 13 characters",
    ),
    "health": (
        "version: 1\nservices:\n  api:\n    ports: {http: {port: 80, health: Zq7planHealth}}\n",
        "4:38: services.api.ports.http.health: expected an HTTP path starting with /, got a "
        "string of 13 characters",
    ),
    "duplicate-secret-key": (
        PLAN + '      "postgres://u:Zq7dupKey@h/d": 1\n      "postgres://u:Zq7dupKey@h/d": 2\n',
        "7:7: duplicate key (not shown: 26 characters) (first at line 6)",
    ),
    "unknown-secret-key": (
        'version: 1\nservices:\n  api:\n    "postgres://u:Zq7unknown@h/d": 1\n',
        "4:5: services.api: unknown key (not shown: 27 characters); expected one of aliases, "
        "category, depends_on, description, environment, exposure, host, image, latency, "
        "networks, phase, ports, purpose, resources, run, status, technology, throughput, zone",
    ),
    "not-a-plan-shadow": (
        "root:$6$Zq7salt$4Hb2kQ9xWm:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n",
        "1:1: unknown key (not shown: 44 characters) (none of a plan's keys is at the top of "
        "this file); expected one of " + TOP_KEYS,
    ),
    "not-a-plan-names": (
        "Zq7notAPlan: 1\n",
        "1:1: unknown key (not shown: 11 characters) (none of a plan's keys is at the top of "
        "this file); expected one of " + TOP_KEYS,
    ),
    "text-as-list": (
        "version: 1\nservices:\n  api: {purpose: [Zq7planList]}\n",
        "3:18: services.api.purpose: expected text, got a list",
    ),
}
# Numbers are values too: a port out of range is placed, not quoted.
NUMBER = "271828"
NUMBER_PLAN = f"version: 1\nservices:\n  api:\n    ports: {{http: {NUMBER}}}\n"
NUMBER_ERROR = (
    "4:19: services.api.ports.http: expected an integer 1-65535, got an integer above 65535"
)


def _tree(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return tmp_path


def _run(capsys: pytest.CaptureFixture[str], *args: str, planted: str = PLANTED) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    everything = captured.out + captured.err
    assert planted not in everything
    assert code in (0, 1, 2)  # never 3: an internal error logs a traceback
    return code, everything


def _filled(lines: list[str], folder: Path) -> list[str]:
    return [line.replace("{d}", str(folder)) for line in lines]


def _reconcile_errors(output: str) -> list[str]:
    """The messages of the PP209 findings of `portplan reconcile`'s text report."""
    suffix = "  [PP209 unreadable-source]"
    found = (line for line in output.splitlines() if line.endswith(suffix))
    return [line.split(" error    ", 1)[1].removesuffix(suffix) for line in found]


def _import_warnings(output: str) -> list[str]:
    prefix = "portplan: warning: "
    return [line.removeprefix(prefix) for line in output.splitlines() if line.startswith(prefix)]


@pytest.mark.parametrize("command", ["reconcile", "import"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_broken_sources_are_reported_without_quoting(
    command: str, case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files, expected = CASES[case]
    folder = _tree(tmp_path, files)
    code, output = _run(capsys, command, str(folder))
    if command == "reconcile":
        assert (code, _reconcile_errors(output)) == (1, _filled(expected, folder))
    else:
        assert _import_warnings(output) == _filled(IMPORT_WARNINGS.get(case, expected), folder)


@pytest.mark.parametrize("case", sorted(PLAN_CASES))
def test_broken_plan_is_reported_without_quoting(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, error = PLAN_CASES[case]
    _plan_fails_with(tmp_path, capsys, text, error, PLANTED)


def test_a_number_out_of_range_is_not_quoted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _plan_fails_with(tmp_path, capsys, NUMBER_PLAN, NUMBER_ERROR, NUMBER)


def _plan_fails_with(
    folder: Path, capsys: pytest.CaptureFixture[str], text: str, error: str, planted: str
) -> None:
    _tree(folder, {"portplan.yaml": text, "compose.yaml": "services: {}\n"})
    plan = str(folder / "portplan.yaml")
    for args in (["check", "-f", plan], ["reconcile", "-f", plan, str(folder)]):
        code, output = _run(capsys, *args, planted=planted)
        assert (code, output) == (2, f"portplan: error: {plan}:{error}\n")


class _Bug(Exception):
    """Stands for any library's exception whose message quotes a value."""


def test_an_internal_error_quotes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug (simulated: the rules crash on a value of the plan, through a chain of two
    exceptions) exits 3 with the exception's type and the log's path; the log holds the
    frames and the types, not the value."""

    def crashing_rules(topology: Topology, context: object = None) -> list[object]:
        value = topology.services["api"].environment[0].value
        try:
            int(str(value))
        except ValueError as exc:
            raise _Bug(f"cannot use {value}") from exc
        return []

    logs = tmp_path / "logs"
    logs.mkdir()
    monkeypatch.setenv("PORTPLAN_LOG_DIR", str(logs))
    monkeypatch.setattr(rules, "run", crashing_rules)
    plan = tmp_path / "portplan.yaml"
    plan.write_text(PLAN + "      DB_PASSWORD: Zq7crash\n", encoding="utf-8")
    assert main(["check", "-f", str(plan)]) == 3
    captured = capsys.readouterr()
    (log,) = logs.iterdir()
    assert (captured.out, captured.err) == (
        "",
        f"portplan: unexpected error: _Bug (traceback in {log})\n",
    )
    text = log.read_text(encoding="utf-8")
    assert PLANTED not in text
    headlines = [line for line in text.splitlines() if not line.startswith(" ")]
    withheld = "(its message is left out: it may quote a value from the input)"
    assert headlines == [
        "Traceback (most recent call last):",
        f"ValueError {withheld}",
        "",
        "The exception above led to this one:",
        "",
        "Traceback (most recent call last):",
        f"tests.test_no_secret_leaks._Bug {withheld}",
    ]
    assert ", in crashing_rules\n" in text and ", in check_file\n" in text


def test_an_internal_error_without_a_log_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def crashing_rules(topology: Topology, context: object = None) -> list[object]:
        raise _Bug(f"cannot use {PLANTED}")

    missing = tmp_path / "no-such-folder"
    monkeypatch.setenv("PORTPLAN_LOG_DIR", str(missing))
    monkeypatch.setattr(rules, "run", crashing_rules)
    plan = tmp_path / "portplan.yaml"
    plan.write_text(PLAN + "      DB_PASSWORD: x\n", encoding="utf-8")
    assert main(["check", "-f", str(plan)]) == 3
    assert capsys.readouterr().err == (
        f"portplan: unexpected error: _Bug (no traceback log: cannot write in {missing}: "
        "No such file or directory)\n"
    )


ALLOCATE_PLAN = (
    "version: 1\nranges:\n  web: {ports: 8000-8099}\nservices:\n"
    "  api: {ports: {http: 8000}, environment: {DB_PASSWORD: Zq7flow}}  # Zq7comment\n"
    "  web:\n    ports:\n      http: 8001\n    environment:\n      DB_PASSWORD: Zq7block\n"
)
# The diff `allocate --dry-run` prints: every value but a secret one (and comments).
ALLOCATE_DIFFS = {
    "api": (
        "@@ -2,7 +2,7 @@\n"
        " ranges:\n"
        "   web: {ports: 8000-8099}\n"
        " services:\n"
        "-  api: {ports: {http: 8000}, environment: {DB_PASSWORD: ***}}  # ***\n"
        "+  api: {ports: {http: 8000, grpc: 8002}, environment: {DB_PASSWORD: ***}}  # ***\n"
        "   web:\n"
        "     ports:\n"
        "       http: 8001\n"
    ),
    "web": (
        "@@ -6,5 +6,6 @@\n"
        "   web:\n"
        "     ports:\n"
        "       http: 8001\n"
        "+      grpc: 8002\n"
        "     environment:\n"
        "       DB_PASSWORD: ***\n"
    ),
}


@pytest.mark.parametrize("service", sorted(ALLOCATE_DIFFS))
def test_allocate_dry_run_masks_the_values_around_the_change(
    service: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "portplan.yaml"
    plan.write_text(ALLOCATE_PLAN, encoding="utf-8")
    args = ["allocate", service, "grpc", "--range", "web", "-f", str(plan), "--dry-run"]
    code, output = _run(capsys, *args, "--offline")
    name = str(plan).lstrip("/")
    header = f"--- a/{name}\n+++ b/{name}\n"
    assert (code, output) == (0, header + ALLOCATE_DIFFS[service])
    assert plan.read_text(encoding="utf-8") == ALLOCATE_PLAN


# issue 11: what the live masker caught and PP111 missed; every output of a plan holding them
NEW_SECRETS_PLAN = (
    "version: 1\n"
    "services:\n"
    "  api:\n"
    "    ports: {http: 8080}\n"
    "    environment:\n"
    "      JDBC_URL: jdbc:postgresql://db:5432/app?user=app&password=Zq7jdbc\n"
    "      PG_CONN: host=db port=5432 password=Zq7libpq\n"
    "      UPSTREAM_HEADER: Bearer Zq7bearer\n"
    "      JAVA_OPTS: -Xmx1g --db-password=Zq7option\n"
    "      CI_CHECKOUT: ghp_Zq7b3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3h\n"
    "      SENTRY_DSN: https://Zq70123456789abcdef0123456789ab@o1.ingest.sentry.io/42\n"
)


def test_a_plan_with_new_kinds_of_secrets_leaks_into_no_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "portplan.yaml"
    plan.write_text(NEW_SECRETS_PLAN, encoding="utf-8")
    code, output = _run(capsys, "check", "-f", str(plan))
    assert code == 1
    assert [line.split("  [")[-1] for line in output.splitlines() if "PP111" in line] == [
        "PP111 hardcoded-secret]"
    ] * 6
    out = tmp_path / "out"
    assert _run(capsys, "generate", "env", "docs", "-f", str(plan), "--out", str(out))[0] == 0
    written = {
        p.relative_to(out): p.read_text(encoding="utf-8") for p in out.rglob("*") if p.is_file()
    }
    assert written and [name for name, text in written.items() if PLANTED in text] == []
    for name, text in written.items():
        (out / name).write_text(text + "\n", encoding="utf-8")  # stale: --check shows a diff
    code, output = _run(
        capsys, "generate", "env", "docs", "-f", str(plan), "--out", str(out), "--check"
    )
    assert code == 1 and "+++" in output


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_reconcile_formats_never_quote_a_secret_key(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files, _ = CASES["compose-duplicate-secret-key"]
    folder = _tree(tmp_path, files)
    code, output = _run(capsys, "reconcile", str(folder), "--format", fmt)
    assert code == 1 and "duplicate key (not shown: 26 characters)" in output
