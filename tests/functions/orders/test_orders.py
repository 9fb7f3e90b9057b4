"""POST /api/order and GET /api/my-orders: validation, stock, all-or-nothing, visibility."""

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest

from conftest import ACCOUNT_CHECK, client_sees
from orders import customer_orders
from orders.models import MAX_DISTINCT_PRODUCTS
from orders.store import OrderNotWritten, write_order
from shop_common import settings as shop_settings
from shop_common.api import json_text
from shop_common.catalog import add_products, get_products, remove_product
from shop_common.dynamo import client
from shop_common.models import NewProduct, Product
from shoplocal.gateway.invoke import LocalApi

Headers = dict[str, str]


def stock_of(*product_ids: int) -> list[int]:
    products = get_products(list(product_ids))
    return [products[product_id].quantity for product_id in product_ids]


def make_products(*stocks: int) -> list[Product]:
    return add_products([NewProduct(name=f"Item {n}", price=Decimal("2.50"), quantity=s) for n, s in enumerate(stocks)])


def order(api: LocalApi, headers: Headers, *parts: tuple[Any, Any]) -> Any:
    body = {"parts": [{"product": product, "quantity_in_order": quantity} for product, quantity in parts]}
    return api.request("POST", "/api/order", json_body=body, headers=headers)


def my_orders(api: LocalApi, headers: Headers, query: str = "") -> Any:
    return api.request("GET", "/api/my-orders", headers=headers, query_string=query)


def read_stale_stock(monkeypatch: pytest.MonkeyPatch, stock: Any) -> None:
    """The order's read (before its transaction) sees `stock(product)` instead of the stock."""
    from dataclasses import replace

    from orders import priced_basket
    from orders.store import read_basket

    def stale_read(ids: Any, extra: Any, *, consistent: bool) -> Any:
        products, others = read_basket(ids, extra, consistent=consistent)
        stale = {pid: replace(p, stock=replace(p.stock, quantity=stock(p))) for pid, p in products.items()}
        return stale, others

    monkeypatch.setattr(priced_basket, "read_basket", stale_read)


@pytest.fixture
def customer(signed_in: Any) -> tuple[int, Headers]:
    result: tuple[int, Headers] = signed_in()
    return result


# --- placing an order -------------------------------------------------------------------------


def test_order_is_created_with_the_django_shape_and_decrements_stock(api: LocalApi, customer: tuple[int, Headers]) -> None:
    user_id, headers = customer
    mug, tea = make_products(5, 7)
    before = datetime.now(UTC)
    response = order(api, headers, (mug.id, 2), (tea.id, 7))
    assert response.status == 201, response.body
    body = response.json()
    # The Django app's fields first; status and prices are additions.
    assert list(body) == ["id", "parts", "created", "user", "status", "subtotal", "discount_total", "total", "currency", "offers"]
    assert isinstance(body["id"], int)
    assert 0 < body["id"] < 2**53
    assert body["user"] == user_id
    # Money is a JSON number, exact to the cent (written as the Django app wrote floats).
    assert '"unit_price":2.5,"line_total":5.0,"discount":0.0}' in response.body
    priced = {"discount": 0.0, "unit_price": 2.5}
    assert body["parts"] == [
        {"product": mug.id, "quantity_in_order": 2, "product_name": "Item 0", "line_total": 5.0, **priced},
        {"product": tea.id, "quantity_in_order": 7, "product_name": "Item 1", "line_total": 17.5, **priced},
    ]
    totals = {"subtotal": 22.5, "discount_total": 0.0, "total": 22.5, "currency": "USD", "offers": []}
    assert {name: body[name] for name in totals} == totals
    assert body["created"].endswith("Z")
    created = datetime.fromisoformat(body["created"])
    assert created.utcoffset() is not None
    assert before <= created <= datetime.now(UTC)
    assert stock_of(mug.id, tea.id) == [3, 0]


def test_same_product_twice_is_one_part_with_the_total(api: LocalApi, customer: tuple[int, Headers]) -> None:
    _, headers = customer
    (mug,) = make_products(5)
    response = order(api, headers, (mug.id, 2), (mug.id, 3))
    assert response.status == 201
    assert response.json()["parts"] == [
        {
            "product": mug.id,
            "quantity_in_order": 5,
            "product_name": "Item 0",
            "unit_price": 2.5,
            "line_total": 12.5,
            "discount": 0.0,
        }
    ]
    assert stock_of(mug.id) == [0]


