from __future__ import annotations

import re
from collections.abc import Iterator

from portplan.findings import Finding, Level
from portplan.model import EnvVar, Service, Topology
from portplan.rules._base import Context, rule

SECRET_NAME = re.compile(
    r"(?:^|_)(SECRET|SECRET_KEY|TOKEN|PASSWORD|PASSWD|PASS|PWD|KEY|API_KEY|PRIVATE_KEY|"
    r"CREDENTIALS?)$|(?:^|_)(?:SECRET|PASSWORD|PASSWD)_",  # also SECRET_KEY_BASE
    re.IGNORECASE,
)
URL_PASSWORD = re.compile(r"^[a-z][a-z0-9+.\-]*://[^/@:\s]*:([^/@\s]+)@", re.IGNORECASE)
# Not literal secrets: references, files, switches and empty values.
REFERENCE = re.compile(r"^(\$\{?[A-Za-z_]|/run/secrets/|file:|vault:|secretref:)")
NOT_A_SECRET = frozenset({"", "true", "false", "yes", "no", "none", "null", "0", "1"})
# Placeholders of example and template files (`.env.example`, documentation): a value that
# asks to be replaced is not a secret. "<your-api-key>", "your_token_here", "changeme",
# "xxxxxxxx", "********", "...", "REPLACE_ME", "TODO".
PLACEHOLDER = re.compile(
    r"^(?:<[^<>]*>|\[[^\[\]]*\]|\{\{[^{}]*\}\}|(?:x+|\*+|\.+|-+|#+)"
    r"|(?:your|my|enter|insert|put|add)[-_ ].*|.*[-_ ]here"
    r"|change[-_ ]?(?:me|it|this)|replace[-_ ]?(?:me|this)?|placeholder|example|dummy|todo|tbd"
    r"|fixme|redacted)$",
    re.IGNORECASE,
)


@rule("PP111", "hardcoded-secret", Level.ERROR, "a literal secret in a service's environment")
def check(topology: Topology, context: Context) -> Iterator[Finding]:
    """A service's environment holds a literal secret: a password inside a URL, or a
    literal value of a *_SECRET, *_TOKEN, *_PASSWORD or *_KEY variable. The value is never
    shown; use a reference (${JWT_SECRET}) or a secret store instead. Placeholders that ask
    to be replaced ("<your-api-key>", "changeme", "xxxx", "your_token_here") are not secrets.

    PASS: api {environment: {JWT_SECRET: "${JWT_SECRET}"}}
    FAIL: api {environment: {JWT_SECRET: hunter2}}
    """
    for service in topology.services.values():
        for var in service.environment:
            what = secret_kind(var.name, var.value)
            if what is not None:
                yield _finding(service, var, what)


def secret_kind(name: str, value: str | None) -> str | None:
    """What kind of literal secret the value is, or None. Never returns the value."""
    if value is None:
        return None
    text = value.strip()
    if text.lower() in NOT_A_SECRET or REFERENCE.match(text) or PLACEHOLDER.match(text):
        return None
    match = URL_PASSWORD.match(text)
    if match and not (REFERENCE.match(match.group(1)) or PLACEHOLDER.match(match.group(1))):
        return "a password inside a URL"
    if SECRET_NAME.search(name):
        return "a literal secret value"
    return None


def _finding(service: Service, var: EnvVar, what: str) -> Finding:
    return check.finding(
        f"{service.name} sets {var.name} to {what}; use a reference such as ${{{var.name}}} "
        "or a secret store",
        [var.location],
        service=service.name,
        variable=var.name,
    )


RULE = check
