"""Orders carry their prices: the quote is the order, `expected_total` guards what the client
showed, a price changed meanwhile is never charged unseen, and offers are counted exactly once
per order (and given back by a cancellation)."""

import json
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ACCOUNT_CHECK, fresh_handler
from shop_common import settings as shop_settings
from shop_common.catalog import add_products
from shop_common.catalog_writes import read_product, update_product
from shop_common.dynamo import client, from_attributes, to_attributes
from shop_common.models import NewProduct, Product
from shop_common.offer_store import customer_use_key, forget_active_offers, offer_key
from shoplocal.gateway.invoke import LocalApi

Headers = dict[str, str]
STARTED = (datetime.now(UTC) - timedelta(days=1)).isoformat().replace("+00:00", "Z")


def make_products(*prices: str, stock: int = 100) -> list[Product]:
    return add_products([NewProduct(name=f"Item {n}", price=Decimal(p), quantity=stock) for n, p in enumerate(prices)])


def body(*parts: tuple[int, int], **extra: Any) -> dict[str, Any]:
    return {"parts": [{"product": product, "quantity_in_order": quantity} for product, quantity in parts], **extra}


def stock_of(product: Product) -> int:
    found = read_product(product.id)
    assert found is not None
    return found.quantity


def stored(key: dict[str, str]) -> dict[str, Any]:
    response = client().get_item(TableName=shop_settings.table_name(), Key=to_attributes(key), ConsistentRead=True)
    return from_attributes(response.get("Item", {}))


PRICED = ("parts", "subtotal", "discount_total", "total", "currency", "offers")


@pytest.fixture
def customer(signed_in: Any) -> Headers:
    _, headers = signed_in()
    result: Headers = headers
    return result


@pytest.fixture
def staff(signed_in: Any) -> Headers:
    _, headers = signed_in(is_staff=True)
    result: Headers = headers
    return result


def create_offer(api: LocalApi, staff: Headers, offer: dict[str, Any]) -> int:
    response = api.request("POST", "/api/offers", json_body={"starts_at": STARTED, **offer}, headers=staff)
    assert response.status == 201, response.body
    offer_id: int = response.json()["id"]
    return offer_id


def test_a_hint_names_a_product_not_in_the_basket_by_its_name_at_the_cost_of_one_read(
    api: LocalApi, customer: Headers, staff: Headers, offers_cache_warm: None, dynamodb_calls: Any
) -> None:
    shirt, socks = make_products("20.00", "3.00")
    offer = {"kind": "buy_x_get_y", "name": "Shirt and socks", "buy_products": [shirt.id], "buy_quantity": 1}
    create_offer(api, staff, offer | {"get_products": [socks.id], "get_quantity": 1, "get_percent": "50"})
    dynamodb_calls.clear()
    hinted = api.request("POST", "/api/order/quote", json_body=body((shirt.id, 1)), headers=customer).json()
    assert [hint["message"] for hint in hinted["hints"]] == [f"Add 1 {socks.name} to get 1 at 50 % off (Shirt and socks)."]
    assert dynamodb_calls.operations.count("BatchGetItem") == 2  # the basket, then the hinted product's name
    dynamodb_calls.clear()
    assert api.request("POST", "/api/order/quote", json_body=body((shirt.id, 1), (socks.id, 1)), headers=customer).status == 200
    assert dynamodb_calls.operations.count("BatchGetItem") == 1