def test_same_product_twice_is_judged_on_the_total(api: LocalApi, customer: tuple[int, Headers]) -> None:
    _, headers = customer
    (mug,) = make_products(5)
    response = order(api, headers, (mug.id, 3), (mug.id, 3))
    assert response.status == 400
    assert response.json()["errors"][0] | {"message": ""} == {
        "field": "parts.0.product",
        "product": mug.id,
        "requested": 6,
        "available": 5,
        "message": "",
    }
    assert stock_of(mug.id) == [5]


def test_insufficient_stock_is_400_naming_every_short_product_and_changes_nothing(
    api: LocalApi, customer: tuple[int, Headers]
) -> None:
    _, headers = customer
    plenty, short, sold_out = make_products(10, 2, 0)
    response = order(api, headers, (plenty.id, 1), (short.id, 3), (sold_out.id, 1))
    assert response.status == 400
    body = response.json()
    assert body["detail"] == "Insufficient stock for some products."
    assert [(e["field"], e["product"], e["available"]) for e in body["errors"]] == [
        ("parts.1.product", short.id, 2),
        ("parts.2.product", sold_out.id, 0),
    ]
    assert stock_of(plenty.id, short.id, sold_out.id) == [10, 2, 0]
    assert my_orders(api, headers).json() == []


def test_unknown_product_is_400_naming_it_and_changes_nothing(api: LocalApi, customer: tuple[int, Headers]) -> None:
    _, headers = customer
    (mug,) = make_products(10)
    response = order(api, headers, (mug.id, 1), (999, 1))
    assert response.status == 400
    body = response.json()
    assert body["detail"] == "Some products do not exist."
    assert body["errors"] == [{"field": "parts.1.product", "product": 999, "message": "Product does not exist."}]
    assert stock_of(mug.id) == [10]


@pytest.mark.parametrize(
    ("parts", "field"),
    [
        ([{"product": 1, "quantity_in_order": 0}], "parts.0.quantity_in_order"),
        ([{"product": 1, "quantity_in_order": -2}], "parts.0.quantity_in_order"),
        ([{"product": 1, "quantity_in_order": 1.5}], "parts.0.quantity_in_order"),
        ([{"product": 1, "quantity_in_order": "many"}], "parts.0.quantity_in_order"),
        ([{"product": 1, "quantity_in_order": True}], "parts.0.quantity_in_order"),
        ([{"product": 1, "quantity_in_order": None}], "parts.0.quantity_in_order"),
        ([{"product": 1, "quantity_in_order": 10**40}], "parts.0.quantity_in_order"),
        ([{"product": "mug", "quantity_in_order": 1}], "parts.0.product"),
        ([{"product": 0, "quantity_in_order": 1}], "parts.0.product"),
        ([{"product": 1}], "parts.0.quantity_in_order"),
        ([{"quantity_in_order": 1}], "parts.0.product"),
        ([{"product": 1, "quantity_in_order": 1}, "oops"], "parts.1"),
        ([], "parts"),
        ("all of them", "parts"),
        (None, "parts"),
    ],
)
def test_wrong_data_is_400_naming_the_field_and_changes_nothing(
    api: LocalApi, customer: tuple[int, Headers], parts: Any, field: str
) -> None:
    _, headers = customer
    make_products(10)
    response = api.request("POST", "/api/order", json_body={"parts": parts}, headers=headers)
    assert response.status == 400
    body = response.json()
    assert body["detail"] == "Invalid request."
    assert field in [error["field"] for error in body["errors"]]
    assert stock_of(1) == [10]


@pytest.mark.parametrize("raw_body", ["{not json", "[]", '"parts"', "42", "", "{}"])
def test_body_that_is_not_an_order_object_is_400(api: LocalApi, customer: tuple[int, Headers], raw_body: str) -> None:
    _, headers = customer
    response = api.request("POST", "/api/order", body=raw_body, headers=headers)
    assert response.status == 400
    assert response.json()["errors"]


