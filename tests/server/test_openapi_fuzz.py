"""schemathesis against the registry's OpenAPI document, on SQLite and PostgreSQL: every
operation with generated requests (valid and invalid), then stateful sequences along the
document's links (lease -> renew / read -> release). Every response must be no server error
and fit the document (status, content type, body schema, headers)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from sqlalchemy import Engine, delete, select

from portplan.server.schema import audit, events, lease_ports, leases, plan_revisions, systems
from tests.server.conftest import Registry
from tests.server.test_plans import PLAN

ACCEPTED = {"expected-statuses": ["2xx", "401", "403", "404", "409", "422"]}
# bounded: the whole module runs in about a minute on both databases
EXAMPLES = 10
STEPS = settings(
    max_examples=60,
    stateful_step_count=6,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    # the database outlives a scenario: a replay would not see the same answers, so a
    # failure is reported as found, unshrunk
    phases=[Phase.generate],
    database=None,
    derandomize=True,  # the same scenarios every run (the versions are locked)
)


@pytest.fixture
def schema(registry: Registry) -> Any:
    """The app's schema, called with an admin token of a tenant with a stored plan (so that
    `shop` and its ranges exist among what the generator may hit)."""
    token = registry.token("fuzz")
    pushed = registry.client(token).put("/v1/systems/shop/plan", json={"text": PLAN})
    assert pushed.status_code == 200, pushed.text
    config = SchemathesisConfig.from_dict(
        {
            "auth": {"openapi": {"HTTPBearer": {"bearer": token}}},
            # DELETE /v1/leases/{id} releases: the lease stays readable as `released`
            "checks": {"use_after_free": {"enabled": False}},
            # a plan with errors, and a lease of a named range without `system`, fit the
            # JSON schema and are refused by what the server knows (422 with the findings)
            "operations": [
                {"include-operation-id": op, "checks": {"positive_data_acceptance": ACCEPTED}}
                for op in ("push_plan", "create_lease")
            ],
        }
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", registry.app, config=config)
    # the SSE stream never ends by design; tests/server/test_feed_and_operations.py covers it
    return schema.exclude(path="/v1/events")


def test_every_operation_answers_within_its_schema(schema: Any) -> None:
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            # no example database: a failure saved by another version of the document would
            # be replayed against strategies it was not drawn from
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                database=None,
            )
            def run(case: Any) -> None:
                case.call_and_validate()

            try:
                run()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing to get wrong: no parameters
            except (Exception, BaseExceptionGroup) as error:  # each operation's first failure
                failures.append(f"{operation.label} ({mode}): {error}")
    assert not failures, "\n\n".join(failures)


def _reset(engine: Engine) -> None:
    """Back to the stored plan alone: each scenario starts from the same state, as
    hypothesis needs to tell a scenario by its choices."""
    with engine.begin() as conn:
        for table in (lease_ports, leases, events, audit):
            conn.execute(delete(table))
        shop = select(systems.c.id).where(systems.c.name == "shop").scalar_subquery()
        conn.execute(
            delete(plan_revisions).where(
                (plan_revisions.c.system_id != shop) | (plan_revisions.c.number > 1)
            )
        )
        conn.execute(delete(systems).where(systems.c.name != "shop"))


def test_stateful_sequences_along_the_links(schema: Any, registry: Registry) -> None:
    """Chains of calls along the document's links (which scenarios run is up to hypothesis:
    the links themselves are checked deterministically below)."""
    # valid requests only: the invalid ones are the test above's, here they would end chains
    schema.config.generation.update(modes=[GenerationMode.POSITIVE])

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            _reset(registry.engine)

    Machine.run(settings=STEPS)


def test_the_links_of_a_granted_lease_lead_to_renew_read_and_release(registry: Registry) -> None:
    """Each link of `POST /v1/leases` 201, followed as a client follows it: its operation
    found by id in the document, its parameter taken from the answer."""
    document = registry.app.openapi()
    by_id = {
        op["operationId"]: (method.upper(), path)
        for path, ops in document["paths"].items()
        for method, op in ops.items()
    }
    links = document["paths"]["/v1/leases"]["post"]["responses"]["201"]["links"]
    client = registry.client(registry.token("links"))
    lease = client.post("/v1/leases", json={"holder": "ci", "ports": [{"candidates": [7000]}]})
    answers = {}
    for name in ("RenewLease", "ReadLease", "ReleaseLease"):
        method, path = by_id[links[name]["operationId"]]
        assert links[name]["parameters"] == {"lease_id": "$response.body#/id"}
        url = path.replace("{lease_id}", lease.json()["id"])
        answer = client.request(method, url, json={"ttl_seconds": 60} if method == "POST" else None)
        answers[name] = (method, path, answer.status_code, answer.json()["state"])
    assert answers == {
        "RenewLease": ("POST", "/v1/leases/{lease_id}/renew", 200, "live"),
        "ReadLease": ("GET", "/v1/leases/{lease_id}", 200, "live"),
        "ReleaseLease": ("DELETE", "/v1/leases/{lease_id}", 200, "released"),
    }