def test_a_buy_one_get_one_offer_from_creation_to_order(api: LocalApi, customer: Headers, staff: Headers) -> None:
    mug, tea = make_products("4.00", "2.50")
    bogo = {"kind": "buy_x_get_y", "name": "Mugs: buy 1, get 1 free", "buy_products": [mug.id], "buy_quantity": 1}
    bogo |= {"get_products": [mug.id], "get_quantity": 1}
    offer_id = create_offer(api, staff, bogo)
    # One mug: the quote says what one more would do, and adds nothing by itself.
    hinted = api.request("POST", "/api/order/quote", json_body=body((mug.id, 1), (tea.id, 1)), headers=customer).json()
    assert hinted["total"] == 6.5
    assert hinted["offers"] == []
    assert [(hint["offer"], hint["product"], hint["add_quantity"]) for hint in hinted["hints"]] == [(offer_id, mug.id, 1)]
    assert hinted["hints"][0]["message"] == f"Add 1 more {mug.name} to get 1 free (Mugs: buy 1, get 1 free)."
    # Two mugs: one is free.
    quote = api.request("POST", "/api/order/quote", json_body=body((mug.id, 2), (tea.id, 1)), headers=customer).json()
    assert quote["parts"][0] | {"product_name": ""} == {
        "product": mug.id,
        "quantity_in_order": 2,
        "product_name": "",
        "unit_price": 4.0,
        "line_total": 8.0,
        "discount": 4.0,
    }
    assert (quote["subtotal"], quote["discount_total"], quote["total"], quote["currency"]) == (10.5, 4.0, 6.5, "USD")
    assert quote["offers"] == [{"id": offer_id, "name": "Mugs: buy 1, get 1 free", "amount": 4.0}]
    placed = api.request("POST", "/api/order", json_body=body((mug.id, 2), (tea.id, 1), expected_total="6.50"), headers=customer)
    assert placed.status == 201, placed.body
    assert {name: placed.json()[name] for name in PRICED} == {name: quote[name] for name in PRICED}
    assert api.request("GET", f"/api/orders/{placed.json()['id']}", headers=customer).json() == placed.json()


def test_a_quote_writes_nothing_and_costs_one_read(
    api: LocalApi, customer: Headers, offers_cache_warm: None, dynamodb_calls: Any
) -> None:
    (mug,) = make_products("3.00", stock=5)
    dynamodb_calls.clear()
    response = api.request("POST", "/api/order/quote", json_body=body((mug.id, 5)), headers=customer)
    assert response.status == 200
    assert response.json()["total"] == 15.0
    assert dynamodb_calls.operations == [ACCOUNT_CHECK, "BatchGetItem"]
    assert stock_of(mug) == 5
    assert api.request("GET", "/api/my-orders", headers=customer).json() == []
    short = api.request("POST", "/api/order/quote", json_body=body((mug.id, 6)), headers=customer)
    assert short.status == 400
    assert short.json()["code"] == "insufficient_stock"


def test_an_expected_total_that_is_not_the_total_is_a_409_with_the_fresh_quote(api: LocalApi, customer: Headers) -> None:
    (mug,) = make_products("3.00", stock=5)
    response = api.request("POST", "/api/order", json_body=body((mug.id, 2), expected_total="5.00"), headers=customer)
    assert response.status == 409
    answer = response.json()
    assert answer["code"] == "price_changed"
    assert answer["errors"] == [{"field": "expected_total", "message": "The total is now 6.00."}]
    assert answer["quote"]["total"] == 6.0
    assert stock_of(mug) == 5
    assert api.request("GET", "/api/my-orders", headers=customer).json() == []


@pytest.mark.parametrize("expected_total", ["6", "6.0", " 6.00 ", 6, 6.0])
def test_an_expected_total_is_a_json_number_or_a_decimal_string(api: LocalApi, customer: Headers, expected_total: Any) -> None:
    (mug,) = make_products("3.00", stock=5)
    response = api.request("POST", "/api/order", json_body=body((mug.id, 2), expected_total=expected_total), headers=customer)
    assert response.status == 201, response.body
    assert response.json()["total"] == 6.0
    assert stock_of(mug) == 3


@pytest.mark.parametrize("expected_total", ["6.000", "-6.00", "six", "6e0", ".5", True, [6], 6.001, -6])
def test_an_expected_total_that_is_not_money_is_a_400(api: LocalApi, customer: Headers, expected_total: Any) -> None:
    (mug,) = make_products("3.00", stock=5)
    response = api.request("POST", "/api/order", json_body=body((mug.id, 2), expected_total=expected_total), headers=customer)
    assert response.status == 400
    assert response.json()["errors"][0]["field"] == "expected_total"
    assert stock_of(mug) == 5


def _price_changes_after_the_read(monkeypatch: pytest.MonkeyPatch, product: Product, new_price: str) -> None:
    """Between the order's read and its transaction, staff change the product's price once."""
    from orders import priced_basket
    from orders.store import read_basket as read

    def read_then_reprice(product_ids: Any, extra: Any, *, consistent: bool) -> Any:
        basket = read(product_ids, extra, consistent=consistent)
        monkeypatch.setattr(priced_basket, "read_basket", read)
        current = read_product(product.id)
        assert current is not None
        update_product(current, current.model_copy(update={"price": Decimal(new_price)}))
        return basket

    monkeypatch.setattr(priced_basket, "read_basket", read_then_reprice)


