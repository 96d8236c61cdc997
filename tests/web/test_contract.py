"""Contract tests of the OpenAPI schema (schemathesis): generated requests for every operation never
get a 5xx, and answers have the content type the schema says. Bounded: a few examples per operation.

Trial jobs: the app allows no job at once (max_jobs=0 would refuse all), so valid trial requests
are checked up to the limit and answered 429 instead of starting simulations."""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance

from exoresist.web import create_app

from .conftest import make_settings

EXAMPLES = 12
"""Generated requests per operation (about 40 operations)."""

_app = create_app(
    make_settings(Path(tempfile.mkdtemp(prefix="exoresist-contract-")), max_jobs=0, max_days=60, max_points=200),
    warm_up=False,
)
schema = schemathesis.openapi.from_asgi("/openapi.json", _app)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
def test_no_server_error_on_generated_input(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=[not_a_server_error, content_type_conformance])
