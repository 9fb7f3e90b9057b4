"""`Idempotency-Key` on POST /api/order and on a cancel: a repeat answers the first response and
changes nothing, whatever the timing; another request under the same key is a 422."""

import json
import threading
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from conftest import ACCOUNT_CHECK, fresh_handler
from shop_common.catalog import add_products, get_products
from shop_common.models import NewProduct, Product
from shoplocal.gateway.invoke import LocalApi

Headers = dict[str, str]


def make_product(stock: int) -> Product:
    (product,) = add_products([NewProduct(name="Mug", price=Decimal("2.50"), quantity=stock)])
    return product


def stock_of(product: Product) -> int:
    return get_products([product.id])[product.id].quantity


def order_body(*parts: tuple[int, int]) -> dict[str, Any]:
    return {"parts": [{"product": product, "quantity_in_order": quantity} for product, quantity in parts]}


def post_raw(api: LocalApi, path: str, body: str, headers: Headers) -> Any:
    return api.request("POST", path, body=body, headers={**headers, "Content-Type": "application/json"})


def test_a_repeated_key_answers_the_first_order_and_orders_nothing_more(api: LocalApi, signed_in: Any) -> None:
    _, customer = signed_in()
    mug = make_product(10)
    keyed = {**customer, "Idempotency-Key": "order-7f1c"}
    first = api.request("POST", "/api/order", json_body=order_body((mug.id, 2)), headers=keyed)
    assert first.status == 201
    assert "idempotent-replayed" not in first.headers
    # The same request, written differently: other whitespace, other key order.
    rewritten = '{ "parts" : [ {"quantity_in_order": 2, "product": ' + str(mug.id) + "} ] }"
    again = post_raw(api, "/api/order", rewritten, keyed)
    assert again.status == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert stock_of(mug) == 8
    assert len(api.request("GET", "/api/my-orders", headers=customer).json()) == 1


def test_a_replay_is_the_first_response_byte_for_byte(api: LocalApi, signed_in: Any) -> None:
    """Not only the same JSON: the same text, keys in the same order (clients that sign, hash or
    cache a response compare bytes)."""
    _, customer = signed_in()
    mug = make_product(10)
    for path, key in (("/api/order", "order-bytes"), (None, "cancel-bytes")):
        keyed = {**customer, "Idempotency-Key": key}
        if path is None:
            placed = api.request("POST", "/api/order", json_body=order_body((mug.id, 1)), headers=customer).json()
            path, body = f"/api/orders/{placed['id']}/cancel", None
        else:
            body = order_body((mug.id, 2))
        first = api.request("POST", path, json_body=body, headers=keyed)
        again = api.request("POST", path, json_body=body, headers=keyed)
        assert again.headers["idempotent-replayed"] == "true"
        assert list(json.loads(first.body)) != sorted(json.loads(first.body)), "keys would come back sorted"
        assert again.body == first.body, path


def test_the_same_key_with_another_body_is_a_422_and_changes_nothing(api: LocalApi, signed_in: Any) -> None:
    _, customer = signed_in()
    mug = make_product(10)
    keyed = {**customer, "Idempotency-Key": "k-1"}
    assert api.request("POST", "/api/order", json_body=order_body((mug.id, 2)), headers=keyed).status == 201
    other = api.request("POST", "/api/order", json_body=order_body((mug.id, 3)), headers=keyed)
    assert other.status == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert stock_of(mug) == 8


def test_keys_are_scoped_to_the_user(api: LocalApi, signed_in: Any) -> None:
    _, alice = signed_in()
    _, bob = signed_in()
    mug = make_product(10)
    for customer in (alice, bob):
        response = api.request(
            "POST", "/api/order", json_body=order_body((mug.id, 1)), headers={**customer, "Idempotency-Key": "same"}
        )
        assert response.status == 201
        assert "idempotent-replayed" not in response.headers
    assert stock_of(mug) == 8


