from __future__ import annotations

from collections.abc import Iterator

from portplan.findings import Finding, Level
from portplan.model import EnvVar, Service, Topology
from portplan.rules._base import Context, rule


@rule("PP111", "hardcoded-secret", Level.ERROR, "a literal secret in a service's environment")
def check(topology: Topology, context: Context) -> Iterator[Finding]:
    """A service's environment (or the `env` of its `run:` section) holds a literal
    secret. The value is never shown; use a reference (${JWT_SECRET}) or a secret store
    instead: a plan is committed, `generate` writes its values into env files and
    documents, and `up` resolves a `run.env` reference from its own environment when the
    process starts.

    What is a secret (the detector `reconcile`'s PP210, `generate` and every masked output
    share, docs/reconcile.md "Secrets"):

    - not a finding: an empty value or a switch, a reference (`${X}`, `$(X)`,
      `/run/secrets/...`, a file's path, `file:`, `vault:`, `secretref:`, `secretKeyRef`, a
      cloud secret store's name or ARN), a placeholder (`changeme`, `<your-api-key>`, `xxxx`,
      `your_token_here`, a value made only of words such as `password`, `secret`, `example`,
      or starting with an imperative: `changePassword`, or marked as an example:
      `AKIAIOSFODNN7EXAMPLE`), and the value of a variable that names a secret rather than
      holds it (`*_SECRET_NAME`, `*_SECRET_REF`, `*_PASSWORD_FILE`);
    - a secret: any other literal of a secret-named variable (`*_SECRET`, `*_TOKEN`,
      `*_PASSWORD`, `*_KEY`, `dbPassword`), and inside any value a password of a URL
      (`postgres://u:pw@db`), a key as a URL's user (a Sentry DSN), a password of a
      connection string (`Password=pw;`, JDBC `?password=pw`, libpq `password=pw`), a secret
      option (`--db-password=pw`), an authorization value (`Bearer tok`);
    - also in any variable: a known credential format (AWS `AKIA...`, GitHub `ghp_...`, Slack
      `xoxb-...`, Stripe `sk_live_...`, Google `AIza...`, a JSON Web Token, a private-key
      block) or a long high-entropy string.

    In a plan every secret is an error, a committed demo default as much as a real
    credential: the plan should hold references only. (`reconcile` reports a literal in a
    project's files as a warning, and a credential-shaped one as an error.)

    The shapes and the entropy limits follow gitleaks (per-vendor patterns, an entropy gate
    on generic key words, allowlists for examples) and detect-secrets (keyword, AWS, JWT,
    private-key detectors; base64 4.5 and hex 3.0 bits; filters for templates, indirect
    references and UUIDs); unlike them, a short committed literal under a secret's name is
    reported too, as hygiene (docs/reconcile.md "Secrets" compares them).

    PASS: api {environment: {JWT_SECRET: "${JWT_SECRET}"}}
    FAIL: api {environment: {JWT_SECRET: hunter2}}
    PASS: api {run: {command: ./api, env: {API_TOKEN: "${API_TOKEN}"}}}
    FAIL: api {run: {command: ./api, env: {DB_PASSWORD: swordfish}}}
    """
    for service in topology.services.values():
        run_env = service.run.env if service.run is not None else ()
        for where, variables in (("", service.environment), (" in run.env", run_env)):
            for var in variables:
                what = secret_kind(var.name, var.value)
                if what is not None:
                    yield _finding(service, var, what, where)


def secret_kind(name: str, value: str | None) -> str | None:
    """What kind of secret the value is (`portplan.secretscan.detect.secret`), or None.
    Never returns the value."""
    from portplan.secretscan import detect  # its patterns: only for a plan with variables

    found = detect.secret(name, value)
    return None if found is None else found.kind


def _finding(service: Service, var: EnvVar, what: str, where: str) -> Finding:
    return check.finding(
        f"{service.name} sets {var.name}{where} to {what}; use a reference such as "
        f"${{{var.name}}} or a secret store",
        [var.location],
        service=service.name,
        variable=var.name,
    )


RULE = check
