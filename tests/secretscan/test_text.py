"""Masking inside free text (`--check` diffs, Markdown) and inside messages."""

from __future__ import annotations

import pytest

from portplan.secretscan.text import mask_line, mask_names

TOKEN = "ghp_Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6"


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ("DB_PASSWORD=hunter2 PORT=80", "DB_PASSWORD=*** PORT=80"),
        ("api_key: 'hunter2'", "api_key: ***"),
        ("JWT_SECRET=${JWT_SECRET}", "JWT_SECRET=${JWT_SECRET}"),
        ("ADMIN_PASSWORD=changeme", "ADMIN_PASSWORD=changeme"),
        (
            "see http://host:8080/x and redis://:pw9@cache",
            "see http://host:8080/x and redis://:***@cache",
        ),
        ("postgres://u:${DB_PASSWORD}@db", "postgres://u:${DB_PASSWORD}@db"),
        ("jdbc:mysql://db/app?user=a&password=pw9", "jdbc:mysql://db/app?user=a&password=***"),
        ("Authorization: Bearer tok9", "Authorization: Bearer ***"),
        (f"git clone https://{TOKEN}@github.com/a/b", "git clone https://***@github.com/a/b"),
        ("AKIAIOSFODNN7Q2XK4ZB in the log", "*** in the log"),
    ],
)
def test_mask_line(line: str, shown: str) -> None:
    assert mask_line(line) == shown


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        (
            "services.postgres://u:pw9@h/d.ports: invalid host port",
            "services.postgres://u:***@h/d.ports: invalid host port",
        ),
        # a breadcrumb's colon is followed by the message's own words: they stay
        (
            "services.api.environment.API_KEY: expected a string, got a list",
            "services.api.environment.API_KEY: expected a string, got a list",
        ),
        (f"services.{TOKEN}: expected a mapping", "services.***: expected a mapping"),
    ],
)
def test_mask_names(message: str, shown: str) -> None:
    assert mask_names(message) == shown