def test_a_refused_order_leaves_the_key_free_for_the_fixed_request(api: LocalApi, signed_in: Any) -> None:
    _, customer = signed_in()
    mug = make_product(2)
    keyed = {**customer, "Idempotency-Key": "retry-me"}
    assert api.request("POST", "/api/order", json_body=order_body((mug.id, 5)), headers=keyed).status == 400
    fixed = api.request("POST", "/api/order", json_body=order_body((mug.id, 2)), headers=keyed)
    assert fixed.status == 201  # not a 422: a refused request leaves no record behind
    assert "idempotent-replayed" not in fixed.headers
    assert stock_of(mug) == 0


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", "tab\there"])
def test_a_key_that_cannot_be_a_key_is_a_400(api: LocalApi, signed_in: Any, key: str) -> None:
    _, customer = signed_in()
    mug = make_product(5)
    headers = {**customer, "Idempotency-Key": key}
    response = api.request("POST", "/api/order", json_body=order_body((mug.id, 1)), headers=headers)
    assert response.status == 400, response.body
    assert response.json()["errors"][0]["field"].lower() == "idempotency-key"
    assert stock_of(mug) == 5


def test_twenty_identical_requests_at_once_place_one_order(api: LocalApi, signed_in: Any) -> None:
    _, customer = signed_in()
    mug = make_product(100)
    headers = {**customer, "Idempotency-Key": "burst", "Content-Type": "application/json"}
    body = json.dumps(order_body((mug.id, 3)))
    apis = [LocalApi({"OrdersFunction": fresh_handler("OrdersFunction")}) for _ in range(20)]
    start = threading.Barrier(len(apis))
    answers: list[Any] = [None] * len(apis)

    def send(index: int) -> None:
        start.wait()
        answers[index] = apis[index].request("POST", "/api/order", body=body, headers=headers)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(apis))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = Counter(answer.status for answer in answers)
    # One places the order; each other one either replays it or is told it is still in progress.
    assert set(statuses) <= {201, 409}
    created = [answer for answer in answers if answer.status == 201]
    assert len([answer for answer in created if "idempotent-replayed" not in answer.headers]) == 1
    assert len({answer.json()["id"] for answer in created}) == 1
    assert all(answer.json()["code"] == "request_in_progress" for answer in answers if answer.status == 409)
    assert stock_of(mug) == 97
    after = api.request("POST", "/api/order", body=body, headers=headers)
    assert after.headers["idempotent-replayed"] == "true"
    assert len(api.request("GET", "/api/my-orders", headers=customer).json()) == 1


def test_a_repeated_cancel_replays_and_another_order_under_its_key_is_a_422(api: LocalApi, signed_in: Any) -> None:
    _, customer = signed_in()
    mug = make_product(10)
    first_id = api.request("POST", "/api/order", json_body=order_body((mug.id, 2)), headers=customer).json()["id"]
    second_id = api.request("POST", "/api/order", json_body=order_body((mug.id, 2)), headers=customer).json()["id"]
    keyed = {**customer, "Idempotency-Key": "cancel-1"}
    cancelled = api.request("POST", f"/api/orders/{first_id}/cancel", headers=keyed)
    assert cancelled.status == 200
    replay = api.request("POST", f"/api/orders/{first_id}/cancel", headers=keyed)
    assert replay.status == 200
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == cancelled.json()
    assert api.request("POST", f"/api/orders/{second_id}/cancel", headers=keyed).status == 422
    assert stock_of(mug) == 8  # one order's 2 units back, once


def test_keyed_order_costs_two_calls_more_and_a_replay_one_call(
    api: LocalApi, signed_in: Any, offers_cache_warm: None, dynamodb_calls: Any
) -> None:
    _, customer = signed_in()
    mug = make_product(10)
    keyed = {**customer, "Idempotency-Key": "count-me"}
    dynamodb_calls.clear()
    api.request("POST", "/api/order", json_body=order_body((mug.id, 1)), headers=keyed)
    assert dynamodb_calls.operations == [ACCOUNT_CHECK, "PutItem", "BatchGetItem", "TransactWriteItems", "UpdateItem"]
    dynamodb_calls.clear()
    api.request("POST", "/api/order", json_body=order_body((mug.id, 1)), headers=keyed)
    # refused by its condition, the first answer returned with it
    assert dynamodb_calls.operations == [ACCOUNT_CHECK, "PutItem"]