def test_more_distinct_products_than_the_maximum_is_400(api: LocalApi, customer: tuple[int, Headers]) -> None:
    _, headers = customer
    products = make_products(*[1] * (MAX_DISTINCT_PRODUCTS + 1))
    response = order(api, headers, *[(product.id, 1) for product in products])
    assert response.status == 400
    assert response.json()["errors"] == [{"field": "parts", "message": f"{MAX_DISTINCT_PRODUCTS + 1} distinct products given."}]
    assert order(api, headers, *[(product.id, 1) for product in products[:-1]]).status == 201


def test_stock_taken_after_the_check_fails_the_transaction_with_a_400(
    api: LocalApi, customer: tuple[int, Headers], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read before the transaction is advisory; the transaction's condition decides."""
    _, headers = customer
    plenty, contested = make_products(10, 5)
    read_stale_stock(monkeypatch, lambda product: 100)
    response = order(api, headers, (plenty.id, 1), (contested.id, 6))
    assert response.status == 400
    assert response.json()["errors"][0] | {"message": ""} == {
        "field": "parts.1.product",
        "product": contested.id,
        "requested": 6,
        "available": 5,
        "message": "",
    }
    assert stock_of(plenty.id, contested.id) == [10, 5]
    assert my_orders(api, headers).json() == []


def test_product_removed_after_the_check_is_an_unknown_product(
    api: LocalApi, customer: tuple[int, Headers], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, headers = customer
    from orders import priced_basket
    from orders.store import read_basket

    plenty, doomed = make_products(10, 5)
    snapshot = read_basket([plenty.id, doomed.id], [], consistent=True)
    remove_product(doomed.id)
    monkeypatch.setattr(priced_basket, "read_basket", lambda ids, extra, consistent: snapshot)
    response = order(api, headers, (plenty.id, 1), (doomed.id, 1))
    assert response.status == 400
    assert response.json()["errors"] == [{"field": "parts.1.product", "product": doomed.id, "message": "Product does not exist."}]
    assert stock_of(plenty.id) == [10]


def test_a_conflicting_transaction_is_retried(
    api: LocalApi, customer: tuple[int, Headers], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, headers = customer
    (mug,) = make_products(3)
    failures = iter([True, True, False])

    def flaky_write(*args: Any) -> None:
        if next(failures):
            raise OrderNotWritten("TransactionConflict")
        write_order(*args)

    monkeypatch.setattr(customer_orders, "write_order", flaky_write)
    assert order(api, headers, (mug.id, 1)).status == 201
    assert stock_of(mug.id) == [2]


def test_persistent_conflicts_are_a_409_not_a_5xx(
    api: LocalApi, customer: tuple[int, Headers], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, headers = customer
    (mug,) = make_products(3)

    def always_conflicting(*_: Any) -> None:
        raise OrderNotWritten("TransactionConflict")

    monkeypatch.setattr(customer_orders, "write_order", always_conflicting)
    response = order(api, headers, (mug.id, 1))
    assert response.status == 409
    assert "retry" in response.json()["detail"]


def test_order_ids_grow_with_time_and_are_unique() -> None:
    ids = [customer_orders.new_order_id(1_800_000_000 + n / 1000) for n in range(200)]
    assert ids == sorted(ids)
    assert len(set(ids)) == 200
    assert max(ids) < 2**53


# --- authentication ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Token abc"},
        {"Authorization": "Bearer not-a-jwt"},
    ],
)
def test_order_endpoints_need_a_valid_access_token(api: LocalApi, headers: Headers) -> None:
    (mug,) = make_products(5)
    for response in (order(api, headers, (mug.id, 1)), my_orders(api, headers)):
        assert response.status == 401
        assert response.json()["detail"]
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert stock_of(mug.id) == [5]


def test_anonymous_request_with_a_bad_body_is_401_not_400(api: LocalApi) -> None:
    assert api.request("POST", "/api/order", body="{not json").status == 401


def test_refresh_token_is_not_accepted_as_access_token(api: LocalApi, new_user: Any) -> None:
    _, username, password = new_user()
    tokens = api.request("POST", "/api/auth", json_body={"username": username, "password": password}).json()
    response = my_orders(api, {"Authorization": f"Bearer {tokens['refresh']}"})
    assert response.status == 401
    assert response.json()["code"] == "token_not_valid"


# --- my orders --------------------------------------------------------------------------------


def test_my_orders_lists_newest_first_exactly_as_created(api: LocalApi, customer: tuple[int, Headers]) -> None:
    _, headers = customer
    mug, tea = make_products(10, 10)
    created = [order(api, headers, (mug.id, 1)).json(), order(api, headers, (tea.id, 2), (mug.id, 1)).json()]
    response = my_orders(api, headers)
    assert response.status == 200
    assert response.json() == created[::-1]
    assert "link" not in response.headers


def test_new_user_has_an_empty_list(api: LocalApi, customer: tuple[int, Headers]) -> None:
    response = my_orders(api, customer[1])
    assert response.status == 200
    assert response.json() == []


def test_product_name_survives_the_products_removal(api: LocalApi, customer: tuple[int, Headers]) -> None:
    _, headers = customer
    (mug,) = make_products(10)
    placed = order(api, headers, (mug.id, 1)).json()
    remove_product(mug.id)
    assert my_orders(api, headers).json() == [placed]
    assert placed["parts"][0]["product_name"] == "Item 0"


def test_other_users_orders_are_never_visible(api: LocalApi, signed_in: Any) -> None:
    alice_id, alice = signed_in()
    bob_id, bob = signed_in()
    (mug,) = make_products(10)
    alices = order(api, alice, (mug.id, 1)).json()
    bobs = order(api, bob, (mug.id, 2)).json()
    assert my_orders(api, alice).json() == [alices]
    assert my_orders(api, bob).json() == [bobs]
    assert {alices["user"], bobs["user"]} == {alice_id, bob_id}


def test_my_orders_pages_with_a_link_header(api: LocalApi, customer: tuple[int, Headers]) -> None:
    _, headers = customer
    (mug,) = make_products(100)
    created = [order(api, headers, (mug.id, 1)).json() for _ in range(7)]
    seen: list[Any] = []
    query = "limit=3"
    while True:
        response = my_orders(api, headers, query)
        assert response.status == 200
        seen += response.json()
        if "link" not in response.headers:
            break
        link = response.headers["link"]
        assert link.endswith('>; rel="next"')
        query = urlsplit(link[1 : link.index(">")]).query
    assert seen == created[::-1]


def write_orders(user_id: int, count: int, name: str = "Item") -> list[dict[str, Any]]:
    """`count` orders of the user written straight to the table (placing them would take long),
    oldest first, as my-orders shows them."""
    from shop_common.order_records import order_item
    from shop_common.orders import Order

    orders = []
    for n in range(count):
        order_id = customer_orders.new_order_id(1_800_000_000 + n)
        part = {"product": 1, "quantity_in_order": 1, "product_name": name, "unit_price": "1.64"}
        placed = Order.model_validate(
            {"id": order_id, "parts": [part], "created": "2027-01-15T08:00:00.000000Z", "user": user_id}
        )
        client().put_item(TableName=shop_settings.table_name(), Item=order_item(placed, []))
        orders.append(client_sees(placed.model_dump()))
    return orders


def test_my_orders_without_parameters_lists_every_order_up_to_1000(api: LocalApi, customer: tuple[int, Headers]) -> None:
    user_id, headers = customer
    created = write_orders(user_id, 130)
    response = my_orders(api, headers)
    assert response.json() == created[::-1]
    assert "link" not in response.headers
    assert response.json()[0]["parts"][0]["unit_price"] == 1.64


def test_my_orders_ends_where_a_response_is_full_and_links_the_rest(
    api: LocalApi, customer: tuple[int, Headers], monkeypatch: pytest.MonkeyPatch
) -> None:
    from orders import handler as orders_handler

    user_id, headers = customer
    created = write_orders(user_id, 9, name="Ä" * 200)  # written as \u00c4 inside the Lambda response
    one = len(json.dumps(json_text(created[0])))
    monkeypatch.setattr(orders_handler, "MAX_ESCAPED_BODY", 4 * one)
    seen: list[Any] = []
    query = ""
    while True:
        response = my_orders(api, headers, query)
        assert len(response.json()) == (4 if "link" in response.headers else 1)
        seen += response.json()
        if "link" not in response.headers:
            break
        link = response.headers["link"]
        query = urlsplit(link[1 : link.index(">")]).query
    assert seen == created[::-1]


def test_a_cursor_cannot_reach_another_users_orders(api: LocalApi, signed_in: Any) -> None:
    from shop_common.cursors import encode_cursor

    _, alice = signed_in()
    _, bob = signed_in()
    (mug,) = make_products(10)
    order(api, alice, (mug.id, 1))
    forged = encode_cursor("o", 2**53)  # "older than anything": a cursor past every order
    response = my_orders(api, bob, f"cursor={forged}")
    assert response.status == 200
    assert response.json() == []


@pytest.mark.parametrize("query", ["cursor=%%%", "cursor=YTE", "limit=0", "limit=1001", "limit=x"])
def test_bad_my_orders_parameters_are_400(api: LocalApi, customer: tuple[int, Headers], query: str) -> None:
    response = my_orders(api, customer[1], query)
    assert response.status == 400
    assert response.json()["errors"]


def test_a_metrics_failure_never_fails_a_placed_order(
    api: LocalApi, customer: tuple[int, Headers], monkeypatch: pytest.MonkeyPatch
) -> None:
    from orders import handler as orders_handler

    def broken_flush(*_: Any, **__: Any) -> None:
        raise RuntimeError("metrics backend unavailable")

    monkeypatch.setattr(orders_handler.metrics, "flush_metrics", broken_flush)
    _, headers = customer
    (mug,) = make_products(3)
    assert order(api, headers, (mug.id, 1)).status == 201
    assert stock_of(mug.id) == [2]


def _access_token(key: bytes | None = None, **claims: Any) -> str:
    import time

    import jwt

    from shop_common.secrets import jwt_signing_key

    now = int(time.time())
    payload = {"token_type": "access", "user_id": 1, "iat": now, "exp": now + 300, "jti": "x", **claims}
    return jwt.encode(payload, key or jwt_signing_key(), algorithm="HS256")


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda: _access_token(iat=1_000, exp=2_000), id="expired"),
        pytest.param(lambda: _access_token(key=b"another-key-of-sufficient-length-0123456789"), id="wrong-key"),
        pytest.param(lambda: _access_token(token_type="refresh"), id="refresh-type"),
        pytest.param(lambda: _access_token()[:-2] + "AA", id="bad-signature"),
    ],
)
def test_expired_forged_or_wrong_type_access_tokens_are_401(api: LocalApi, token: Any) -> None:
    (mug,) = make_products(5)
    headers = {"Authorization": f"Bearer {token()}"}
    assert order(api, headers, (mug.id, 1)).status == 401
    assert my_orders(api, headers).status == 401
    assert stock_of(mug.id) == [5]


