"""An order after it is placed: its detail, its cancellation (stock back exactly once) and the
staff's list of all orders."""

import threading
from collections import Counter
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import ACCOUNT_CHECK, fresh_handler
from shop_common.catalog import add_products, get_products, remove_product
from shop_common.models import NewProduct, Product
from shoplocal.gateway.invoke import LocalApi

Headers = dict[str, str]


def make_products(*stocks: int) -> list[Product]:
    return add_products([NewProduct(name=f"Item {n}", price=Decimal("2.50"), quantity=s) for n, s in enumerate(stocks)])


def stock_of(*product_ids: int) -> list[int]:
    products = get_products(list(product_ids))
    return [products[product_id].quantity for product_id in product_ids]


def place(api: LocalApi, headers: Headers, *parts: tuple[int, int]) -> dict[str, Any]:
    body = {"parts": [{"product": product, "quantity_in_order": quantity} for product, quantity in parts]}
    response = api.request("POST", "/api/order", json_body=body, headers=headers)
    assert response.status == 201, response.body
    result: dict[str, Any] = response.json()
    return result


def cancel(api: LocalApi, headers: Headers, order_id: int) -> Any:
    return api.request("POST", f"/api/orders/{order_id}/cancel", headers=headers)


@pytest.fixture
def staff(signed_in: Any) -> Headers:
    _, headers = signed_in(is_staff=True)
    result: Headers = headers
    return result


# --- detail -----------------------------------------------------------------------------------


def test_the_owner_and_staff_see_an_order_and_nobody_else_does(api: LocalApi, signed_in: Any, staff: Headers) -> None:
    _, owner = signed_in()
    _, stranger = signed_in()
    (mug,) = make_products(5)
    placed = place(api, owner, (mug.id, 2))
    assert placed["status"] == "placed"
    assert api.request("GET", f"/api/orders/{placed['id']}", headers=owner).json() == placed
    assert api.request("GET", f"/api/orders/{placed['id']}", headers=staff).json() == placed
    for headers, order_id in ((stranger, placed["id"]), (owner, placed["id"] + 1)):
        response = api.request("GET", f"/api/orders/{order_id}", headers=headers)
        assert response.status == 404
        assert response.json()["errors"] == [{"field": "order_id", "message": f"No order with id {order_id}."}]
    assert api.request("GET", f"/api/orders/{placed['id']}").status == 401


@pytest.mark.parametrize("order_id", ["abc", "0", "-1", str(2**53), "1.5"])
def test_an_order_id_that_is_not_an_id_is_a_400_without_a_call_but_the_account_check(
    api: LocalApi, signed_in: Any, dynamodb_calls: Any, order_id: str
) -> None:
    _, headers = signed_in()
    dynamodb_calls.clear()
    response = api.request("GET", f"/api/orders/{order_id}", headers=headers)
    assert response.status == 400
    assert dynamodb_calls.operations == [ACCOUNT_CHECK]  # authentication comes first, as in DRF


def test_detail_costs_two_reads_after_the_account_check_for_the_owner_and_for_staff(
    api: LocalApi, signed_in: Any, staff: Headers, dynamodb_calls: Any
) -> None:
    _, owner = signed_in()
    (mug,) = make_products(5)
    placed = place(api, owner, (mug.id, 1))
    dynamodb_calls.clear()
    api.request("GET", f"/api/orders/{placed['id']}", headers=owner)
    assert dynamodb_calls.operations == [ACCOUNT_CHECK, "GetItem", "GetItem"]  # the id guard, the order
    dynamodb_calls.clear()
    api.request("GET", f"/api/orders/{placed['id']}", headers=staff)
    # The staff flag comes with the account check: no read more.
    assert dynamodb_calls.operations == [ACCOUNT_CHECK, "GetItem", "GetItem"]


# --- cancellation -----------------------------------------------------------------------------


def test_the_owner_cancels_and_the_stock_comes_back_once(api: LocalApi, signed_in: Any, dynamodb_calls: Any) -> None:
    _, owner = signed_in()
    mug, tea = make_products(5, 3)
    placed = place(api, owner, (mug.id, 2), (tea.id, 3))
    assert stock_of(mug.id, tea.id) == [3, 0]
    dynamodb_calls.clear()
    response = cancel(api, owner, placed["id"])
    assert response.status == 200, response.body
    assert response.json() == {**placed, "status": "cancelled"}
    # the account, the id guard, the order, the products' stock, then one transaction
    assert dynamodb_calls.operations == [ACCOUNT_CHECK, "GetItem", "GetItem", "BatchGetItem", "TransactWriteItems"]
    assert stock_of(mug.id, tea.id) == [5, 3]
    assert api.request("GET", "/api/my-orders", headers=owner).json()[0]["status"] == "cancelled"
    again = cancel(api, owner, placed["id"])
    assert again.status == 409
    assert again.json()["code"] == "already_cancelled"
    assert stock_of(mug.id, tea.id) == [5, 3]


