"""Property tests of the HTTP API against its own OpenAPI schema (schemathesis).

Schemathesis reads ``/openapi.json`` from the ASGI app and generates requests for every
operation, both fitting the schema (positive) and breaking it (negative: wrong types, missing
fields, unknown enum values). The property: never a 5xx, and every answer matches the status
codes, content types and bodies the schema documents. Uploaded "photos" are drawn from real
samples (so the 200 path runs), the known bad file, and arbitrary bytes.

The strategies are used with plain Hypothesis ``@given`` rather than schemathesis' pytest
plugin, whose lazy-fixture mode breaks on pytest 9; and the app is built in a fixture, so that
no model is loaded while pytest collects. Examples are kept few: the module takes seconds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.generation.modes import GenerationMode  # noqa: E402
from schemathesis.specs.openapi.checks import (content_type_conformance,  # noqa: E402
                                               response_schema_conformance,
                                               status_code_conformance)

from photocheck.service import ServiceSettings, create_app  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
PHOTOS = [(SAMPLES / name).read_bytes() for name in (
    "grace_hopper_blur_gaussian_w220.jpg", "astronaut_clear_w110.jpg", "noface_coffee.jpg",
    "bad/broken.jpg")]

# Multipart "binary" parts: a real photo, a damaged one, or anything at all.
schemathesis.openapi.format("binary", st.one_of(st.sampled_from(PHOTOS),
                                                st.binary(max_size=4096)))

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
OPERATIONS = [("POST", "/v1/check"), ("GET", "/v1/policy"), ("GET", "/v1/health"),
              ("GET", "/v1/messages")]
EXAMPLES = {"POST": 40, "GET": 10}


@pytest.fixture(scope="module")
def api_schema():
    # Small limits, so generated uploads also cross them; one checker is enough here.
    app = create_app(ServiceSettings(checkers=1, max_upload_bytes=256 * 1024,
                                     max_pixels=2_000_000))
    return schemathesis.openapi.from_asgi("/openapi.json", addressed_to_localhost(app))


def addressed_to_localhost(app):
    """``app`` seen through requests for ``localhost``: schemathesis' client says
    ``testserver``, which a keyless loopback server refuses (DNS rebinding guard)."""
    async def wrapped(scope, receive, send):
        if scope["type"] == "http":
            headers = [(name, b"localhost" if name == b"host" else value)
                       for name, value in scope["headers"]]
            scope = {**scope, "headers": headers}
        await app(scope, receive, send)

    return wrapped


def test_every_operation_is_covered(api_schema):
    found = {(op.ok().method.upper(), op.ok().path) for op in api_schema.get_all_operations()}
    assert found == set(OPERATIONS)


#: Negative cases need an input to break: the two operations without one get positive only.
CASES = [(method, path, mode) for method, path in OPERATIONS
         for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
         if mode is GenerationMode.POSITIVE or path in ("/v1/check", "/v1/messages")]


@pytest.mark.parametrize("method, path, mode", CASES)
def test_api_conforms_to_its_schema(api_schema, method, path, mode):
    operation = api_schema[path][method]
    statuses: list[int] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES[method], deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case) -> None:
        response = case.call()
        statuses.append(response.status_code)
        case.validate_response(response, checks=CHECKS)

    run()
    assert statuses, "no request was generated"
    if method == "POST" and mode is GenerationMode.POSITIVE:
        assert 200 in statuses and 422 in statuses, statuses  # real photos and junk both ran