def test_a_well_signed_access_token_is_accepted(api: LocalApi, new_user: Any) -> None:
    user_id, _, _ = new_user()
    response = my_orders(api, {"Authorization": f"Bearer {_access_token(user_id=user_id)}"})
    assert response.status == 200


# --- the account is checked inside the order's transaction ------------------------------------


def table_items(partition: str) -> list[dict[str, Any]]:
    from shop_common.dynamo import client, from_attributes
    from shop_common.settings import table_name

    response = client().query(
        TableName=table_name(), KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": {"S": partition}}
    )
    return [from_attributes(item) for item in response["Items"]]


def test_orders_live_in_a_partition_of_their_own_beside_an_id_guard(api: LocalApi, customer: tuple[int, Headers]) -> None:
    user_id, headers = customer
    (mug,) = make_products(5)
    placed = order(api, headers, (mug.id, 1)).json()
    assert [(item["SK"], item["id"]) for item in table_items(f"ORDERS#{user_id}")] == [
        (f"ORDER#{placed['id']:016d}", placed["id"])
    ]
    assert [item["SK"] for item in table_items(f"USER#{user_id}")] == ["PROFILE"]
    assert table_items(f"ORDER#{placed['id']}") == [{"PK": f"ORDER#{placed['id']}", "SK": "ORDER", "user": user_id}]


