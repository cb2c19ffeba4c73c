"""The secret detector's levels, value class by value class (docs/reconcile.md "Secrets"):
no finding, a literal (a warning in reconcile), a credential (an error)."""

from __future__ import annotations

import pytest

from portplan.secretscan.detect import (
    CREDENTIAL,
    LITERAL,
    Secret,
    entropy,
    high_entropy,
    placeholder,
    secret,
    secret_name,
)

GITHUB = "ghp_" + "Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6"
AWS = "AKIAIOSFODNN7Q2XK4ZB"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXBhcnQ"
RANDOM = "q8Zr2Lw9Xk4Tn7Vb1Mc6Jh3Pd5Gs0Fy8Ue2Ra"
HEX_KEY = "9f8c2e1a7b3d4c5e6f708192a3b4c5d6"

LEVELS = [
    # not a finding: empty, switches, references, placeholders, names of secrets
    ("DB_PASSWORD", "", None),
    ("API_TOKEN", "true", None),
    ("JWT_SECRET", "${JWT_SECRET}", None),
    ("JWT_SECRET", "$(JWT_SECRET)", None),
    ("JWT_SECRET", "${JWT_SECRET:-}", None),
    ("JWT_SECRET", "${JWT_SECRET:?set it}", None),
    ("JWT_SECRET", "${JWT_SECRET:-changeme}", None),
    ("DB_PASSWORD", "/run/secrets/db_password", None),
    ("DB_PASSWORD", "vault:secret/data/db#password", None),
    ("TLS_KEY", "/certs/tls.key", None),
    ("SSH_KEY", "~/.ssh/id_ed25519", None),
    ("PAPERLESS_DB_OPTIONS", "sslmode=require,ssl.key=/path/to/client.key", None),
    ("API_KEY", "secretref:api-key", None),
    ("API_KEY", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:api", None),
    ("DATABASE_URL", "postgres://app:${DB_PASSWORD}@db:5432/app", None),
    ("ADMIN_PASSWORD", "changeme", None),
    ("ADMIN_PASSWORD", "password", None),
    ("APP_SECRET", "secret", None),
    ("API_KEY", "xxx", None),
    ("API_KEY", "<your-key>", None),
    ("API_KEY", "your_api_key_here", None),
    ("N8N_ENCRYPTION_KEY", "changeEncryptionKey", None),
    ("GOOGLE_API_KEY", "GOOGLE_API_KEY_VAL", None),
    ("MYSQL_RANDOM_ROOT_PASSWORD", "yes_since_this_is_a_demo", None),
    ("MYSQL_ALLOW_EMPTY_PASSWORD", "yes-please", None),
    ("OPENAI_API_KEY", "YOUR_OPENAI_KEY_HERE", None),
    ("WEBHOOK_SECRET", "WEBHOOK_SIGNING_SECRET", None),
    ("GOOGLE_API_KEY", "google-api-key-value", None),
    ("API_TOKEN", "atm_...", None),
    ("API_TOKEN", "sk-\u2026", None),
    ("N8N_RUNNERS_AUTH_TOKEN", "changeRunnerAuthToken", None),
    ("POSTGRES_PASSWORD", "changePassword", None),
    ("SMTP_PASSWORD", "default-password", None),
    ("JWT_SECRET_NAME", "prod-jwt-secret", None),
    ("AUTH", "y", None),  # a switch
    ("PASSWORD_RESET_TOKEN_EXPIRE_MINUTES", "30", None),  # a duration
    ("DB_SECRET_REF", "db-credentials", None),
    ("DB_PASSWORD_FILE", "/etc/app/db-password", None),
    ("AWS_ACCESS_KEY_ID", "my-key-name", None),
    ("CACHE_URL", "redis://cache:6379/0", None),
    ("IMAGE_DIGEST", "sha256:" + HEX_KEY * 2, None),
    ("REQUEST_ID", "123e4567-e89b-12d3-a456-426614174000", None),
    ("GREETING", "hello world", None),
    # documented examples have a credential's shape and are none (AWS's own)
    ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE", None),
    ("SOME_SETTING", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", None),
    ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", None),
    ("DB_PASSWORD", "sample-password-1", None),
    (
        "DATABASE_URL",
        "postgres://app:s3cr3t@db.example.org/sample_app",
        Secret("a password inside a URL", LITERAL),
    ),
    # a literal: committed demo defaults, passwords in URLs and connection strings
    ("MARIADB_PASSWORD", "paperless", Secret("a literal secret value", LITERAL)),
    ("DB_PASSWORD", "${DB_PASSWORD:-paperless}", Secret("a literal secret value", LITERAL)),
    (
        "DATABASE_URL",
        "${DATABASE_URL:-postgres://postgres:p4ssw0rd@db/openproject?pool=20}",
        Secret("a password inside a URL", LITERAL),
    ),
    (
        "DATABASE_URL",
        "postgres://app:${DB_PASSWORD:-p4ssw0rd}@db/app",
        Secret("a password inside a URL", LITERAL),
    ),
    ("DB_PASSWORD", "deltran_secure_pass_2024", Secret("a literal secret value", LITERAL)),
    ("JWT_SECRET", "secret-change-in-production", Secret("a literal secret value", LITERAL)),
    ("DB_PASSWORD", "password123", Secret("a literal secret value", LITERAL)),
    ("PASSWORD", "password123", Secret("a literal secret value", LITERAL)),
    ("DB_PASSWORD", "SuperSecret_2024", Secret("a literal secret value", LITERAL)),
    ("API_TOKEN", "atm_9f8c2e1a7b3d...", Secret("a literal secret value", LITERAL)),
    ("dbPassword", "swordfish", Secret("a literal secret value", LITERAL)),
    ("MYSQL_ROOT_PASSWORD", "swordfish", Secret("a literal secret value", LITERAL)),
    (
        "DATABASE_URL",
        "postgres://postgres:p4ssw0rd@db/openproject",
        Secret("a password inside a URL", LITERAL),
    ),
    (
        "DB_URL",
        "jdbc:postgresql://db:5432/app?user=app&password=hunter2",
        Secret("a password inside a connection string", LITERAL),
    ),
    (
        "PG_CONN",
        "host=db port=5432 dbname=app password=hunter2",
        Secret("a password inside a connection string", LITERAL),
    ),
    (
        "ConnectionStrings__Default",
        "Server=db;Database=app;User Id=sa;Password=Pass@word1;",
        Secret("a password inside a connection string", LITERAL),
    ),
    ("JAVA_OPTS", "-Xmx1g --db-password=hunter2", Secret("a secret option", LITERAL)),
    ("UPSTREAM_AUTH_HEADER", "Bearer hunter2", Secret("an authorization header value", LITERAL)),
    ("EXTRA_HEADERS", "X-Api-Key: hunter2", Secret("a secret header value", LITERAL)),
    (
        "WEBHOOK_URL",
        "https://hooks.acme.org/notify?channel=ops&token=hunter2",
        Secret("a secret inside a URL's query", LITERAL),
    ),
    ("OTEL_EXPORTER_OTLP_HEADERS", "api-key=hunter2", Secret("a secret setting", LITERAL)),
    # a credential: a known format anywhere, or high entropy
    ("AWS_ACCESS_KEY_ID", AWS, Secret("an AWS access key", CREDENTIAL)),
    (
        "GIT_REMOTE",
        f"https://{GITHUB}@github.com/acme/app.git",
        Secret("a GitHub token", CREDENTIAL),
    ),
    ("SLACK_WEBHOOK_BOT", "xoxb-1234567890-abcdefghij", Secret("a Slack token", CREDENTIAL)),
    ("STRIPE", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", Secret("a Stripe live key", CREDENTIAL)),
    ("STRIPE", "sk_live_4eC39HqLyjWDarjtT1zdp7dc...", Secret("a Stripe live key", CREDENTIAL)),
    (
        "MAPS",
        "AIza" + "SyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
        Secret("a Google API key", CREDENTIAL),
    ),
    ("SESSION", JWT, Secret("a JSON Web Token", CREDENTIAL)),
    (
        "TLS_KEY",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
        Secret("a private key", CREDENTIAL),
    ),
    ("SECRET_KEY", HEX_KEY, Secret("a literal secret value", CREDENTIAL)),
    ("DJANGO_SECRET_KEY", RANDOM, Secret("a literal secret value", CREDENTIAL)),
    ("SOME_SETTING", RANDOM, Secret("a high-entropy string", CREDENTIAL)),
    (
        "SENTRY_DSN",
        f"https://{HEX_KEY}@o1.ingest.sentry.io/42",
        Secret("a key inside a URL", CREDENTIAL),
    ),
    (
        "DATABASE_URL",
        f"postgres://app:{RANDOM}@db/app",
        Secret("a password inside a URL", CREDENTIAL),
    ),
]


@pytest.mark.parametrize(
    ("name", "value", "expected"), LEVELS, ids=[f"{n}={v[:24]}" for n, v, _ in LEVELS]
)
def test_levels(name: str, value: str, expected: Secret | None) -> None:
    assert secret(name, value) == expected


@pytest.mark.parametrize(
    ("name", "named"),
    [
        ("DB_PASSWORD", True),
        ("--db-password", True),
        ("--dbPassword", True),
        ("awsSecretAccessKey", True),
        ("-Dspring.datasource.password", True),
        ("SECRET_KEY_BASE", True),
        ("pass", True),
        ("JWT_SECRET_NAME", False),
        ("DB_PASSWORD_FILE", False),
        ("AWS_ACCESS_KEY_ID", False),
        ("MONKEY", False),
        ("PORT", False),
        ("PASSWORD_RESET_TOKEN_EXPIRE_MINUTES", False),
        ("SESSION_TOKEN_TIMEOUT", False),
    ],
)
def test_secret_names(name: str, named: bool) -> None:
    assert secret_name(name) is named


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("changeme", True),
        ("CHANGE_ME", True),
        ("replaceWithYourToken", True),
        ("api-key-example", True),
        ("XXXXXXXX", True),
        ("password123", False),
        ("secret-change-in-production", False),
        ("paperless", False),
    ],
)
def test_placeholders(value: str, expected: bool) -> None:
    assert placeholder(value) is expected


def test_entropy_thresholds() -> None:
    assert entropy("aaaa") == 0.0
    assert entropy("abcd") == 2.0
    assert high_entropy(HEX_KEY) and high_entropy(RANDOM)
    assert not high_entropy("deltran_secure_pass_2024")
    assert not high_entropy(HEX_KEY, strict=True)  # a digest-like hex string alone
    assert high_entropy(RANDOM, strict=True)


def test_a_secret_never_holds_its_value() -> None:
    found = secret("DB_PASSWORD", "hunter2secret")
    assert found is not None and "hunter2" not in repr(found)
