"""Many simultaneous orders compete for a small stock: exactly the right number succeed.

Each thread has its own copy of the orders handler module, as each concurrent request in AWS
has its own Lambda container; they share one (atomic) moto DynamoDB, as containers share the
table.
"""

import threading
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from conftest import fresh_handler
from shop_common.catalog import add_products, get_products
from shop_common.models import NewProduct
from shoplocal.gateway.invoke import LocalApi
from stock_state_oracle import assert_indexes_follow, in_stock_count

THREADS = 24


def race(requests: list[dict[str, Any]], headers: dict[str, str]) -> list[int]:
    """Send every order body at once, each from its own 'container'; return the statuses."""
    apis = [LocalApi({"OrdersFunction": fresh_handler("OrdersFunction")}) for n in range(len(requests))]
    start = threading.Barrier(len(requests))
    statuses: list[int] = [0] * len(requests)

    def place(index: int) -> None:
        start.wait()
        statuses[index] = apis[index].request("POST", "/api/order", json_body=requests[index], headers=headers).status

    threads = [threading.Thread(target=place, args=(n,)) for n in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


@pytest.mark.parametrize(("stock", "quantity", "winners"), [(10, 1, 10), (10, 3, 3), (7, 7, 1)])
def test_concurrent_orders_never_oversell(api: LocalApi, signed_in: Any, stock: int, quantity: int, winners: int) -> None:
    _, headers = signed_in()
    (product,) = add_products([NewProduct(name="Limited", price=Decimal("5.00"), quantity=stock)])
    body = {"parts": [{"product": product.id, "quantity_in_order": quantity}]}
    statuses = race([body] * THREADS, headers)
    assert Counter(statuses) == {201: winners, 400: THREADS - winners}
    assert get_products([product.id])[product.id].quantity == stock - winners * quantity
    placed = api.request("GET", "/api/my-orders", headers=headers).json()
    assert len(placed) == winners


def test_concurrent_multi_product_orders_are_all_or_nothing(api: LocalApi, signed_in: Any) -> None:
    """Orders for A+B and for B+C race; B runs out. No order is half-applied."""
    _, headers = signed_in()
    a, b, c = add_products([NewProduct(name=n, price=Decimal("1.00"), quantity=s) for n, s in (("A", 50), ("B", 6), ("C", 50))])
    a_and_b = {"parts": [{"product": a.id, "quantity_in_order": 1}, {"product": b.id, "quantity_in_order": 1}]}
    b_and_c = {"parts": [{"product": b.id, "quantity_in_order": 1}, {"product": c.id, "quantity_in_order": 1}]}
    statuses = race([a_and_b, b_and_c] * (THREADS // 2), headers)
    assert Counter(statuses) == {201: 6, 400: THREADS - 6}
    placed = api.request("GET", "/api/my-orders", headers=headers).json()
    sold = Counter(part["product"] for placed_order in placed for part in placed_order["parts"])
    stock = get_products([a.id, b.id, c.id])
    assert stock[b.id].quantity == 0
    assert stock[a.id].quantity == 50 - sold[a.id]
    assert stock[c.id].quantity == 50 - sold[c.id]
    assert sold[a.id] + sold[c.id] == 6


def test_orders_racing_a_deactivation_are_each_all_or_nothing(api: LocalApi, new_user: Any) -> None:
    """Orders in flight while the account is deactivated: each is placed (before) or refused
    with a 401 (after), never half-written, and none is placed once deactivation returned."""
    from shopctl.accounts import order_count, set_active

    user_id, username, password = new_user()
    tokens = api.request("POST", "/api/auth", json_body={"username": username, "password": password}).json()
    headers = {"Authorization": f"Bearer {tokens['access']}"}
    (product,) = add_products([NewProduct(name="Popular", price=Decimal("5.00"), quantity=1000)])
    body = {"parts": [{"product": product.id, "quantity_in_order": 2}]}
    deactivation = threading.Thread(target=set_active, args=(username, False))
    deactivation.start()
    statuses = race([body] * THREADS, headers)
    deactivation.join()
    counts = Counter(statuses)
    assert set(counts) <= {201, 401}
    assert get_products([product.id])[product.id].quantity == 1000 - 2 * counts[201]
    assert order_count(user_id) == counts[201]
    assert api.request("POST", "/api/order", json_body=body, headers=headers).status == 401


def test_concurrent_orders_and_stock_changes_on_one_product_keep_stock_indexes_and_count_exact(new_user: Any) -> None:
    """12 orders of 1, 8 restocks of +1 and 4 take-aways of 1 race on a product with 1 in stock,
    so it sells out and comes back again and again: no update is lost (final stock = initial +
    changes that succeeded - orders placed), it never goes below 0, and the stock state indexes
    and the count in stock say what the final stock says. Called at the domain level (the
    order service, the stock change), which is what decides the writes."""
    from orders.customer_orders import place_order
    from orders.models import OrderRequest
    from shop_common.errors import Conflict, InvalidRequest, ServiceBusy
    from shop_common.stock import StockTooLow, adjust_stock

    user_id = new_user()[0]
    (product,) = add_products([NewProduct(name="Scarce", price=Decimal("5.00"), quantity=1)])
    others_in_stock = in_stock_count() - 1
    order_request = OrderRequest.model_validate({"parts": [{"product": product.id, "quantity_in_order": 1}]})
    changes = [0] * 12 + [1] * 8 + [-1] * 4  # 0: an order
    start = threading.Barrier(len(changes))
    outcomes: list[str] = [""] * len(changes)

    def run(index: int) -> None:
        start.wait()
        try:
            if changes[index]:
                adjust_stock(product.id, changes[index], 10**9)
            else:
                place_order(user_id, order_request)
            outcomes[index] = "done"
        except (InvalidRequest, StockTooLow):  # short of stock: nothing written
            outcomes[index] = "refused"
        except (Conflict, ServiceBusy):  # beaten 5 times by concurrent writes: nothing written
            outcomes[index] = "gave up"

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(changes))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert "" not in outcomes  # every call ended with a result or a refusal, none with a bug
    done = [change for change, outcome in zip(changes, outcomes, strict=True) if outcome == "done"]
    ordered = done.count(0)
    final = 1 + sum(done) - ordered
    assert final >= 0
    assert "refused" not in [outcome for change, outcome in zip(changes, outcomes, strict=True) if change > 0]
    assert_indexes_follow({product.id: final}, others_in_stock)
