"""`portplan import` matches the names of the sources twice, without a plan and then
against the plan it voted: the second time lends what the first read of the sources, unless
the plan changes what is read (a name read as a host that the plan holds)."""

from __future__ import annotations

from portplan.model import Location
from portplan.plan.loader import load_text
from portplan.reconcile.names import build_names
from portplan.sources.base import (
    DependencyObservation,
    PortObservation,
    ServiceObservation,
    SourceResult,
    without_templates,
)

COMPOSE = "shop/compose.yaml"
ENV = "shop/.env"


def _shop() -> list[SourceResult]:
    """A compose project: checkout reaches payments by its cluster name and an external
    payment provider by its DNS name; a `.env` gives checkout's port."""
    compose = SourceResult(file=COMPOSE, kind="compose")
    compose.services = [
        ServiceObservation("checkout", Location(COMPOSE, 2, 3), "compose"),
        ServiceObservation("payments", Location(COMPOSE, 8, 3), "compose"),
    ]
    compose.ports = [
        PortObservation("checkout", 8080, Location(COMPOSE, 4, 10), "compose"),
        PortObservation("payments", 8081, Location(COMPOSE, 10, 10), "compose"),
    ]
    compose.dependencies = [
        DependencyObservation(
            "checkout", "payments.default", Location(COMPOSE, 6, 9), "compose", "env-url"
        ),
        DependencyObservation(
            "checkout", "api.stripe.com", Location(COMPOSE, 7, 9), "compose", "env-url"
        ),
    ]
    env = SourceResult(file=ENV, kind="dotenv")
    env.ports = [
        PortObservation("CHECKOUT", 8080, Location(ENV, 1, 15), "dotenv", variable="CHECKOUT_PORT")
    ]
    return [compose, env]


PLAN = load_text(
    """services:
  checkout: {ports: {http: 8080}}
  payments: {ports: {http: 8081}}
"""
)
PLAN_NAMING_A_HOST = load_text(
    """services:
  checkout: {ports: {http: 8080}}
  payments: {ports: {http: 8081}}
  stripe: {aliases: [api.stripe.com]}
"""
)


def test_names_against_the_plan_lend_what_was_read_without_it() -> None:
    results = _shop()
    without = build_names(results, None)
    again = build_names(results, PLAN, without)
    assert again.read is without.read
    assert again == build_names(results, PLAN)
    assert again.key("payments.default") == "payments"
    assert again.external == {"api.stripe.com": [Location(COMPOSE, 7, 9)]}
    assert without.external == {"api.stripe.com": [Location(COMPOSE, 7, 9)]}


def test_a_host_the_plan_holds_is_read_again() -> None:
    """api.stripe.com is an external host without a plan and the plan's stripe against
    this one: the sources are read afresh."""
    results = _shop()
    without = build_names(results, None)
    again = build_names(results, PLAN_NAMING_A_HOST, without)
    assert again.read is not without.read
    assert again == build_names(results, PLAN_NAMING_A_HOST)
    assert again.key("api.stripe.com") == "stripe"
    assert again.external == {}
    assert without.key("api.stripe.com") is None


def test_other_results_are_read_afresh() -> None:
    """Equal observations in other results are not the results read: nothing is lent."""
    without = build_names(_shop(), None)
    again = build_names(_shop(), PLAN, without)
    assert again.read is not without.read
    assert again == build_names(_shop(), PLAN)


def test_results_without_a_superseded_template_are_kept_as_they_are() -> None:
    """Only a result that loses observations (an example beside its real file) is copied."""
    results = _shop()
    example = SourceResult(file="shop/.env.example", kind="dotenv")
    example.ports = [
        PortObservation(
            "CHECKOUT", 9090, Location("shop/.env.example", 1, 15), "dotenv", template=True
        )
    ]
    kept = without_templates([*results, example])
    assert [a is b for a, b in zip(kept, [*results, example], strict=True)] == [True, True, False]
    assert kept[2].ports == []
