"""`/api/schema/` describes exactly the REST API the server routes, and the live server keeps to it
(schemathesis generates requests from the document; bounded examples)."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from handlers import routes
from tests.test_fuzz import server  # noqa: F401 (the running server, shared with the fuzz tests)


@pytest.mark.gen_test
async def test_the_schema_lists_every_api_route_and_no_other(api, arena):
    document = (await api.get("/api/schema/")).json
    assert document["openapi"] == "3.1.0"
    routed = {rule[0] for rule in routes.build(arena) if rule[0].startswith("/api/")}
    assert set(document["paths"]) == routed


@pytest.fixture(scope="module")
def live_schema(server):  # noqa: F811
    return schemathesis.openapi.from_url(f"http://127.0.0.1:{server}/api/schema/")


schema = schemathesis.pytest.from_fixture("live_schema")


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_live_server_keeps_to_its_schema(case):
    case.call_and_validate(checks=[status_code_conformance, response_schema_conformance])
