"""Property-based fuzzing of every API operation from its OpenAPI document: no input gives a 500, and every
answer is one the document lists (errors included), with the documented shape."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from haocha.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)


@pytest.fixture
def api_key(db, wsgi_keep_connection):
    from tests.factories import build_cast, finished_case

    cast = build_cast()
    finished_case(cast, "FUZZ-1")
    return cast.key_city


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_makes_a_server_error(case, api_key):
    response = case.call(headers={"X-Api-Key": api_key})
    assert response.status_code < 500, f"{case.method} {case.formatted_path} -> {response.status_code}"
    case.validate_response(
        response,
        checks=[status_code_conformance, content_type_conformance, response_schema_conformance],
    )
