"""No secret value ever appears in portplan's output: every broken input is reported by
position and shape, never by quoting the text that broke.

Each case plants a distinctive value (it contains PLANTED) in one kind of broken input,
runs `portplan reconcile`, `portplan import` and (for a plan) `portplan check` through the
CLI's main(), and asserts the value appears nowhere in standard output or standard error,
that no command fails with an internal error (whose traceback would be logged), and that
the breakage *is* reported, exactly (a file not read at all would leak nothing either).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from portplan.cli import main

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
            "could not read {d}/compose.yaml:6:18: required variable NOT_SET is missing a value",
            "could not read {d}/compose.yaml:7:18: required variable ALSO_UNSET is missing a value",
        ],
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
    "markdown-compose-fragment": (
        {
            "README.md": (
                "# Services\n\n```yaml\nservices:\n  api:\n    ports: ['Zq7markdownPort:80']\n"
                "  db:\n    ports: ['5432:5432']\n```\n"
            ),
        },
        ["services.api.ports: invalid host port: the port is not a number"],
    ),
}
# A fragment's error is located by the finding; import's warning shows the location.
IMPORT_WARNINGS = {
    "markdown-compose-fragment": [
        "{d}/README.md:6:14: services.api.ports: invalid host port: the port is not a number"
    ]
}
PLAN = "version: 1\nservices:\n  api:\n    ports: {http: 8080}\n    environment:\n"
BROKEN_PLAN = PLAN + '      DB_PASSWORD: "Zq7planQuote\n'
PLAN_ERROR = (
    'portplan: error: {d}/portplan.yaml:6:20: unclosed quoted string: no closing " before '
    "the end of the file\n"
)


def _tree(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return tmp_path


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    everything = captured.out + captured.err
    assert PLANTED not in everything
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


def test_broken_plan_is_reported_without_quoting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _tree(tmp_path, {"portplan.yaml": BROKEN_PLAN, "compose.yaml": "services: {}\n"})
    plan = str(folder / "portplan.yaml")
    for args in (["check", "-f", plan], ["reconcile", "-f", plan, str(folder)]):
        code, output = _run(capsys, *args)
        assert (code, output) == (2, PLAN_ERROR.replace("{d}", str(folder)))
