"""`/api/schema/` describes exactly the REST API the server routes, and the live server keeps to it
(schemathesis generates requests from the document; bounded examples).

The generated cases are drawn through schemathesis' public API (`APIOperation.as_strategy`) inside an
ordinary Hypothesis test, not through its pytest plugin's `parametrize`: that plugin rewrites pytest's
private `Node._nodeid`, which pytest 9.2 no longer has (schemathesis 4.32.5 then fails every case).
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings, strategies

from handlers import routes
from handlers.openapi import PATHS
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance
from tests.test_fuzz import server  # noqa: F401 (the running server, shared with the fuzz tests)

OPERATIONS = [(path, method.upper()) for path, methods in PATHS.items() for method in methods]


@pytest.mark.gen_test
async def test_the_schema_lists_every_api_route_and_no_other(api, arena):
    document = (await api.get("/api/schema/")).json
    assert document["openapi"] == "3.1.0"
    routed = {path for path in [*routes.paths(arena), *routes.PATTERNS] if path.startswith("/api/")}
    assert set(document["paths"]) == routed


@pytest.fixture(scope="module")
def live_schema(server):  # noqa: F811
    """The document as the running server serves it: the cases are generated from what clients read."""
    return schemathesis.openapi.from_url(f"http://127.0.0.1:{server}/api/schema/")


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{method} {path}" for path, method in OPERATIONS])
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=strategies.data())
def test_the_live_server_keeps_to_its_schema(live_schema, path, method, data):
    case = data.draw(live_schema[path][method].as_strategy())
    case.call_and_validate(checks=[status_code_conformance, response_schema_conformance])
