"""docs/openapi.json is generated from the code, and is current."""

import json

from shoplocal.openapi import render
from shoplocal.template import PROJECT_ROOT, functions

DOCUMENT = PROJECT_ROOT / "docs" / "openapi.json"


def test_the_committed_openapi_document_is_current() -> None:
    assert DOCUMENT.read_text() == render(), "docs/openapi.json is stale: run `make openapi`"


def test_every_template_route_is_documented_with_the_contracts_status_codes() -> None:
    document = json.loads(render())
    for spec in functions().values():
        for route in spec.routes:
            responses = document["paths"][route.path][route.method.lower()]["responses"]
            assert "422" not in responses
            assert "400" in responses
            assert {"200", "201"} & set(responses)
    assert document["paths"]["/api/order"]["post"]["security"] == [{"bearerAuth": []}]
    assert "401" in document["paths"]["/api/my-orders"]["get"]["responses"]