def test_a_price_changed_after_the_read_is_charged_only_as_priced_again(
    api: LocalApi, customer: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    (mug,) = make_products("3.00", stock=5)
    _price_changes_after_the_read(monkeypatch, mug, "3.50")
    response = api.request("POST", "/api/order", json_body=body((mug.id, 2)), headers=customer)
    assert response.status == 201
    assert (response.json()["parts"][0]["unit_price"], response.json()["total"]) == (3.5, 7.0)
    assert stock_of(mug) == 3


def test_a_price_changed_after_the_read_refuses_an_order_that_expected_the_old_total(
    api: LocalApi, customer: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    (mug,) = make_products("3.00", stock=5)
    _price_changes_after_the_read(monkeypatch, mug, "3.50")
    response = api.request("POST", "/api/order", json_body=body((mug.id, 2), expected_total="6.00"), headers=customer)
    assert response.status == 409
    assert response.json()["quote"]["total"] == 7.0
    assert stock_of(mug) == 5


def test_an_order_with_offers_is_one_read_round_and_one_transaction(
    api: LocalApi, customer: Headers, staff: Headers, offers_cache_warm: None, dynamodb_calls: Any
) -> None:
    from shop_common.offer_store import active_offers

    mug, tea = make_products("4.00", "3.00")
    limited = {"kind": "percent_off", "name": "Loyal", "percent": "10", "max_uses_per_customer": 2, "max_uses": 50}
    loyal = create_offer(api, staff, {**limited, "products": [mug.id], "stacks": True})
    bogo = {"kind": "buy_x_get_y", "name": "Tea 1+1", "buy_products": [tea.id], "buy_quantity": 1, "get_products": [tea.id]}
    create_offer(api, staff, {**bogo, "get_quantity": 1, "stacks": True})
    forget_active_offers()
    active_offers(datetime.now(UTC))  # the container's cache, as a warm container has it
    dynamodb_calls.clear()
    response = api.request("POST", "/api/order", json_body=body((mug.id, 1), (tea.id, 2)), headers=customer)
    assert response.status == 201, response.body
    assert response.json()["total"] == 6.6  # 4.00 - 10 %, and one tea free
    # The products and the customer's uses of the limited offer in one read; the offer's
    # counters in the order's own transaction.
    assert dynamodb_calls.operations == [ACCOUNT_CHECK, "BatchGetItem", "TransactWriteItems"]
    keys = dynamodb_calls.calls[1].params["RequestItems"][shop_settings.table_name()]["Keys"]
    assert {key["PK"]["S"] for key in keys} == {f"PRODUCT#{mug.id}", f"PRODUCT#{tea.id}", f"OFFER#{loyal}"}
    writes = dynamodb_calls.calls[2].params["TransactItems"]
    counted = [
        w["Update"]["Key"]["PK"]["S"] for w in writes if "Update" in w and w["Update"]["Key"]["PK"]["S"].startswith("OFFER#")
    ]
    assert counted == [f"OFFER#{loyal}", f"OFFER#{loyal}"]  # times_used and the customer's uses; the unlimited one: nothing


def test_an_offer_limited_to_n_uses_is_applied_to_n_orders_of_many_at_once(api: LocalApi, signed_in: Any, staff: Headers) -> None:
    (mug,) = make_products("10.00", stock=1000)
    offer_id = create_offer(api, staff, {"kind": "percent_off", "name": "First three", "percent": "50", "max_uses": 3})
    customers = [signed_in()[1] for _ in range(12)]
    apis = [LocalApi({"OrdersFunction": fresh_handler("OrdersFunction")}) for _ in customers]
    start = threading.Barrier(len(apis))
    answers: list[Any] = [None] * len(apis)

    def send(index: int) -> None:
        start.wait()
        answers[index] = apis[index].request("POST", "/api/order", json_body=body((mug.id, 1)), headers=customers[index])

    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(apis))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Counter(answer.status for answer in answers) == {201: 12}
    totals = Counter(answer.json()["total"] for answer in answers)
    assert totals == {5.0: 3, 10.0: 9}
    assert stored(offer_key(offer_id))["times_used"] == 3
    assert stock_of(mug) == 1000 - 12


def test_a_cancelled_order_gives_back_its_uses_of_limited_offers(api: LocalApi, signed_in: Any, staff: Headers) -> None:
    user_id, customer = signed_in()
    (mug,) = make_products("10.00")
    offer_id = create_offer(
        api, staff, {"kind": "percent_off", "name": "Once each", "percent": "20", "max_uses": 10, "max_uses_per_customer": 1}
    )
    first = api.request("POST", "/api/order", json_body=body((mug.id, 1)), headers=customer).json()
    assert first["total"] == 8.0
    second = api.request("POST", "/api/order", json_body=body((mug.id, 1)), headers=customer).json()
    assert second["total"] == 10.0  # used once already
    assert (stored(offer_key(offer_id))["times_used"], stored(customer_use_key(offer_id, user_id))["uses"]) == (1, 1)
    assert api.request("POST", f"/api/orders/{first['id']}/cancel", headers=customer).status == 200
    assert (stored(offer_key(offer_id))["times_used"], stored(customer_use_key(offer_id, user_id))["uses"]) == (0, 0)
    third = api.request("POST", "/api/order", json_body=body((mug.id, 1)), headers=customer).json()
    assert third["total"] == 8.0


def test_an_order_placed_before_prices_shows_null_prices(api: LocalApi, signed_in: Any) -> None:
    user_id, customer = signed_in()
    legacy = {"PK": f"ORDERS#{user_id}", "SK": f"ORDER#{7:016d}", "id": 7, "user": user_id, "created": "2025-01-01T00:00:00Z"}
    legacy["parts"] = [{"product": 1, "quantity_in_order": 2, "product_name": "Mug"}]
    client().put_item(TableName=shop_settings.table_name(), Item=to_attributes(legacy))
    (shown,) = api.request("GET", "/api/my-orders", headers=customer).json()
    assert shown["parts"] == [
        {"product": 1, "quantity_in_order": 2, "product_name": "Mug", "unit_price": None, "line_total": None, "discount": None}
    ]
    assert (shown["status"], shown["subtotal"], shown["total"], shown["currency"], shown["offers"]) == (
        "placed",
        None,
        None,
        None,
        [],
    )


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    prices=st.lists(st.integers(min_value=1, max_value=5_000), min_size=1, max_size=4),
    quantities=st.lists(st.integers(min_value=1, max_value=4), min_size=4, max_size=4),
    percent=st.integers(min_value=1, max_value=100),
    buy=st.integers(min_value=1, max_value=3),
)
def test_the_quote_equals_the_order(
    api: LocalApi, customer: Headers, staff: Headers, prices: list[int], quantities: list[int], percent: int, buy: int
) -> None:
    products = make_products(*(str(Decimal(cents) / 100) for cents in prices))
    ids = [product.id for product in products]
    create_offer(
        api, staff, {"kind": "percent_off", "name": "Some off", "percent": str(percent), "products": ids[:1], "stacks": True}
    )
    bxgy = {"kind": "buy_x_get_y", "name": "Buy, get", "buy_products": ids, "buy_quantity": buy, "get_products": ids}
    create_offer(api, staff, {**bxgy, "get_quantity": 1, "stacks": True})
    basket = body(*zip(ids, quantities, strict=False))
    quote = api.request("POST", "/api/order/quote", json_body=basket, headers=customer).json()
    placed = api.request("POST", "/api/order", json_body={**basket, "expected_total": quote["total"]}, headers=customer)
    assert placed.status == 201, placed.body
    assert {name: placed.json()[name] for name in PRICED} == {name: quote[name] for name in PRICED}
    exact = json.loads(placed.body, parse_float=Decimal)  # the amounts as written, not as floats
    assert sum(line["line_total"] - line["discount"] for line in exact["parts"]) == exact["total"]
    for offer in api.request("GET", "/api/offers", query_string="all=true", headers=staff).json():
        assert api.request("DELETE", f"/api/offers/{offer['id']}", headers=staff).status == 204