def test_another_customer_cannot_cancel_and_nothing_changes(api: LocalApi, signed_in: Any) -> None:
    _, owner = signed_in()
    _, stranger = signed_in()
    (mug,) = make_products(5)
    placed = place(api, owner, (mug.id, 2))
    assert cancel(api, stranger, placed["id"]).status == 404
    assert cancel(api, owner, placed["id"] + 1).status == 404
    assert stock_of(mug.id) == [3]
    assert api.request("GET", f"/api/orders/{placed['id']}", headers=owner).json()["status"] == "placed"


def test_past_the_window_only_staff_can_cancel(
    api: LocalApi, signed_in: Any, staff: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, owner = signed_in()
    (mug,) = make_products(5)
    placed = place(api, owner, (mug.id, 2))
    monkeypatch.setenv("ORDER_CANCEL_WINDOW_MINUTES", "0")
    refused = cancel(api, owner, placed["id"])
    assert refused.status == 409
    assert refused.json()["code"] == "cancel_window_closed"
    assert stock_of(mug.id) == [3]
    assert cancel(api, staff, placed["id"]).status == 200
    assert stock_of(mug.id) == [5]


def test_a_deactivated_owner_cannot_cancel(api: LocalApi, signed_in: Any, staff: Headers) -> None:
    owner_id, owner = signed_in()
    (mug,) = make_products(5)
    placed = place(api, owner, (mug.id, 2))
    assert api.request("PATCH", f"/api/users/{owner_id}", json_body={"is_active": False}, headers=staff).status == 200
    response = cancel(api, owner, placed["id"])
    assert response.status == 401
    assert stock_of(mug.id) == [3]


def test_a_deleted_product_gets_nothing_back_and_the_others_do(api: LocalApi, signed_in: Any) -> None:
    _, owner = signed_in()
    mug, tea = make_products(5, 5)
    placed = place(api, owner, (mug.id, 2), (tea.id, 1))
    assert remove_product(tea.id)
    assert cancel(api, owner, placed["id"]).status == 200
    assert stock_of(mug.id) == [5]
    assert get_products([tea.id]) == {}  # not recreated by the stock's return


def test_a_cancel_that_would_pass_the_stock_ceiling_is_a_409_that_changes_nothing(
    api: LocalApi, signed_in: Any, staff: Headers
) -> None:
    """Stock at the ceiling, an order of 5, a restock of 5 (back at the ceiling), then the
    cancel: as a restock would, it stops at the ceiling instead of passing it."""
    from shop_common.stock import MAX_STOCK, adjust_stock

    _, owner = signed_in()
    (full,) = make_products(MAX_STOCK)
    placed = place(api, owner, (full.id, 5))
    assert adjust_stock(full.id, 5, MAX_STOCK) == MAX_STOCK
    response = cancel(api, owner, placed["id"])
    assert response.status == 409
    assert response.json()["code"] == "stock_ceiling"
    assert response.json()["errors"][0]["product"] == full.id
    assert stock_of(full.id) == [MAX_STOCK]
    order = api.request("GET", f"/api/orders/{placed['id']}", headers=owner).json()
    assert order["status"] == "placed"


def test_a_restock_racing_a_cancel_cannot_take_the_stock_past_the_ceiling(
    api: LocalApi, signed_in: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The restock lands between the cancel's read of the stock and its write: the write's
    condition sees it, the cancel reads again and refuses."""
    from orders import cancellation as orders_cancellation
    from shop_common.stock import MAX_STOCK, adjust_stock

    _, owner = signed_in()
    (full,) = make_products(MAX_STOCK)
    placed = place(api, owner, (full.id, 5))
    from orders.store import read_basket as real_read_basket

    restocked: list[int | None] = []

    def read_then_restock(*args: Any, **kwargs: Any) -> Any:
        basket = real_read_basket(*args, **kwargs)
        if not restocked:
            restocked.append(adjust_stock(full.id, 5, MAX_STOCK))
        return basket

    monkeypatch.setattr(orders_cancellation, "read_basket", read_then_restock)
    assert cancel(api, owner, placed["id"]).status == 409
    assert restocked == [MAX_STOCK]
    assert stock_of(full.id) == [MAX_STOCK]


def test_a_sold_out_product_comes_back_in_stock_with_its_index_and_count(api: LocalApi, signed_in: Any) -> None:
    from shop_common import settings
    from shop_common.catalog import CATALOG_PK, META_SK
    from shop_common.dynamo import client, from_attributes, to_attributes

    def in_stock_ids() -> set[int]:
        response = client().query(
            TableName=settings.table_name(),
            IndexName="GSI3",
            KeyConditionExpression="GSI3PK = :pk",
            ExpressionAttributeValues=to_attributes({":pk": "STOCK#IN"}),
        )
        return {int(item["GSI3SK"]["S"]) for item in response["Items"]}

    def in_stock_count() -> int:
        item = client().get_item(TableName=settings.table_name(), Key=to_attributes({"PK": CATALOG_PK, "SK": META_SK}))["Item"]
        return int(from_attributes(item).get("in_stock_count", 0))

    _, owner = signed_in()
    mug, tea = make_products(2, 9)
    placed = place(api, owner, (mug.id, 2), (tea.id, 1))
    count = in_stock_count()
    assert mug.id not in in_stock_ids()
    assert cancel(api, owner, placed["id"]).status == 200
    assert {mug.id, tea.id} <= in_stock_ids()
    assert in_stock_count() == count + 1


def race(calls: list[tuple[str, str, dict[str, Any]]]) -> list[int]:
    """Send every request at once, each from its own orders 'container'; return the statuses."""
    apis = [LocalApi({"OrdersFunction": fresh_handler("OrdersFunction")}) for _ in calls]
    start = threading.Barrier(len(calls))
    statuses = [0] * len(calls)

    def send(index: int) -> None:
        method, path, arguments = calls[index]
        start.wait()
        statuses[index] = apis[index].request(method, path, **arguments).status

    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_concurrent_cancels_give_the_stock_back_once(api: LocalApi, signed_in: Any, staff: Headers) -> None:
    _, owner = signed_in()
    (mug,) = make_products(10)
    placed = place(api, owner, (mug.id, 4))
    path = f"/api/orders/{placed['id']}/cancel"
    statuses = race([("POST", path, {"headers": owner if n % 2 else staff}) for n in range(12)])
    assert Counter(statuses) == {200: 1, 409: 11}
    assert stock_of(mug.id) == [10]


def test_cancels_racing_orders_on_the_same_stock_lose_nothing(api: LocalApi, signed_in: Any) -> None:
    _, owner = signed_in()
    (mug,) = make_products(12)
    cancelled = [place(api, owner, (mug.id, 2))["id"] for _ in range(3)]
    assert stock_of(mug.id) == [6]
    body = {"parts": [{"product": mug.id, "quantity_in_order": 1}]}
    calls = [("POST", f"/api/orders/{order_id}/cancel", {"headers": owner}) for order_id in cancelled]
    calls += [("POST", "/api/order", {"json_body": body, "headers": owner}) for _ in range(15)]
    statuses = race(calls)
    assert statuses[:3] == [200, 200, 200]
    placed = statuses[3:].count(201)
    assert set(statuses[3:]) <= {201, 400}
    # 6 left + 6 given back, minus what the racing orders took; never below 0, nothing lost.
    assert stock_of(mug.id) == [12 - placed]
    assert placed >= 6  # at least the 6 units on the shelf before the race were there to take


# --- staff list -------------------------------------------------------------------------------


def follow(api: LocalApi, headers: Headers, query: str) -> list[dict[str, Any]]:
    """Every order along the `Link: rel="next"` headers, from the first page."""
    orders: list[dict[str, Any]] = []
    while True:
        response = api.request("GET", "/api/orders", headers=headers, query_string=query)
        assert response.status == 200, response.body
        orders += response.json()
        link = response.headers.get("link")
        if not link:
            return orders
        url = link.split(";")[0].strip("<>")
        query = urlsplit(url).query
        assert "cursor" in parse_qs(query)


def test_staff_list_every_order_newest_first_filtered_by_user_and_status(api: LocalApi, signed_in: Any, staff: Headers) -> None:
    alice_id, alice = signed_in()
    bob_id, bob = signed_in()
    (mug,) = make_products(100)
    placed = {(place(api, customer, (mug.id, 1))["id"], user) for customer, user in ((alice, alice_id), (bob, bob_id)) * 5}
    ids = sorted((order_id for order_id, _ in placed), reverse=True)
    cancelled = set(ids[1::3])
    for order_id in cancelled:
        assert cancel(api, staff, order_id).status == 200
    everything = follow(api, staff, "limit=3")
    assert [order["id"] for order in everything] == ids
    assert [order["id"] for order in follow(api, staff, "limit=2&status=cancelled")] == [i for i in ids if i in cancelled]
    assert [order["id"] for order in follow(api, staff, "limit=4&status=placed")] == [i for i in ids if i not in cancelled]
    alices = [order_id for order_id in ids if (order_id, alice_id) in placed]
    assert [order["id"] for order in follow(api, staff, f"limit=2&user={alice_id}")] == alices
    alices_cancelled = [i for i in alices if i in cancelled]
    assert [o["id"] for o in follow(api, staff, f"limit=1&user={alice_id}&status=cancelled")] == alices_cancelled
    assert {order["status"] for order in everything if order["id"] in cancelled} == {"cancelled"}


def test_staff_list_calls_per_page(api: LocalApi, signed_in: Any, staff: Headers, dynamodb_calls: Any) -> None:
    user_id, customer = signed_in()
    (mug,) = make_products(10)
    place(api, customer, (mug.id, 1))
    expected = {
        "": ["GetItem"] + ["Query"] * 8,  # the staff flag, then 4 shards x 2 statuses
        "status=placed": ["GetItem"] + ["Query"] * 4,
        f"user={user_id}": ["GetItem", "Query"],
        f"user={user_id}&status=placed": ["GetItem", "Query", "BatchGetItem"],
    }
    for query, operations in expected.items():
        dynamodb_calls.clear()
        assert api.request("GET", "/api/orders", headers=staff, query_string=query).status == 200
        assert dynamodb_calls.operations == operations, query


@pytest.mark.parametrize("query", ["status=shipped", "user=0", "user=abc", "limit=0", "limit=101", "cursor=xyz"])
def test_staff_list_bad_input_is_a_400(api: LocalApi, staff: Headers, query: str) -> None:
    response = api.request("GET", "/api/orders", headers=staff, query_string=query)
    assert response.status == 400, response.body


def test_a_customer_may_not_list_all_orders(api: LocalApi, signed_in: Any) -> None:
    _, customer = signed_in()
    assert api.request("GET", "/api/orders", headers=customer).status == 403
    assert api.request("GET", "/api/orders").status == 401


@pytest.mark.parametrize("query", ["cursor=xyz", "cursor=%%%", "limit=0", "status=shipped", "user=abc"])
def test_a_customer_gets_403_on_the_staff_listing_whatever_the_query(api: LocalApi, signed_in: Any, query: str) -> None:
    """The role is checked before any parameter is parsed: a malformed one is no 400 for a customer."""
    _, customer = signed_in()
    response = api.request("GET", "/api/orders", headers=customer, query_string=query)
    assert response.status == 403, response.body
    assert api.request("GET", "/api/orders", query_string=query).status == 401


def test_cancelling_gives_a_product_not_yet_migrated_its_units_without_index_keys_or_count(api: LocalApi, signed_in: Any) -> None:
    """As an order does (shop_common.stock): until `shopctl migrate` indexes and counts it, an
    old product's stock changes alone, so the migration later counts it once."""
    from shop_common import settings
    from shop_common.dynamo import client, from_attributes, to_attributes

    _, owner = signed_in()
    (old,) = make_products(2)
    key = to_attributes({"PK": f"PRODUCT#{old.id}", "SK": "PRODUCT"})
    meta = to_attributes({"PK": "CATALOG", "SK": "META"})
    table = settings.table_name()
    client().update_item(TableName=table, Key=key, UpdateExpression="REMOVE GSI2PK, GSI2SK, GSI3PK, GSI3SK")
    client().update_item(
        TableName=table,
        Key=meta,
        UpdateExpression="ADD in_stock_count :minus",
        ExpressionAttributeValues=to_attributes({":minus": -1}),
    )
    placed = place(api, owner, (old.id, 2))  # sells it out
    assert cancel(api, owner, placed["id"]).status == 200
    item = from_attributes(client().get_item(TableName=table, Key=key)["Item"])
    assert item["quantity_in_stock"] == 2
    assert not {name for name in item if name.startswith(("GSI2", "GSI3"))}
    assert from_attributes(client().get_item(TableName=table, Key=meta)["Item"])["in_stock_count"] == 0
