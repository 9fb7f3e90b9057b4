"""Stock crossing 0 keeps the in-stock indexes exact (issue 10): an order that sells a product out
moves it from STOCK#IN/PRICE#IN to STOCK#OUT/PRICE#OUT (GSI3, GSI2) in its own transaction and
takes it off `in_stock_count`; a restock brings it back; a change that stays on one side of 0
touches no index key. The indexes are read here with boto3 directly, not through the code."""

from decimal import Decimal
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ACCOUNT_CHECK, TABLE_NAME
from orders import customer_orders
from orders.models import OrderRequest
from shop_common import stock
from shop_common.catalog import add_products
from shop_common.errors import InvalidRequest, ServiceBusy
from shop_common.models import NewProduct, Product
from shop_common.stock import StockAsRead, StockTooLow, adjust_stock
from shoplocal.gateway.invoke import LocalApi
from stock_state_oracle import assert_indexes_follow, in_stock_count

Headers = dict[str, str]


def make_products(*stocks: int) -> list[Product]:
    return add_products([NewProduct(name=f"Item {n}", price=Decimal("2.50") + n, quantity=s) for n, s in enumerate(stocks)])


def order(api: LocalApi, headers: Headers, *parts: tuple[int, int]) -> Any:
    body = {"parts": [{"product": product, "quantity_in_order": quantity} for product, quantity in parts]}
    return api.request("POST", "/api/order", json_body=body, headers=headers)


def restock(api: LocalApi, headers: Headers, product_id: int, delta: int) -> Any:
    return api.request("POST", f"/api/products/{product_id}/stock", json_body={"delta": delta}, headers=headers)


@pytest.fixture
def customer(signed_in: Any) -> Headers:
    headers: Headers = signed_in()[1]
    return headers


@pytest.fixture
def staff(signed_in: Any) -> Headers:
    headers: Headers = signed_in(is_staff=True)[1]
    return headers


def transaction_items(calls: Any) -> list[dict[str, Any]]:
    """The items of the last transaction among the calls."""
    items: list[dict[str, Any]] = [call for call in calls.calls if call.operation == "TransactWriteItems"][-1].params[
        "TransactItems"
    ]
    return items


def count_updates(items: list[dict[str, Any]]) -> list[int]:
    """The changes to `in_stock_count` a transaction makes."""
    return [
        int(item["Update"]["ExpressionAttributeValues"][":delta"]["N"])
        for item in items
        if "Update" in item and item["Update"]["Key"]["PK"]["S"] == "CATALOG"
    ]


# --- orders ------------------------------------------------------------------------------------


def test_an_order_selling_out_moves_the_product_out_of_stock_at_once(api: LocalApi, customer: Headers) -> None:
    mug, tea = make_products(3, 4)
    assert_indexes_follow({mug.id: 3, tea.id: 4}, others_in_stock=0)
    assert order(api, customer, (mug.id, 3)).status == 201
    assert_indexes_follow({mug.id: 0, tea.id: 4}, others_in_stock=0)


def test_an_order_leaving_stock_touches_no_index_key_nor_the_count(
    api: LocalApi, customer: Headers, offers_cache_warm: None, dynamodb_calls: Any
) -> None:
    (mug,) = make_products(3)
    dynamodb_calls.clear()
    assert order(api, customer, (mug.id, 2)).status == 201
    assert_indexes_follow({mug.id: 1}, others_in_stock=0)
    (update,) = [item["Update"] for item in transaction_items(dynamodb_calls) if "Update" in item]
    assert update["UpdateExpression"] == "SET quantity_in_stock = quantity_in_stock - :quantity"
    assert "GSI" not in update["UpdateExpression"]


def test_an_order_costs_one_read_and_one_transaction_with_one_count_update_for_all_sell_outs(
    api: LocalApi, customer: Headers, offers_cache_warm: None, dynamodb_calls: Any
) -> None:
    """Calls per order unchanged (the account check, 1 BatchGetItem + 1 TransactWriteItems): two sell-outs and a
    decrement are 1 check + 3 products + 1 count update + order + id guard = 7 items."""
    mug, tea, jam = make_products(2, 3, 10)
    dynamodb_calls.clear()
    assert order(api, customer, (mug.id, 2), (tea.id, 3), (jam.id, 1)).status == 201
    assert dynamodb_calls.operations == [ACCOUNT_CHECK, "BatchGetItem", "TransactWriteItems"]
    items = transaction_items(dynamodb_calls)
    assert len(items) == 7
    assert count_updates(items) == [-2]
    assert_indexes_follow({mug.id: 0, tea.id: 0, jam.id: 9}, others_in_stock=0)


