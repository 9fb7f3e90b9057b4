"""The Django app's responses, replayed: each row of the record of what its clients see
(`original-app.md`, "Responses" and "Leniencies", kept in the README's "Details that existing
clients may care about") sent to this API as that app's client sends it, and the answer read as
that client reads it: same status, same keys with the same JSON types, same words. Our additions
(`description`, `sku`, `images`, prices of orders, `detail`/`code`/`errors`) may stand beside.

Token lifetimes (1 day, 1 week) are the template's defaults and are checked with the tokens."""

import base64
import json
import re
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest

from shop_common.catalog import add_products
from shop_common.models import NewProduct
from shoplocal.gateway.invoke import LocalApi

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
# The shipped database's first products: product_N, a float price, a stock.
ORIGINAL_PRODUCTS = [("product_0", "16.0", 92), ("product_1", "70.0", 934), ("product_2", "80.0", 265), ("product_3", "1.64", 3)]


@pytest.fixture
def shop(api: LocalApi, new_user: Any) -> tuple[LocalApi, dict[str, str], dict[str, Any]]:
    """The original's first products (and 56 more, for paging), a customer signed in as the
    Django app's client signs in (a form), its tokens and headers."""
    more = [(f"product_{n}", f"{n}.5", n) for n in range(4, 60)]
    add_products([NewProduct(name=name, price=Decimal(price), quantity=stock) for name, price, stock in ORIGINAL_PRODUCTS + more])
    _, username, password = new_user()
    tokens = api.request("POST", "/api/auth", body=f"username={username}&password={password.replace(' ', '+')}", headers=FORM)
    assert tokens.status == 200
    return api, {"Authorization": f"Bearer {tokens.json()['access']}"}, tokens.json()


def claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return decoded


def header(token: str) -> dict[str, Any]:
    part = token.split(".")[0]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


# --- product, products page -------------------------------------------------------------------


def test_product(shop: Any) -> None:
    api, _, _ = shop
    response = api.request("GET", "/api/products", query_string="limit=4")
    first = response.json()["results"][0]
    assert {key: first[key] for key in ("id", "name", "price", "quantity")} == {
        "id": 1,
        "name": "product_0",
        "price": 16.0,
        "quantity": 92,
    }
    assert (type(first["price"]), type(first["quantity"])) == (float, int)
    assert '"price":16.0,"quantity":92' in response.body  # the bytes the Django app wrote
    assert '"price":1.64,' in response.body
    assert "quantity_in_stock" not in response.body


def test_products_page(shop: Any) -> None:
    api, _, _ = shop
    page = api.request("GET", "/api/products").json()
    assert list(page)[:4] == ["count", "next", "previous", "results"]
    assert (page["count"], len(page["results"]), page["previous"]) == (60, 50, None)
    assert [product["id"] for product in page["results"]] == list(range(1, 51))  # ids ascending
    assert urlsplit(page["next"]).scheme in ("http", "https")  # absolute
    for limit, size in (("0", 50), ("-1", 50), ("abc", 50), ("1.5", 50), ("5000", 60), ("7", 7)):
        assert len(api.request("GET", "/api/products", query_string=f"limit={limit}").json()["results"]) == size
    for page_number in ("0", "-1", "abc", "2.0", "99"):
        response = api.request("GET", "/api/products", query_string=f"page={page_number}")
        assert response.status == 404
        assert response.json()["detail"] == "Invalid page."
    last = api.request("GET", "/api/products", query_string="page=last&limit=25").json()
    assert ([p["id"] for p in last["results"]], last["next"]) == (list(range(51, 61)), None)


# --- tokens, header, sign-in failure, missing fields -------------------------------------------


def test_tokens(shop: Any) -> None:
    api, _, tokens = shop
    for token, kind in ((tokens["access"], "access"), (tokens["refresh"], "refresh")):
        assert header(token)["alg"] == "HS256"
        assert set(claims(token)) >= {"token_type", "exp", "iat", "jti", "user_id"}
        assert claims(token)["token_type"] == kind
    for _ in range(2):  # the refresh token stays reusable
        refreshed = api.request("POST", "/api/refresh", json_body={"refresh": tokens["refresh"]})
        assert refreshed.status == 200
        assert list(refreshed.json()) == ["access"]


def test_header(shop: Any) -> None:
    api, headers, _ = shop
    token = headers["Authorization"].removeprefix("Bearer ")
    assert api.request("GET", "/api/my-orders", headers=headers).status == 200
    # (The scheme's case is not significant here, as RFC 7235 has it: `bearer` works too.)
    for other in (f"Token {token}", f"Bearer {token} x", token):
        assert api.request("GET", "/api/my-orders", headers={"Authorization": other}).status == 401


def test_sign_in_failure(api: LocalApi) -> None:
    response = api.request("POST", "/api/auth", json_body={"username": "nobody", "password": "wrong"})
    assert response.status == 401
    assert response.json()["detail"] == "No active account found with the given credentials"
    assert response.headers["www-authenticate"] == 'Bearer realm="api"'


def test_missing_fields(api: LocalApi) -> None:
    response = api.request("POST", "/api/auth", json_body={})
    assert response.status == 400
    assert {key: response.json()[key] for key in ("username", "password")} == {
        "username": ["This field is required."],
        "password": ["This field is required."],
    }
    response = api.request("POST", "/api/refresh", json_body={})
    assert (response.status, response.json()["refresh"]) == (400, ["This field is required."])


def test_bad_or_wrong_type_token(shop: Any) -> None:
    api, _, tokens = shop
    for token in ("abc", tokens["refresh"]):
        response = api.request("GET", "/api/my-orders", headers={"Authorization": f"Bearer {token}"})
        assert response.status == 401
        assert response.json()["code"] == "token_not_valid"
        assert isinstance(response.json()["detail"], str)
        assert response.headers["www-authenticate"] == 'Bearer realm="api"'
    response = api.request("GET", "/api/my-orders")
    assert response.status == 401
    assert response.json()["detail"] == "Authentication credentials were not provided."


