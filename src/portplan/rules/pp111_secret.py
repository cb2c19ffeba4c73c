from __future__ import annotations

from collections.abc import Iterator

from portplan._secrets import NOT_A_SECRET, PLACEHOLDER, REFERENCE, SECRET_NAME, URL_PASSWORD
from portplan.findings import Finding, Level
from portplan.model import EnvVar, Service, Topology
from portplan.rules._base import Context, rule


@rule("PP111", "hardcoded-secret", Level.ERROR, "a literal secret in a service's environment")
def check(topology: Topology, context: Context) -> Iterator[Finding]:
    """A service's environment holds a literal secret: a password inside a URL or a
    connection string (`Server=db;Password=...`), or a literal value of a *_SECRET,
    *_TOKEN, *_PASSWORD or *_KEY variable. The value is never shown; use a reference
    (${JWT_SECRET}) or a secret store instead. Placeholders that ask to be replaced
    ("<your-api-key>", "changeme", "xxxx", "your_token_here") are not secrets.

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
    for part in text.split(";"):  # Server=db;User Id=sa;Password=...; (Pwd= too)
        key, equals, secret = part.partition("=")
        secret = secret.strip()
        named = equals and key.strip().lower() in ("password", "pwd")
        if named and secret and not (REFERENCE.match(secret) or PLACEHOLDER.match(secret)):
            return "a password inside a connection string"
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
