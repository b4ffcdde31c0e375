"""schemathesis over the admin API's OpenAPI schema: every operation, with generated parameters and
bodies and a valid session token, answers without a server error. In process, against the Django
WSGI app, on the test database; a bounded number of examples per operation keeps it under a minute."""

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode

from tests.conftest import make_session_token
from tests.security.conftest import SeededShop

# The schema /api/schema/ serves, built the same way (serving it needs a session of a shop in the
# database, which does not exist yet when the tests are collected).
SCHEMA = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
# Valid inputs and invalid ones: a bad value must get a 4xx, never a 500.
SCHEMA.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], database="none")
APP = get_wsgi_application()


def test_the_schema_lists_the_admin_apis() -> None:
    paths = {operation.ok().path for operation in SCHEMA.get_all_operations()}
    assert {"/api/shop", "/api/loyalty/rewards/{reward_id}", "/api/newsletters/topics"} <= paths


@pytest.fixture
def seeded(seeded_shop: SeededShop) -> Iterator[SeededShop]:
    """The seeded shop, with the WSGI app kept from closing the test's database connection at the
    end of each request (as Django's test client does)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield seeded_shop
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@SCHEMA.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_no_operation_answers_a_server_error(case: Any, seeded: SeededShop) -> None:
    token = make_session_token(seeded.shop.domain)

    response = case.call(app=APP, headers={"Authorization": f"Bearer {token}"})

    assert response.status_code < 500, f"{case.method} {case.formatted_path} answered {response.status_code}"
