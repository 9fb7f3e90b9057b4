"""docs/openapi.json is generated from the code, and is current."""

import json
from typing import Any

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


def test_documented_response_models_describe_what_the_handlers_send(api: Any, signed_in: Any, new_user: Any) -> None:
    """The response models exist only for the document; they must not drift from the real bodies."""
    from decimal import Decimal

    from auth_app import AccessToken, TokenPair
    from order_models import Order
    from products_app import ProductJson, ProductPageJson
    from shop_common.catalog import add_products
    from shop_common.models import NewProduct

    def same_fields(model: Any, body: dict[str, Any]) -> None:
        model.model_validate(body)
        assert set(body) == set(model.model_fields)

    add_products([NewProduct(name="Mug", price=Decimal("2.50"), quantity_in_stock=3)])
    _, username, password = new_user()
    tokens = api.request("POST", "/api/auth", json_body={"username": username, "password": password}).json()
    same_fields(TokenPair, tokens)
    same_fields(AccessToken, api.request("POST", "/api/refresh", json_body={"refresh": tokens["refresh"]}).json())
    page = api.request("GET", "/api/products").json()
    same_fields(ProductPageJson, page)
    same_fields(ProductJson, page["results"][0])
    _, headers = signed_in()
    placed = api.request("POST", "/api/order", json_body={"parts": [{"product": 1, "quantity_in_order": 1}]}, headers=headers)
    same_fields(Order, placed.json())
    (listed,) = api.request("GET", "/api/my-orders", headers=headers).json()
    same_fields(Order, listed)