def test_placing_an_order_checks_the_account_again_in_its_transaction_without_another_call(
    api: LocalApi, customer: tuple[int, Headers], offers_cache_warm: None, dynamodb_calls: Any
) -> None:
    """The account check before routing, then the transaction's own ConditionCheck (a
    deactivation between the two still writes nothing)."""
    user_id, headers = customer
    (mug,) = make_products(5)
    dynamodb_calls.clear()
    assert order(api, headers, (mug.id, 1)).status == 201
    assert dynamodb_calls.operations == [ACCOUNT_CHECK, "BatchGetItem", "TransactWriteItems"]
    check = dynamodb_calls.calls[2].params["TransactItems"][0]["ConditionCheck"]
    assert check["Key"] == {"PK": {"S": f"USER#{user_id}"}, "SK": {"S": "PROFILE"}}


def assert_refused_for_the_account(response: Any) -> None:
    assert response.status == 401
    assert response.json() == {"detail": "User not found or inactive.", "code": "user_inactive"}
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_deactivated_account_cannot_order_with_a_valid_access_token_and_nothing_is_written(
    api: LocalApi, new_user: Any
) -> None:
    from shopctl.accounts import set_active

    user_id, username, password = new_user()
    tokens = api.request("POST", "/api/auth", json_body={"username": username, "password": password}).json()
    headers = {"Authorization": f"Bearer {tokens['access']}"}
    (mug,) = make_products(5)
    set_active(username, False)
    assert_refused_for_the_account(order(api, headers, (mug.id, 1)))
    assert stock_of(mug.id) == [5]
    assert table_items(f"ORDERS#{user_id}") == []
    assert_refused_for_the_account(my_orders(api, headers))  # reads too, at once
    set_active(username, True)
    # Reactivated, but the tokens issued before the deactivation stay revoked.
    assert order(api, headers, (mug.id, 1)).json()["code"] == "token_not_valid"
    tokens = api.request("POST", "/api/auth", json_body={"username": username, "password": password}).json()
    assert order(api, {"Authorization": f"Bearer {tokens['access']}"}, (mug.id, 1)).status == 201


