"""Schemathesis drives every route of the OpenAPI document with generated, often hostile, input:
no request may produce a server error or a response outside the document."""

from hypothesis import HealthCheck, given, settings
from schemathesis import openapi
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

EXAMPLES_PER_ROUTE = 40
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


def test_no_server_errors_on_generated_input(bank, make_client):
    bank.registered("alice")
    bank.user("boss", role="master")
    client = make_client()
    schema = openapi.from_asgi("/api/v1/openapi.json", client.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 11
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_ROUTE, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def exercise(case):
            case.call_and_validate(headers={"Authorization": client.headers["Authorization"]}, checks=CHECKS)

        exercise()