# --- orders -----------------------------------------------------------------------------------


def order(api: LocalApi, headers: dict[str, str], body: Any) -> Any:
    return api.request("POST", "/api/order", json_body=body, headers=headers)


def test_order_201(shop: Any) -> None:
    api, headers, tokens = shop
    response = order(api, headers, {"parts": [{"product": 3, "quantity_in_order": 2}, {"product": 1, "quantity_in_order": 1}]})
    assert response.status == 201
    body = response.json()
    assert list(body)[:4] == ["id", "parts", "created", "user"]
    assert (type(body["id"]), body["user"]) == (int, claims(tokens["access"])["user_id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", body["created"])
    assert [{key: part[key] for key in ("product", "quantity_in_order", "product_name")} for part in body["parts"]] == [
        {"product": 3, "quantity_in_order": 2, "product_name": "product_2"},
        {"product": 1, "quantity_in_order": 1, "product_name": "product_0"},
    ]  # in request order


def test_order_short_stock(shop: Any) -> None:
    api, headers, _ = shop
    response = order(api, headers, {"parts": [{"product": 4, "quantity_in_order": 4}]})
    assert response.status == 400
    assert {key: response.json()[key] for key in ("order_part", "product_id")} == {
        "order_part": "Not enough product in stock to complete the order",
        "product_id": "4",
    }


def test_order_a_bad_part(shop: Any) -> None:
    api, headers, _ = shop
    response = order(api, headers, {"parts": [{"product": 1, "quantity_in_order": 1}, {"product": 99, "quantity_in_order": 1}]})
    assert (response.status, response.json()["order_part"]) == (
        400,
        [{}, {"product": ['Invalid pk "99" - object does not exist.']}],
    )
    response = order(api, headers, {"parts": [{"product": 1, "quantity_in_order": "x"}]})
    assert (response.status, response.json()["order_part"]) == (400, [{"quantity_in_order": ["A valid integer is required."]}])


def test_order_empty_or_missing_parts(shop: Any) -> None:
    api, headers, _ = shop
    bodies: list[dict[str, Any]] = [{"parts": []}, {}]
    for body in bodies:
        response = order(api, headers, body)
        assert (response.status, response.json()["parts"]) == (400, "Order must contain at least one product in 'parts' field")


def test_order_parts_not_a_list(shop: Any) -> None:
    api, headers, _ = shop
    response = order(api, headers, {"parts": {"product": 1}})
    assert response.status == 400
    assert response.json()["order_part"] == {"non_field_errors": ['Expected a list of items but got type "dict".']}
    response = order(api, headers, {"parts": [1]})
    assert response.json()["order_part"] == [{"non_field_errors": ["Invalid data. Expected a dictionary, but got int."]}]


def test_order_body_not_an_object(shop: Any) -> None:
    api, headers, _ = shop
    response = api.request("POST", "/api/order", body="[]", headers={**headers, "Content-Type": "application/json"})
    assert response.status == 400
    assert response.json()["non_field_errors"] == ["Invalid data. Expected a dictionary, but got list."]


def test_my_orders(shop: Any) -> None:
    api, headers, _ = shop
    placed = [order(api, headers, {"parts": [{"product": n, "quantity_in_order": 1}]}).json() for n in (1, 2, 3)]
    response = api.request("GET", "/api/my-orders", headers=headers)
    assert response.status == 200
    assert [o["id"] for o in response.json()] == [o["id"] for o in placed[::-1]]  # a bare list, newest first


# --- leniencies ---------------------------------------------------------------------------------


def test_form_encoded_bodies(shop: Any) -> None:
    api, headers, tokens = shop
    assert api.request("POST", "/api/refresh", body=f"refresh={tokens['refresh']}", headers=FORM).status == 200
    form_order = api.request(
        "POST", "/api/order", body="parts[0]product=1&parts[0]quantity_in_order=1", headers={**headers, **FORM}
    )
    assert form_order.status == 201


def test_integer_valued_strings_and_floats_are_integers(shop: Any) -> None:
    api, headers, _ = shop
    for product, quantity in (("50", "2"), (50, 2.0), (50.0, " 2 "), ("50", "2.0")):
        response = order(api, headers, {"parts": [{"product": product, "quantity_in_order": quantity}]})
        assert response.status == 201
        assert (response.json()["parts"][0]["product"], response.json()["parts"][0]["quantity_in_order"]) == (50, 2)


def test_unknown_keys_are_ignored(shop: Any) -> None:
    api, headers, _ = shop
    response = order(api, headers, {"parts": [{"product": 1, "quantity_in_order": 1, "x": 1}], "y": 2})
    assert response.status == 201


# --- its defects, not copied -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "part",
    [{"product": 1, "quantity_in_order": 0}, {"product": 1, "quantity_in_order": -1}, {"product": None, "quantity_in_order": 1}],
)
def test_zero_negative_and_null_stay_400s(shop: Any, part: dict[str, Any]) -> None:
    api, headers, _ = shop
    assert order(api, headers, {"parts": [part]}).status == 400


def test_the_same_product_twice_is_summed_and_checked_once(shop: Any) -> None:
    api, headers, _ = shop
    response = order(api, headers, {"parts": [{"product": 4, "quantity_in_order": 3}, {"product": 4, "quantity_in_order": 3}]})
    assert response.status == 400  # stock 3: the Django app sold 6
    products = api.request("GET", "/api/products", query_string="limit=4").json()["results"]
    assert products[3]["quantity"] == 3