def test_a_deleted_account_cannot_order(api: LocalApi, new_user: Any) -> None:
    from shopctl.accounts import delete_account

    user_id, username, password = new_user()
    tokens = api.request("POST", "/api/auth", json_body={"username": username, "password": password}).json()
    (mug,) = make_products(5)
    delete_account(username, delete_orders=False)
    assert_refused_for_the_account(order(api, {"Authorization": f"Bearer {tokens['access']}"}, (mug.id, 1)))
    assert stock_of(mug.id) == [5]
    assert table_items(f"ORDERS#{user_id}") == []


def test_a_well_signed_token_for_an_account_that_never_existed_cannot_order(api: LocalApi) -> None:
    (mug,) = make_products(5)
    assert_refused_for_the_account(order(api, {"Authorization": f"Bearer {_access_token(user_id=424_242)}"}, (mug.id, 1)))
    assert stock_of(mug.id) == [5]


def test_the_account_check_wins_over_a_stock_failure_in_the_same_transaction(
    api: LocalApi, new_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both conditions fail: the answer is the 401, not a 400 about stock. The account is
    deactivated after the check before routing, while the order reads its basket."""
    from shopctl.accounts import set_active

    _, username, password = new_user()
    tokens = api.request("POST", "/api/auth", json_body={"username": username, "password": password}).json()
    (short,) = make_products(2)

    def deactivated_meanwhile(product: Any) -> int:
        set_active(username, False)
        return 100

    read_stale_stock(monkeypatch, deactivated_meanwhile)
    assert_refused_for_the_account(order(api, {"Authorization": f"Bearer {tokens['access']}"}, (short.id, 5)))
    assert stock_of(short.id) == [2]


def test_stock_back_by_the_time_the_failure_is_examined_is_retried_not_reported(
    api: LocalApi, customer: tuple[int, Headers], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The transaction's condition failed, but the re-read finds enough stock (restocked
    meanwhile): the order is retried, and persistent flapping ends as a 409, never a wrong 400."""
    from orders import priced_basket
    from orders import store as orders_store

    _, headers = customer
    (contested,) = make_products(5)
    read_stale_stock(monkeypatch, lambda product: 100)
    stale_read = vars(priced_basket)["read_basket"]
    monkeypatch.setattr(orders_store, "read_basket", stale_read)  # the failure's read: stale too
    response = order(api, headers, (contested.id, 6))
    assert response.status == 409
    assert stock_of(contested.id) == [5]
