"""docs/openapi.json is generated from the code, is current, and says exactly what the API
accepts and returns."""

import json
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from shoplocal.openapi import api_functions, render
from shoplocal.template import PROJECT_ROOT

DOCUMENT = PROJECT_ROOT / "docs" / "openapi.json"
# Keywords pydantic writes when it cannot express a constraint in JSON Schema: a document that
# holds them states no bound at all to a JSON Schema reader (a generated client, a fuzzer).
PYDANTIC_KEYWORDS = {"ge", "gt", "le", "lt", "multiple_of", "max_digits", "decimal_places", "strict"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(render())
    return parsed


def test_the_committed_openapi_document_is_current() -> None:
    assert DOCUMENT.read_text() == render(), "docs/openapi.json is stale: run `make openapi`"


def test_swagger_ui_groups_operations_by_area_shows_a_description_and_no_raw_backticks(document: dict[str, Any]) -> None:
    """Swagger UI put all operations under "default", showed no description and printed the
    summaries' backticks (a summary is plain text; descriptions are Markdown)."""
    declared = {tag["name"]: tag.get("description") for tag in document["tags"]}
    assert all(declared.values())
    operations = [operation for operations in document["paths"].values() for operation in operations.values()]
    assert all(len(operation["tags"]) == 1 and operation["tags"][0] in declared for operation in operations)
    assert {operation["tags"][0] for operation in operations} == set(declared)
    assert not [operation["summary"] for operation in operations if "`" in operation["summary"]]
    assert "Authorization: Bearer" in document["info"]["description"]
    assert document["paths"]["/api/auth"]["post"]["tags"] == ["Accounts"]
    assert document["paths"]["/api/products/{product_id}"]["patch"]["tags"] == ["Catalogue (staff)"]


def keys_in(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from keys_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from keys_in(item)


def test_constraints_are_json_schemas_own_keywords(document: dict[str, Any]) -> None:
    schemas = [document["components"]["schemas"]] + [
        operation.get("parameters", []) for operations in document["paths"].values() for operation in operations.values()
    ]
    assert not PYDANTIC_KEYWORDS & set(keys_in(schemas))
    part = document["components"]["schemas"]["OrderPartRequest"]["properties"]
    # A JSON integer within its bounds, or (the Django app's leniency) a string of one.
    product, product_text = part["product"]["anyOf"]
    quantity, quantity_text = part["quantity_in_order"]["anyOf"]
    assert (product["type"], product["minimum"], product["maximum"], product_text["type"]) == ("integer", 1, 2**53, "string")
    assert (quantity["type"], quantity["minimum"], quantity["maximum"], quantity_text["type"]) == (
        "integer",
        1,
        1_000_000,
        "string",
    )


def test_cursors_are_documented_as_the_api_writes_them(document: dict[str, Any]) -> None:
    for path in ("/api/products", "/api/my-orders"):
        (cursor,) = [p for p in document["paths"][path]["get"]["parameters"] if p["name"] == "cursor"]
        assert cursor["schema"] == cursor["schema"] | {"type": "string", "pattern": "^[A-Za-z0-9_-]+$", "maxLength": 64}
        assert "anyOf" not in cursor["schema"]  # a query parameter is absent, never null


def test_every_route_documents_every_status_it_can_answer(document: dict[str, Any]) -> None:
    for spec in api_functions():
        for route in spec.routes:
            operation = document["paths"][route.path][route.method.lower()]
            responses = operation["responses"]
            # Validation errors are 400 here, never powertools' 422; a 422 is a route's own (a reused key).
            assert responses.get("422", {}).get("description", "") != "Validation Error"
            assert any(status.startswith("2") for status in responses)
            assert {"429", "500", "503"} <= set(responses)
            if "requestBody" in operation:
                assert {"400", "413", "415"} <= set(responses)
            if operation.get("parameters"):
                assert "400" in responses
            if operation.get("security"):
                assert operation["security"] == [{"bearerAuth": []}]
                assert responses["401"]["headers"]["WWW-Authenticate"]["required"] is True
            for status, response in responses.items():
                if status != "204":
                    assert response["content"]["application/json"]["schema"]
    assert document["paths"]["/api/order"]["post"]["security"] == [{"bearerAuth": []}]
    assert "security" not in document["paths"]["/api/products"]["get"]
    assert document["paths"]["/api/my-orders"]["get"]["responses"]["200"]["headers"]["Link"]["schema"]["type"] == "string"


def test_the_link_header_pattern_matches_the_header_the_api_sends(document: dict[str, Any]) -> None:
    schema = document["paths"]["/api/my-orders"]["get"]["responses"]["200"]["headers"]["Link"]["schema"]
    validator = jsonschema_rs.validator_for(schema)
    assert validator.is_valid('<https://api.example.com/api/my-orders?limit=1&cursor=bzE2>; rel="next"')
    assert not validator.is_valid("<https://api.example.com/api/my-orders>")


# --- the document's request schemas against the models that judge the requests -----------------


def request_validator(document: dict[str, Any], name: str) -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for({"$ref": f"#/components/schemas/{name}", "components": document["components"]})


def accepts(model: type[BaseModel], body: Any) -> bool:
    try:
        model.model_validate(body)
    except ValidationError:
        return False
    return True


def around(*bounds: int) -> st.SearchStrategy[int]:
    return st.sampled_from([bound + delta for bound in bounds for delta in (-1, 0, 1)]) | st.integers()


NUMBERS_AS_OTHER_TYPES = (
    st.integers().map(str)
    | st.integers().map(float)
    | st.integers(min_value=-3, max_value=2_000_000).map(lambda n: f" {n}.0 ")  # the Django app's strings
    | st.sampled_from(["0007", "+5", "1_0", "٣", "2.5", "1e3", "1000000", "1000001", "9" * 15, "9" * 16])
)
ANY_SCALAR = st.none() | st.booleans() | st.floats(allow_nan=False) | st.text(max_size=5) | NUMBERS_AS_OTHER_TYPES
ORDER_IDS = around(1, 2**53) | ANY_SCALAR
QUANTITIES = around(1, 1_000_000) | ANY_SCALAR
ORDER_PARTS = st.fixed_dictionaries({}, optional={"product": ORDER_IDS, "quantity_in_order": QUANTITIES, "x": ANY_SCALAR})
ORDER_BODIES = st.fixed_dictionaries({}, optional={"parts": st.lists(ORDER_PARTS, max_size=3) | ANY_SCALAR}) | ANY_SCALAR


@settings(deadline=None)  # reading the document per example is slow on a busy machine
@given(ORDER_BODIES)
def test_an_order_body_is_accepted_exactly_when_the_document_says_it_is_valid(body: Any) -> None:
    from orders.models import OrderRequest

    document = json.loads(DOCUMENT.read_text())
    assert accepts(OrderRequest, body) == request_validator(document, "OrderRequest").is_valid(body)


@settings(deadline=None)
@given(st.fixed_dictionaries({}, optional={"username": st.text(max_size=152) | ANY_SCALAR, "password": st.text() | ANY_SCALAR}))
def test_a_sign_in_body_is_accepted_exactly_when_the_document_says_it_is_valid(body: dict[str, Any]) -> None:
    from auth.handler import SignInRequest

    document = json.loads(DOCUMENT.read_text())
    assert accepts(SignInRequest, body) == request_validator(document, "SignInRequest").is_valid(body)


def test_documented_response_models_describe_what_the_handlers_send(api: Any, signed_in: Any, new_user: Any) -> None:
    """The response models exist only for the document; they must not drift from the real bodies."""
    from decimal import Decimal

    from auth.handler import RefreshedTokens, TokenPair
    from products.handler import ProductJson, ProductPageJson
    from shop_common.catalog import add_products
    from shop_common.models import NewProduct
    from shop_common.orders import Order

    def same_fields(model: Any, body: dict[str, Any]) -> None:
        model.model_validate(body)
        required = {name for name, field in model.model_fields.items() if field.is_required()}
        assert required <= set(body) <= set(model.model_fields)

    add_products([NewProduct(name="Mug", price=Decimal("2.50"), quantity=3)])
    _, username, password = new_user()
    tokens = api.request("POST", "/api/auth", json_body={"username": username, "password": password}).json()
    same_fields(TokenPair, tokens)
    same_fields(RefreshedTokens, api.request("POST", "/api/refresh", json_body={"refresh": tokens["refresh"]}).json())
    page = api.request("GET", "/api/products").json()
    same_fields(ProductPageJson, page)
    same_fields(ProductJson, page["results"][0])
    _, headers = signed_in()
    placed = api.request("POST", "/api/order", json_body={"parts": [{"product": 1, "quantity_in_order": 1}]}, headers=headers)
    same_fields(Order, placed.json())
    (listed,) = api.request("GET", "/api/my-orders", headers=headers).json()
    same_fields(Order, listed)
