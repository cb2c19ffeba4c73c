"""App settings as references (sources/code/settings.py) and the rules over them: setting
drift (PP220) and one port given to two services in one config file (PP213)."""

from __future__ import annotations

from pathlib import Path

import pytest

from portplan.reconcile.core import reconcile_paths
from portplan.sources.code.settings import setting_key

COMPOSE = """\
services:
  storefront:
    build:
      context: .
      dockerfile: web/storefront/Dockerfile
    environment:
      - ASPNETCORE_ENVIRONMENT=Staging
      - OrdersUrl=http://host.docker.internal:6202
      - Orders__HealthUrl=http://ordersgw:80/hc
    ports:
      - "6100:80"
  ordersgw:
    image: envoyproxy/envoy:v1.29
    ports:
      - "6202:80"
"""
SETTINGS = """\
{
  // the host-machine defaults
  "OrdersUrl": "http://localhost:6202",
  "Orders": { "HealthUrl": "http://ordersgw:80/hc" },
  "Logging": { "LogLevel": { "Default": "Warning" } }
}
"""
DOCKERFILE = "FROM mcr.microsoft.com/dotnet/aspnet:8.0\n"
AGGREGATOR = """\
services:
  bff:
    build:
      context: .
      dockerfile: bff/Dockerfile
    ports:
      - "6300:80"
  cart-api:
    build:
      context: .
      dockerfile: cart/Dockerfile
    ports:
      - "6103:80"
  auth-api:
    build:
      context: .
      dockerfile: auth/Dockerfile
    ports:
      - "6105:80"
"""
BFF_LOCAL = """\
{
  "Urls": {
    "cart": "http://localhost:46105",
    "auth": "http://localhost:46105"
  }
}
"""
CART_LAUNCH = """\
{
  "profiles": {
    "Cart.API": { "commandName": "Project", "launchUrl": "http://localhost:46103/" }
  }
}
"""
AUTH_LAUNCH = """\
{
  "profiles": {
    "Auth.API": { "commandName": "Project", "applicationUrl": "http://localhost:46105" }
  }
}
"""


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _findings(root: Path) -> list[tuple[str, list[str], str]]:
    found = reconcile_paths(["."]).findings
    return [
        (f.rule, [f"{loc.file}:{loc.line}:{loc.column}" for loc in f.locations], f.message)
        for f in found
    ]


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _storefront(here: Path, settings: str, compose: str = COMPOSE) -> None:
    _write(
        here,
        {
            "compose.yaml": compose,
            "web/storefront/Dockerfile": DOCKERFILE,
            "web/storefront/appsettings.json": settings,
        },
    )


def test_the_same_setting_on_another_port_in_app_config_and_compose_is_drift(
    here: Path,
) -> None:
    _storefront(here, SETTINGS.replace("localhost:6202", "localhost:6200"))
    found = [f for f in _findings(here) if f[0] == "PP220"]
    assert found == [
        (
            "PP220",
            ["./web/storefront/appsettings.json:3:34", "./compose.yaml:8:47"],
            "storefront: OrdersUrl is localhost:6200 in appsettings.json but "
            "host.docker.internal:6202 in its deployment environment "
            "(OrdersUrl, compose.yaml:8)",
        )
    ]


def test_settings_that_agree_are_no_finding(here: Path) -> None:
    _storefront(here, SETTINGS)
    assert _findings(here) == []


def test_a_setting_is_one_however_its_key_is_spelled(here: Path) -> None:
    compose = COMPOSE.replace("OrdersUrl=", "ORDERS_URL=")
    _storefront(here, SETTINGS.replace("localhost:6202", "localhost:6200"), compose)
    assert [f[0] for f in _findings(here)] == ["PP216", "PP220"]
    assert setting_key("Purchase__Url") == setting_key("Purchase:Url") == "purchaseurl"
    assert setting_key("PURCHASE_URL") == setting_key("PurchaseUrl") == "purchaseurl"


def test_a_container_name_and_a_host_machine_address_are_never_compared(here: Path) -> None:
    # compose reaches the gateway by name; the default is the host machine's address
    compose = COMPOSE.replace("host.docker.internal:6202", "ordersgw")
    _storefront(here, SETTINGS, compose)
    assert _findings(here) == []


def test_a_nested_setting_is_read_by_its_key_path(here: Path) -> None:
    # Orders:HealthUrl reaches ordersgw:80; the environment's Orders__HealthUrl agrees
    _storefront(here, SETTINGS.replace("ordersgw:80/hc", "ordersgw:8080/hc"))
    found = _findings(here)
    assert [(rule, places[0]) for rule, places, _ in found] == [
        ("PP216", "./web/storefront/appsettings.json:4:45"),
        ("PP220", "./web/storefront/appsettings.json:4:45"),
    ]
    assert found[1][2] == (
        "storefront: Orders:HealthUrl is ordersgw:8080 in appsettings.json but ordersgw:80 "
        "in its deployment environment (Orders__HealthUrl, compose.yaml:9)"
    )


def test_an_env_settings_file_is_the_hosts_unless_the_container_runs_in_that_env(
    here: Path,
) -> None:
    drifting = SETTINGS.replace("localhost:6202", "localhost:6200")
    _storefront(here, "{}\n")
    _write(here, {"web/storefront/appsettings.Development.json": drifting})
    assert _findings(here) == []  # the container runs as Staging: Development is the host's
    (here / "web/storefront/appsettings.Development.json").rename(
        here / "web/storefront/appsettings.Staging.json"
    )
    assert [f[0] for f in _findings(here)] == ["PP216", "PP220"]


def test_one_port_for_two_services_in_one_config_file_is_reused(here: Path) -> None:
    _write(
        here,
        {
            "compose.yaml": AGGREGATOR,
            "bff/Dockerfile": DOCKERFILE,
            "bff/appsettings.localhost.json": BFF_LOCAL,
            "cart/Dockerfile": DOCKERFILE,
            "cart/Properties/launchSettings.json": CART_LAUNCH,
            "auth/Dockerfile": DOCKERFILE,
            "auth/Properties/launchSettings.json": AUTH_LAUNCH,
        },
    )
    assert _findings(here) == [
        (
            "PP213",
            [
                "./bff/appsettings.localhost.json:3:31",
                "./bff/appsettings.localhost.json:4:31",
                "./cart/Properties/launchSettings.json:3:59",
            ],
            "bff: Urls:cart and Urls:auth both reach localhost:46105 in "
            "appsettings.localhost.json, but cart runs on 46103 "
            "(cart-api, launchSettings.json:3)",
        )
    ]


def test_one_port_for_two_services_is_no_finding_without_another_port_of_either(
    here: Path,
) -> None:
    # both behind one gateway on the host: nothing says either runs elsewhere
    _write(
        here,
        {
            "compose.yaml": AGGREGATOR,
            "bff/Dockerfile": DOCKERFILE,
            "bff/appsettings.localhost.json": BFF_LOCAL,
        },
    )
    assert _findings(here) == []


def test_import_notes_one_address_given_to_two_services(here: Path) -> None:
    from portplan.importer.core import import_paths

    _write(
        here,
        {
            "compose.yaml": AGGREGATOR,
            "bff/Dockerfile": DOCKERFILE,
            "bff/appsettings.localhost.json": BFF_LOCAL,
            "cart/Dockerfile": DOCKERFILE,
            "cart/Properties/launchSettings.json": CART_LAUNCH,
        },
    )
    text = import_paths(["."]).text
    assert "conflict: Urls:cart and Urls:auth hold 46105 (" in text