def test_a_shortage_is_reported_as_before_and_changes_nothing(api: LocalApi, customer: Headers) -> None:
    mug, tea = make_products(2, 0)
    response = order(api, customer, (mug.id, 2), (tea.id, 1))
    assert response.status == 400
    assert response.json()["code"] == "insufficient_stock"
    assert_indexes_follow({mug.id: 2, tea.id: 0}, others_in_stock=0)


def _changing_stock_after_the_read(monkeypatch: pytest.MonkeyPatch, product_id: int, delta: int) -> None:
    """Between the order's advisory read and its transaction, staff change the stock once."""
    from orders import priced_basket
    from orders.store import read_basket as read

    def read_then_change(product_ids: Any, extra: Any, *, consistent: bool) -> Any:
        basket = read(product_ids, extra, consistent=consistent)
        monkeypatch.setattr(priced_basket, "read_basket", read)
        assert adjust_stock(product_id, delta, 10**9) is not None
        return basket

    monkeypatch.setattr(priced_basket, "read_basket", read_then_change)


def test_a_sell_out_chosen_from_a_stale_read_is_retried_as_a_decrement(
    api: LocalApi, customer: Headers, offers_cache_warm: None, dynamodb_calls: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read 3, order 3: a sell-out. Restocked to 5 before the write: its condition fails, the
    product is read again and the order goes through as a plain decrement."""
    (mug,) = make_products(3)
    _changing_stock_after_the_read(monkeypatch, mug.id, +2)
    dynamodb_calls.clear()
    assert order(api, customer, (mug.id, 3)).status == 201
    assert dynamodb_calls.operations == [
        ACCOUNT_CHECK,
        "BatchGetItem",
        "UpdateItem",
        "TransactWriteItems",
        "BatchGetItem",
        "TransactWriteItems",
    ]
    assert_indexes_follow({mug.id: 2}, others_in_stock=0)


def test_a_decrement_chosen_from_a_stale_read_is_retried_as_a_sell_out(
    api: LocalApi, customer: Headers, offers_cache_warm: None, dynamodb_calls: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read 5, order 3: a decrement. Taken down to 3 before the write: its condition (more
    than 3 left) fails, the product is read again and the order sells it out."""
    (mug,) = make_products(5)
    _changing_stock_after_the_read(monkeypatch, mug.id, -2)
    dynamodb_calls.clear()
    assert order(api, customer, (mug.id, 3)).status == 201
    assert dynamodb_calls.operations == [
        ACCOUNT_CHECK,
        "BatchGetItem",
        "UpdateItem",
        "TransactWriteItems",
        "BatchGetItem",
        "TransactWriteItems",
    ]
    assert count_updates(transaction_items(dynamodb_calls)) == [-1]
    assert_indexes_follow({mug.id: 0}, others_in_stock=0)


def _as_before_the_indexes(product_id: int) -> None:
    """Make a product look as a table written before the stock state indexes has it: no index
    keys, and not counted in `in_stock_count` (it was in stock)."""
    dynamodb = boto3.client("dynamodb")
    dynamodb.update_item(
        TableName=TABLE_NAME,
        Key={"PK": {"S": f"PRODUCT#{product_id}"}, "SK": {"S": "PRODUCT"}},
        UpdateExpression="REMOVE GSI2PK, GSI2SK, GSI3PK, GSI3SK",
    )
    dynamodb.update_item(
        TableName=TABLE_NAME,
        Key={"PK": {"S": "CATALOG"}, "SK": {"S": "META"}},
        UpdateExpression="ADD in_stock_count :minus",
        ExpressionAttributeValues={":minus": {"N": "-1"}},
    )


def _index_keys(product_id: int) -> set[str]:
    key = {"PK": {"S": f"PRODUCT#{product_id}"}, "SK": {"S": "PRODUCT"}}
    item = boto3.client("dynamodb").get_item(TableName=TABLE_NAME, Key=key)["Item"]
    return {name for name in item if name.startswith(("GSI2", "GSI3"))}


def test_a_product_not_yet_migrated_sells_out_comes_back_and_is_migrated_right(
    api: LocalApi, customer: Headers, staff: Headers, offers_cache_warm: None, dynamodb_calls: Any
) -> None:
    """Until `shopctl migrate` gives it its keys and counts it, an old product still sells out
    (the order's read sees it has no keys, so it sells it out without them) and comes back,
    and neither gives it keys nor changes the count: the migration then finds it as it was and
    counts it once."""
    from shopctl.migrations import migrate

    old, other = make_products(2, 1)
    _as_before_the_indexes(old.id)
    assert in_stock_count() == 1
    dynamodb_calls.clear()
    assert order(api, customer, (old.id, 2)).status == 201
    assert dynamodb_calls.operations == [ACCOUNT_CHECK, "BatchGetItem", "TransactWriteItems"]
    assert restock(api, staff, old.id, 4).json() == {"id": old.id, "quantity": 4}
    assert order(api, customer, (old.id, 1)).status == 201
    assert restock(api, staff, old.id, -3).json() == {"id": old.id, "quantity": 0}
    assert restock(api, staff, old.id, 3).json() == {"id": old.id, "quantity": 3}
    assert _index_keys(old.id) == set()
    assert in_stock_count() == 1
    migrate(lambda _: None)
    assert _index_keys(old.id) == {"GSI2PK", "GSI2SK", "GSI3PK", "GSI3SK"}
    assert_indexes_follow({old.id: 3, other.id: 1}, others_in_stock=0)
    assert order(api, customer, (old.id, 3)).status == 201
    assert_indexes_follow({old.id: 0, other.id: 1}, others_in_stock=0)


def test_the_read_explaining_a_failure_collects_throttled_keys_then_gives_up_busy(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from orders import store as orders_store
    from shop_common import dynamo
    from shop_common.dynamo import client

    mug, tea = make_products(2, 0)
    _as_before_the_indexes(tea.id)
    real_client: Any = client()
    calls: list[Any] = []

    class Throttled:
        """Serves one key per call; with `forever`, none."""

        def __init__(self, forever: bool) -> None:
            self.forever = forever

        def batch_get_item(self, RequestItems: Any) -> Any:
            calls.append(RequestItems)
            ((table, request),) = RequestItems.items()
            if self.forever:
                return {"Responses": {}, "UnprocessedKeys": RequestItems}
            first, *rest = request["Keys"]
            response: Any = real_client.batch_get_item(RequestItems={table: {**request, "Keys": [first]}})
            return {**response, "UnprocessedKeys": {table: {**request, "Keys": rest}} if rest else {}}

    monkeypatch.setattr(time, "sleep", lambda _: None)
    monkeypatch.setattr(dynamo, "client", lambda: Throttled(forever=False))
    products, _ = orders_store.read_basket([mug.id, tea.id], [], consistent=True)
    assert {product_id: product.stock for product_id, product in products.items()} == {
        mug.id: StockAsRead(2),
        tea.id: StockAsRead(0, indexed=False),
    }
    assert len(calls) == 2
    calls.clear()
    monkeypatch.setattr(dynamo, "client", lambda: Throttled(forever=True))
    with pytest.raises(ServiceBusy):
        orders_store.read_basket([mug.id], [], consistent=True)
    assert len(calls) == 8


# --- restocks ----------------------------------------------------------------------------------


def test_a_restock_brings_a_sold_out_product_back_in_one_transaction(
    api: LocalApi, customer: Headers, staff: Headers, offers_cache_warm: None, dynamodb_calls: Any
) -> None:
    mug, tea = make_products(2, 1)
    assert order(api, customer, (mug.id, 2)).status == 201
    assert_indexes_follow({mug.id: 0, tea.id: 1}, others_in_stock=0)
    dynamodb_calls.clear()
    assert restock(api, staff, mug.id, 5).json() == {"id": mug.id, "quantity": 5}
    # The staff check, the update that finds the product on the other side of 0, the crossing.
    assert dynamodb_calls.operations == ["GetItem", "UpdateItem", "TransactWriteItems"]
    assert count_updates(transaction_items(dynamodb_calls)) == [1]
    assert_indexes_follow({mug.id: 5, tea.id: 1}, others_in_stock=0)


def test_taking_the_last_units_away_sells_the_product_out(api: LocalApi, staff: Headers) -> None:
    (mug,) = make_products(4)
    assert restock(api, staff, mug.id, -4).json() == {"id": mug.id, "quantity": 0}
    assert_indexes_follow({mug.id: 0}, others_in_stock=0)


@pytest.mark.parametrize(("initial", "delta", "final"), [(5, 3, 8), (5, -4, 1), (1, 10**9 - 1, 10**9)])
def test_a_change_on_one_side_of_0_is_one_conditional_update(
    api: LocalApi, staff: Headers, dynamodb_calls: Any, initial: int, delta: int, final: int
) -> None:
    (mug,) = make_products(initial)
    dynamodb_calls.clear()
    assert restock(api, staff, mug.id, delta).json() == {"id": mug.id, "quantity": final}
    assert dynamodb_calls.operations == ["GetItem", "UpdateItem"]
    assert_indexes_follow({mug.id: final}, others_in_stock=0)


@pytest.mark.parametrize("initial", [0, 3])
def test_a_change_of_0_writes_nothing_and_answers_the_stock(
    api: LocalApi, staff: Headers, dynamodb_calls: Any, initial: int
) -> None:
    (mug,) = make_products(initial)
    dynamodb_calls.clear()
    assert restock(api, staff, mug.id, 0).json() == {"id": mug.id, "quantity": initial}
    assert dynamodb_calls.operations == ["GetItem", "GetItem"]
    assert_indexes_follow({mug.id: initial}, others_in_stock=0)


def test_a_change_of_an_unknown_product_is_none() -> None:
    for delta in (-1, 0, 1):
        assert adjust_stock(999, delta, 10**9) is None


@pytest.mark.parametrize(("initial", "delta"), [(0, -1), (3, -4), (10**9, 1), (0, 10**9 + 1)])
def test_a_change_out_of_bounds_is_refused_and_changes_nothing(initial: int, delta: int) -> None:
    (mug,) = make_products(initial)
    with pytest.raises(StockTooLow) as refused:
        adjust_stock(mug.id, delta, 10**9)
    assert refused.value.available == initial
    assert_indexes_follow({mug.id: initial}, others_in_stock=0)


def test_a_crossing_that_loses_a_race_is_tried_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """Staff take the last 2 while a restock of 3 lands between the read and the crossing: the
    crossing fails on its condition, the next attempt finds 5 and takes 2 without crossing."""
    (mug,) = make_products(2)
    crossing = stock.crossing_update

    def restocked_meanwhile(product_id: int, read: StockAsRead, new: int) -> Any:
        monkeypatch.setattr(stock, "crossing_update", crossing)
        assert adjust_stock(product_id, 3, 10**9) == 5
        return crossing(product_id, read, new)

    monkeypatch.setattr(stock, "crossing_update", restocked_meanwhile)
    assert adjust_stock(mug.id, -2, 10**9) == 3
    assert_indexes_follow({mug.id: 3}, others_in_stock=0)


def test_a_crossing_that_keeps_losing_is_busy_after_5_attempts_and_writes_nothing(
    api: LocalApi, staff: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    (mug,) = make_products(0)
    attempts: list[tuple[int, StockAsRead, int]] = []

    def always_lost(product_id: int, read: StockAsRead, new: int) -> bool:
        attempts.append((product_id, read, new))
        return False

    monkeypatch.setattr(stock, "_write_crossing", always_lost)
    response = restock(api, staff, mug.id, 2)
    assert response.status == 503
    assert attempts == [(mug.id, StockAsRead(0), 2)] * 5
    assert_indexes_follow({mug.id: 0}, others_in_stock=0)


# --- any sequence: the oracle ------------------------------------------------------------------

CEILING = 12  # small, so that sequences reach it too
PRODUCTS = 3

orders = st.lists(st.tuples(st.integers(0, PRODUCTS - 1), st.integers(1, 4)), min_size=1, max_size=3).map(lambda p: ("order", p))
stock_changes = st.tuples(st.integers(0, PRODUCTS - 1), st.integers(-6, 6)).map(lambda change: ("stock", change))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    initial=st.lists(st.integers(0, 4), min_size=PRODUCTS, max_size=PRODUCTS),
    steps=st.lists(st.one_of(orders, stock_changes), max_size=10),
)
def test_any_sequence_of_orders_and_stock_changes_keeps_indexes_and_count_exact(
    new_user: Any, initial: list[int], steps: list[tuple[str, Any]]
) -> None:
    user_id = new_user()[0]
    others_in_stock = in_stock_count()  # products of earlier examples, as they were left
    ids = [product.id for product in make_products(*initial)]
    stocks = dict(zip(ids, initial, strict=True))
    for kind, step in steps:
        if kind == "order":
            _order_step(user_id, stocks, [(ids[index], quantity) for index, quantity in step])
        else:
            _stock_step(stocks, ids[step[0]], step[1])
        assert_indexes_follow(stocks, others_in_stock)


def _order_step(user_id: int, stocks: dict[int, int], parts: list[tuple[int, int]]) -> None:
    wanted: dict[int, int] = {}
    for product_id, quantity in parts:
        wanted[product_id] = wanted.get(product_id, 0) + quantity
    request = OrderRequest.model_validate({"parts": [{"product": p, "quantity_in_order": q} for p, q in parts]})
    if all(stocks[product_id] >= quantity for product_id, quantity in wanted.items()):
        customer_orders.place_order(user_id, request)
        for product_id, quantity in wanted.items():
            stocks[product_id] -= quantity
    else:
        with pytest.raises(InvalidRequest):
            customer_orders.place_order(user_id, request)


def _stock_step(stocks: dict[int, int], product_id: int, delta: int) -> None:
    if 0 <= stocks[product_id] + delta <= CEILING:
        assert adjust_stock(product_id, delta, CEILING) == stocks[product_id] + delta
        stocks[product_id] += delta
    else:
        with pytest.raises(StockTooLow) as refused:
            adjust_stock(product_id, delta, CEILING)
        assert refused.value.available == stocks[product_id]
