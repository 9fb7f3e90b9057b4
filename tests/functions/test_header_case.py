"""Every route reads its request headers whatever the case of their names: behind
`sam local start-api`, which passes names as the client wrote them (`Authorization`,
`Idempotency-Key`, `Content-Type`), as behind API Gateway, which lower-cases them. The events
here keep the client's spelling (`LocalApi(header_names="as sent")`), in odd mixed cases.

The documentation page's routes (If-None-Match, Accept-Encoding) are checked in
test_docs_page.py, CORS's Origin in tests/shoplocal/gateway/test_gateway.py."""

import json
from decimal import Decimal
from typing import Any

import pytest

from shop_common.catalog import add_products
from shop_common.models import NewProduct
from shoplocal.gateway.invoke import ApiResponse, LocalApi
from shoplocal.template import PROJECT_ROOT, functions

Headers = dict[str, str]
DOCUMENT = json.loads((PROJECT_ROOT / "docs" / "openapi.json").read_text())
DOCS_FUNCTION = "DocsFunction"
# Every route of the template but the documentation page's.
ROUTES = sorted(
    (route.method, route.path) for spec in functions().values() if spec.logical_id != DOCS_FUNCTION for route in spec.routes
)
SIGNED_IN_ROUTES = [(method, path) for method, path in ROUTES if DOCUMENT["paths"][path][method.lower()].get("security")]
BODY_ROUTES = [(method, path) for method, path in ROUTES if "requestBody" in DOCUMENT["paths"][path][method.lower()]]
GET_ROUTES = [(method, path) for method, path in ROUTES if method == "GET"]


@pytest.fixture
def as_sent() -> LocalApi:
    """The functions behind events with header names as the client spelled them (sam local)."""
    return LocalApi(header_names="as sent")


def odd_case(name: str) -> str:
    """`Idempotency-Key` -> `iDeMpOtEnCy-kEy`: neither API Gateway's spelling nor the usual one."""
    return "".join(char.upper() if index % 2 else char.lower() for index, char in enumerate(name))


def spelled(headers: Headers, spelling: Any) -> Headers:
    return {spelling(name): value for name, value in headers.items()}


# Title-Case (curl, browsers), UPPER and a mixed case neither gateway would produce.
SPELLINGS = [str.title, str.upper, odd_case]


def bearer(headers: Headers) -> str:
    return headers["Authorization"]


@pytest.fixture
def world(api: LocalApi, signed_in: Any) -> dict[str, Any]:
    """A staff member, a product and an order of it: ids for every path parameter."""
    staff_id, staff = signed_in(is_staff=True)
    (product,) = add_products([NewProduct(name="Mug", price=Decimal("2.50"), quantity=50)])
    placed = api.request(
        "POST", "/api/order", json_body={"parts": [{"product": product.id, "quantity_in_order": 1}]}, headers=staff
    )
    assert placed.status == 201, placed.body
    webhook = api.request(
        "POST", "/api/webhooks", json_body={"url": "http://127.0.0.1:9/hooks", "events": ["order.placed"]}, headers=staff
    )
    assert webhook.status == 201, webhook.body
    ids = {
        "{user_id}": str(staff_id),
        "{product_id}": str(product.id),
        "{order_id}": str(placed.json()["id"]),
        "{offer_id}": "1",
        "{image_id}": "0123456789abcdef",
        "{webhook_id}": webhook.json()["id"],
    }
    return {"staff": staff, "ids": ids}


def concrete(path: str, ids: dict[str, str]) -> str:
    for parameter, value in ids.items():
        path = path.replace(parameter, value)
    return path


def call(api: LocalApi, method: str, path: str, headers: Headers, body: str | None = None, query: str = "") -> ApiResponse:
    return api.request(method, path, body=body, headers=headers, query_string=query)


def test_the_routes_are_all_here() -> None:
    """The lists below are read from the template and the OpenAPI document, not written out."""
    assert len(ROUTES) == 37
    assert ("POST", "/api/order") in SIGNED_IN_ROUTES
    assert ("POST", "/api/auth") in BODY_ROUTES
    assert ("POST", "/api/auth") not in SIGNED_IN_ROUTES


@pytest.mark.parametrize(("method", "path"), SIGNED_IN_ROUTES)
def test_a_signed_in_route_reads_the_bearer_token_in_any_case(
    as_sent: LocalApi, world: dict[str, Any], method: str, path: str
) -> None:
    target = concrete(path, world["ids"])
    assert call(as_sent, method, target, {"X-Other": "1"}).status == 401
    for spelling in SPELLINGS:
        response = call(as_sent, method, target, {spelling("Authorization"): bearer(world["staff"])})
        assert response.status not in (401, 403), (spelling, response.body)
        assert response.status < 500, response.body


def test_staff_offers_read_the_bearer_token_in_any_case(as_sent: LocalApi, world: dict[str, Any]) -> None:
    """GET /api/offers is public; with all=true it reads the token itself."""
    assert call(as_sent, "GET", "/api/offers", {}, query="all=true").status == 401
    for spelling in SPELLINGS:
        response = call(as_sent, "GET", "/api/offers", {spelling("Authorization"): bearer(world["staff"])}, query="all=true")
        assert response.status == 200, (spelling, response.body)


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
def test_a_body_route_reads_the_content_type_in_any_case(
    as_sent: LocalApi, world: dict[str, Any], method: str, path: str
) -> None:
    target = concrete(path, world["ids"])
    for spelling in SPELLINGS:
        signed = {spelling("Authorization"): bearer(world["staff"])}
        refused = call(as_sent, method, target, {**signed, spelling("Content-Type"): "text/plain"}, body="{}")
        assert refused.status == 415, (spelling, refused.body)
        accepted = call(as_sent, method, target, {**signed, spelling("Content-Type"): "Application/JSON"}, body="{}")
        assert accepted.status not in (401, 403, 415), (spelling, accepted.body)
        assert accepted.status < 500, accepted.body


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_an_idempotency_key_in_any_case_replays(as_sent: LocalApi, world: dict[str, Any], spelling: Any) -> None:
    product = world["ids"]["{product_id}"]
    headers = spelled({"Authorization": bearer(world["staff"]), "Idempotency-Key": "k-1"}, spelling)
    body = json.dumps({"parts": [{"product": int(product), "quantity_in_order": 1}]})
    first = call(as_sent, "POST", "/api/order", headers, body)
    again = call(as_sent, "POST", "/api/order", headers, body)
    assert (first.status, again.status) == (201, 201)
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    cancel = f"/api/orders/{first.json()['id']}/cancel"
    cancelled, replayed = call(as_sent, "POST", cancel, headers), call(as_sent, "POST", cancel, headers)
    assert (cancelled.status, replayed.status) == (200, 200)
    assert replayed.headers["idempotent-replayed"] == "true"


@pytest.mark.parametrize(("method", "path"), GET_ROUTES)
def test_a_read_answers_the_same_whatever_the_spelling_of_its_headers(
    api: LocalApi, as_sent: LocalApi, world: dict[str, Any], method: str, path: str
) -> None:
    """A GET changes nothing: the same request behind API Gateway and, in three spellings, behind
    sam local gives the same answer."""
    target = concrete(path, world["ids"])
    headers = {"Authorization": bearer(world["staff"]), "Origin": "http://localhost:3000", "User-Agent": "tests"}
    expected = call(api, method, target, headers)
    assert expected.status == 200, expected.body
    for spelling in SPELLINGS:
        response = call(as_sent, method, target, spelled(headers, spelling))
        assert (response.status, response.json()) == (expected.status, expected.json())
