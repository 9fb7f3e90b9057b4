"""The staff catalogue API: POST /api/products, PATCH and DELETE /api/products/{product_id},
POST /api/products/{product_id}/stock. Permissions, success, bad input (4xx, nothing changed),
counts and listing kept exact, SKU uniqueness, and stock changes atomic with orders."""

import threading
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from conftest import fresh_handler
from products.catalog_reads import catalog_stats
from shop_common import settings
from shop_common.catalog import add_products, get_products, remove_product
from shop_common.catalog_writes import products_by_sku, read_product
from shop_common.dynamo import client
from shop_common.models import NewProduct, Product
from shoplocal.gateway.invoke import LocalApi

Headers = dict[str, str]


def table_items() -> list[dict[str, Any]]:
    """Every item of the test table (a Scan: test code only), to show a request changed nothing."""
    items: list[dict[str, Any]] = []
    query: dict[str, Any] = {"TableName": settings.table_name()}
    while True:
        page = client().scan(**query)
        items += page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return sorted(items, key=lambda item: (item["PK"]["S"], item["SK"]["S"]))
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def listing(api: LocalApi) -> dict[str, Any]:
    response = api.request("GET", "/api/products", query_string="limit=100")
    assert response.status == 200, response.body
    body: dict[str, Any] = response.json()
    return body


def make_products(*stocks: int, sku: str | None = None) -> list[Product]:
    return add_products([NewProduct(name=f"Item {n}", price=Decimal("2.50"), quantity=s, sku=sku) for n, s in enumerate(stocks)])


@pytest.fixture
def staff(signed_in: Any) -> Headers:
    _, headers = signed_in(is_staff=True)
    result: Headers = headers
    return result


@pytest.fixture
def customer(signed_in: Any) -> Headers:
    _, headers = signed_in()
    result: Headers = headers
    return result


NEW = {"name": "Teapot", "description": "Holds a litre.", "price": "24.50", "quantity": 3}


# --- permissions ------------------------------------------------------------------------------


def every_endpoint(product_id: int) -> list[tuple[str, str, Any]]:
    return [
        ("POST", "/api/products", NEW),
        ("PATCH", f"/api/products/{product_id}", {"name": "Renamed"}),
        ("DELETE", f"/api/products/{product_id}", None),
        ("POST", f"/api/products/{product_id}/stock", {"delta": 1}),
    ]


def test_anonymous_requests_are_401_whatever_the_body_and_cost_no_call(api: LocalApi, dynamodb_calls: Any) -> None:
    (product,) = make_products(5)
    before = table_items()
    dynamodb_calls.clear()
    for method, path, body in [*every_endpoint(product.id), ("POST", "/api/products", {"nonsense": True})]:
        response = api.request(method, path, json_body=body)
        assert response.status == 401, (method, path, response.body)
        assert response.json()["detail"]
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert dynamodb_calls.calls == []
    assert table_items() == before


def test_customers_are_403_whatever_the_body_after_one_getitem(api: LocalApi, customer: Headers, dynamodb_calls: Any) -> None:
    (product,) = make_products(5)
    before = table_items()
    for method, path, body in [*every_endpoint(product.id), ("PATCH", f"/api/products/{product.id}", {"id": 7})]:
        dynamodb_calls.clear()
        response = api.request(method, path, json_body=body, headers=customer)
        assert response.status == 403, (method, path, response.body)
        assert response.json() == {"detail": "You do not have permission to perform this action.", "code": "permission_denied"}
        assert dynamodb_calls.operations == ["GetItem"]
    assert table_items() == before


def test_a_deactivated_staff_account_is_401_with_a_valid_token(api: LocalApi, new_user: Any) -> None:
    from shopctl.accounts import set_active

    _, username, password = new_user(is_staff=True)
    tokens = api.request("POST", "/api/auth", json_body={"username": username, "password": password}).json()
    headers = {"Authorization": f"Bearer {tokens['access']}"}
    assert api.request("POST", "/api/products", json_body=NEW, headers=headers).status == 201
    set_active(username, False)
    response = api.request("POST", "/api/products", json_body=NEW, headers=headers)
    assert response.status == 401
    assert response.json()["code"] == "user_inactive"
    assert catalog_stats().product_count == 1


# --- POST /api/products -----------------------------------------------------------------------


def test_staff_add_a_product_and_the_listing_counts_it(api: LocalApi, staff: Headers, dynamodb_calls: Any) -> None:
    make_products(1, 2)
    dynamodb_calls.clear()
    response = api.request("POST", "/api/products", json_body={**NEW, "sku": "TEA-1"}, headers=staff)
    assert response.status == 201, response.body
    body = response.json()
    assert body == {
        "id": 3,
        "name": "Teapot",
        "description": "Holds a litre.",
        "price": 24.5,
        "quantity": 3,
        "sku": "TEA-1",
        "images": [],
    }
    # The staff check, the id, then the product with its SKU claim and counters in one transaction.
    assert dynamodb_calls.operations == ["GetItem", "UpdateItem", "TransactWriteItems"]
    page = listing(api)
    assert page["count"] == 3
    assert [product["id"] for product in page["results"]] == [1, 2, 3]
    assert products_by_sku(["TEA-1"])["TEA-1"].id == 3


def test_a_product_without_description_or_sku_gets_their_defaults(api: LocalApi, staff: Headers) -> None:
    response = api.request("POST", "/api/products", json_body={"name": "Mug", "price": 3, "quantity": 0}, headers=staff)
    assert response.status == 201, response.body
    assert response.json() == {
        "id": 1,
        "name": "Mug",
        "description": "",
        "price": 3.0,
        "quantity": 0,
        "sku": None,
        "images": [],
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({k: v for k, v in NEW.items() if k != "name"}, "name"),
        ({**NEW, "name": "   "}, "name"),
        ({**NEW, "name": "x" * 256}, "name"),
        ({**NEW, "price": "-1.00"}, "price"),
        ({**NEW, "price": "1.005"}, "price"),
        ({**NEW, "price": "NaN"}, "price"),
        ({**NEW, "price": True}, "price"),
        ({**NEW, "quantity": -1}, "quantity"),
        ({**NEW, "quantity": "3"}, "quantity"),
        ({**NEW, "quantity": True}, "quantity"),
        ({**NEW, "quantity": 1.5}, "quantity"),
        ({**NEW, "quantity": 10**9 + 1}, "quantity"),
        ({**NEW, "sku": "has space"}, "sku"),
        ({**NEW, "description": "x" * 10_001}, "description"),
        ({**NEW, "id": 5}, "id"),
        ({**NEW, "price": 1.005}, "price"),
        ({**NEW, "price": " 1,5"}, "price"),
        ({**{k: v for k, v in NEW.items() if k != "quantity"}, "quantity_in_stock": 3}, "quantity_in_stock"),
    ],
)
def test_bad_new_products_are_400_naming_the_field_and_change_nothing(
    api: LocalApi, staff: Headers, body: dict[str, Any], field: str
) -> None:
    make_products(1)
    before = table_items()
    response = api.request("POST", "/api/products", json_body=body, headers=staff)
    assert response.status == 400, response.body
    assert response.json()["detail"]
    assert field in {problem["field"] for problem in response.json()["errors"]}
    assert table_items() == before


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("quantity", "3", "A valid integer is required."),
        ("quantity", True, "A valid integer is required."),
        ("price", True, "A valid number is required."),
        ("price", "1e2", 'A valid number is required (digits and a point, at most two places, such as "12.50").'),
    ],
)
def test_a_value_of_the_wrong_json_type_is_named_in_django_rest_frameworks_words(
    api: LocalApi, staff: Headers, field: str, value: Any, message: str
) -> None:
    """Not pydantic's "Value error, must be an integer"."""
    response = api.request("POST", "/api/products", json_body={**NEW, field: value}, headers=staff)
    assert response.json()["errors"] == [{"field": field, "message": message}]


def test_a_taken_sku_is_400_and_the_count_stays(api: LocalApi, staff: Headers) -> None:
    make_products(1, sku="TEA-1")
    response = api.request("POST", "/api/products", json_body={**NEW, "sku": "TEA-1"}, headers=staff)
    assert response.status == 400, response.body
    assert response.json()["errors"] == [{"field": "sku", "message": "A product with SKU 'TEA-1' already exists."}]
    assert listing(api)["count"] == 1
    assert catalog_stats().product_count == 1


# --- PATCH /api/products/{product_id} -----------------------------------------------------------


def test_staff_change_fields_and_the_listing_shows_them(api: LocalApi, staff: Headers, dynamodb_calls: Any) -> None:
    mug, _ = make_products(5, 6)
    dynamodb_calls.clear()
    response = api.request(
        "PATCH", f"/api/products/{mug.id}", json_body={"name": "Big mug", "price": 4.5, "description": "Huge."}, headers=staff
    )
    assert response.status == 200, response.body
    assert response.json() == {
        "id": mug.id,
        "name": "Big mug",
        "description": "Huge.",
        "price": 4.5,
        "quantity": 5,
        "sku": None,
        "images": [],
    }
    assert dynamodb_calls.operations == ["GetItem", "GetItem", "TransactWriteItems"]
    page = listing(api)
    assert page["count"] == 2
    assert page["results"][0] == {
        "id": mug.id,
        "name": "Big mug",
        "description": "Huge.",
        "price": 4.5,
        "quantity": 5,
        "sku": None,
        "images": [],
    }


def test_an_empty_change_writes_nothing(api: LocalApi, staff: Headers, dynamodb_calls: Any) -> None:
    (mug,) = make_products(5)
    before = table_items()
    dynamodb_calls.clear()
    response = api.request("PATCH", f"/api/products/{mug.id}", json_body={}, headers=staff)
    assert response.status == 200
    assert response.json()["name"] == mug.name
    assert dynamodb_calls.operations == ["GetItem", "GetItem"]
    assert table_items() == before


def test_a_new_sku_moves_the_claim_and_frees_the_old_one(api: LocalApi, staff: Headers) -> None:
    (mug,) = make_products(5, sku="MUG-1")
    response = api.request("PATCH", f"/api/products/{mug.id}", json_body={"sku": "MUG-2"}, headers=staff)
    assert response.status == 200, response.body
    assert set(products_by_sku(["MUG-1", "MUG-2"])) == {"MUG-2"}
    # The old SKU is free again: another product may take it.
    assert api.request("POST", "/api/products", json_body={**NEW, "sku": "MUG-1"}, headers=staff).status == 201
    removed = api.request("PATCH", f"/api/products/{mug.id}", json_body={"sku": None}, headers=staff)
    assert removed.json()["sku"] is None
    assert set(products_by_sku(["MUG-1", "MUG-2"])) == {"MUG-1"}


def test_a_sku_held_by_another_product_is_400_and_changes_nothing(api: LocalApi, staff: Headers) -> None:
    (mug,) = make_products(5, sku="MUG-1")
    (tea,) = make_products(5, sku="TEA-1")
    before = table_items()
    response = api.request("PATCH", f"/api/products/{tea.id}", json_body={"sku": "MUG-1", "name": "Renamed"}, headers=staff)
    assert response.status == 400, response.body
    assert response.json()["errors"][0]["field"] == "sku"
    assert table_items() == before
    assert products_by_sku(["MUG-1"])["MUG-1"].id == mug.id


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"id": 9}, "id"),
        ({"name": None}, "name"),
        ({"price": None}, "price"),
        ({"quantity": None}, "quantity"),
        ({"price": "abc"}, "price"),
        ({"quantity": -3}, "quantity"),
        ({"sku": ""}, "sku"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_changes_are_400_naming_the_field_and_change_nothing(
    api: LocalApi, staff: Headers, body: dict[str, Any], field: str
) -> None:
    (mug,) = make_products(5)
    before = table_items()
    response = api.request("PATCH", f"/api/products/{mug.id}", json_body=body, headers=staff)
    assert response.status == 400, response.body
    assert field in {problem["field"] for problem in response.json()["errors"]}
    assert table_items() == before


@pytest.mark.parametrize(
    ("method", "suffix", "body"), [("PATCH", "", {"name": "X"}), ("DELETE", "", None), ("POST", "/stock", {"delta": 1})]
)
def test_unknown_and_malformed_product_ids(api: LocalApi, staff: Headers, method: str, suffix: str, body: Any) -> None:
    make_products(5)
    before = table_items()
    unknown = api.request(method, f"/api/products/99{suffix}", json_body=body, headers=staff)
    assert unknown.status == 404, unknown.body
    assert unknown.json()["detail"] == "Not found."
    for bad_id in ("abc", "0", "-1", "1.5", str(2**53 + 1)):
        response = api.request(method, f"/api/products/{bad_id}{suffix}", json_body=body, headers=staff)
        assert response.status == 400, (bad_id, response.body)
        assert response.json()["errors"][0]["field"] == "product_id"
    assert table_items() == before


def test_a_change_racing_orders_is_read_again_and_keeps_their_decrements(
    api: LocalApi, staff: Headers, customer: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An order lands between the edit's read and its write: the write's condition fails, the
    edit reads again, and the order's decrement survives."""
    from catalog_admin import product_admin

    (mug,) = make_products(5)
    real_read = read_product
    reads: list[int] = []

    def read_then_an_order_lands(product_id: int) -> Product | None:
        product = real_read(product_id)
        if not reads:
            order = {"parts": [{"product": mug.id, "quantity_in_order": 2}]}
            assert api.request("POST", "/api/order", json_body=order, headers=customer).status == 201
        reads.append(product_id)
        return product

    monkeypatch.setattr(product_admin, "read_product", read_then_an_order_lands)
    response = api.request("PATCH", f"/api/products/{mug.id}", json_body={"price": "9.99"}, headers=staff)
    assert response.status == 200, response.body
    assert len(reads) == 2
    assert response.json()["quantity"] == 3
    assert get_products([mug.id])[mug.id].quantity == 3


def test_a_product_that_keeps_changing_is_a_409(api: LocalApi, staff: Headers, monkeypatch: pytest.MonkeyPatch) -> None:
    from catalog_admin import product_admin
    from shop_common.catalog_writes import CatalogChanged

    def always_changed(*_: Any) -> None:
        raise CatalogChanged("an order won")

    monkeypatch.setattr(product_admin, "update_product", always_changed)
    (mug,) = make_products(5)
    response = api.request("PATCH", f"/api/products/{mug.id}", json_body={"name": "X"}, headers=staff)
    assert response.status == 409
    assert response.json()["code"] == "conflict"


# --- DELETE /api/products/{product_id} ----------------------------------------------------------


def test_staff_delete_a_product_orders_keep_its_name_and_the_sku_is_free(
    api: LocalApi, staff: Headers, customer: Headers, dynamodb_calls: Any
) -> None:
    mug, tea = make_products(5, 6)
    api.request("PATCH", f"/api/products/{mug.id}", json_body={"sku": "MUG-1"}, headers=staff)
    order = {"parts": [{"product": mug.id, "quantity_in_order": 1}]}
    assert api.request("POST", "/api/order", json_body=order, headers=customer).status == 201
    dynamodb_calls.clear()
    response = api.request("DELETE", f"/api/products/{mug.id}", headers=staff)
    assert response.status == 204
    assert response.body == ""
    # Staff check, the product's SKU, the transaction, then the bucket counter if it emptied.
    assert dynamodb_calls.operations == ["GetItem", "GetItem", "TransactWriteItems", "DeleteItem"]
    page = listing(api)
    assert page["count"] == 1
    assert [product["id"] for product in page["results"]] == [tea.id]
    (placed,) = api.request("GET", "/api/my-orders", headers=customer).json()
    assert [(part["product"], part["product_name"]) for part in placed["parts"]] == [(mug.id, "Item 0")]
    assert products_by_sku(["MUG-1"]) == {}
    assert api.request("POST", "/api/products", json_body={**NEW, "sku": "MUG-1"}, headers=staff).status == 201
    assert api.request("DELETE", f"/api/products/{mug.id}", headers=staff).status == 404


def test_deleting_every_product_empties_the_listing(api: LocalApi, staff: Headers) -> None:
    products = make_products(1, 2, 3)
    for product in products:
        assert api.request("DELETE", f"/api/products/{product.id}", headers=staff).status == 204
    assert listing(api) == {"count": 0, "next": None, "previous": None, "results": []}
    assert catalog_stats().product_count == 0


# --- POST /api/products/{product_id}/stock -------------------------------------------------------


def test_staff_add_and_take_stock_with_one_update(api: LocalApi, staff: Headers, dynamodb_calls: Any) -> None:
    (mug,) = make_products(5)
    dynamodb_calls.clear()
    response = api.request("POST", f"/api/products/{mug.id}/stock", json_body={"delta": 7}, headers=staff)
    assert response.status == 200, response.body
    assert response.json() == {"id": mug.id, "quantity": 12}
    assert dynamodb_calls.operations == ["GetItem", "UpdateItem"]
    taken = api.request("POST", f"/api/products/{mug.id}/stock", json_body={"delta": -12}, headers=staff)
    assert taken.json() == {"id": mug.id, "quantity": 0}
    assert get_products([mug.id])[mug.id].quantity == 0


def test_taking_more_than_the_stock_is_409_and_changes_nothing(api: LocalApi, staff: Headers) -> None:
    (mug,) = make_products(5)
    before = table_items()
    response = api.request("POST", f"/api/products/{mug.id}/stock", json_body={"delta": -6}, headers=staff)
    assert response.status == 409, response.body
    body = response.json()
    assert body["code"] == "insufficient_stock"
    assert body["errors"] == [{"field": "delta", "message": "Cannot take 6 from a stock of 5.", "available": 5}]
    assert table_items() == before


def test_stock_beyond_the_ceiling_is_409(api: LocalApi, staff: Headers) -> None:
    (mug,) = make_products(10**9 - 1)
    assert api.request("POST", f"/api/products/{mug.id}/stock", json_body={"delta": 1}, headers=staff).status == 200
    response = api.request("POST", f"/api/products/{mug.id}/stock", json_body={"delta": 1}, headers=staff)
    assert response.status == 409
    assert get_products([mug.id])[mug.id].quantity == 10**9


def test_stock_of_a_removed_product_is_404(api: LocalApi, staff: Headers) -> None:
    (mug,) = make_products(5)
    remove_product(mug.id)
    before = table_items()
    response = api.request("POST", f"/api/products/{mug.id}/stock", json_body={"delta": 1}, headers=staff)
    assert response.status == 404
    assert table_items() == before  # the update's condition kept it from creating a product


@pytest.mark.parametrize(
    "body", [{}, {"delta": "5"}, {"delta": True}, {"delta": 1.5}, {"delta": 10**9 + 1}, {"delta": 1, "extra": 1}, [1]]
)
def test_bad_stock_changes_are_400_and_change_nothing(api: LocalApi, staff: Headers, body: Any) -> None:
    (mug,) = make_products(5)
    before = table_items()
    response = api.request("POST", f"/api/products/{mug.id}/stock", json_body=body, headers=staff)
    assert response.status == 400, response.body
    assert response.json()["errors"]
    assert table_items() == before


# --- restocks and orders at once ---------------------------------------------------------------


def test_concurrent_restocks_and_orders_lose_no_update(staff: Headers, customer: Headers) -> None:
    """12 restocks of +3 and 12 orders of 2 race on a product with 10: every restock counts,
    no order oversells, and the stock is exactly 10 + 36 - 2 x (orders placed)."""
    (product,) = make_products(10)
    threads_per_kind = 12
    requests: list[tuple[str, str, dict[str, Any], Headers]] = [
        ("CatalogAdminFunction", f"/api/products/{product.id}/stock", {"delta": 3}, staff)
    ] * threads_per_kind + [
        ("OrdersFunction", "/api/order", {"parts": [{"product": product.id, "quantity_in_order": 2}]}, customer)
    ] * threads_per_kind
    apis = [LocalApi({logical_id: fresh_handler(logical_id)}) for n, (logical_id, *_) in enumerate(requests)]
    start = threading.Barrier(len(requests))
    results: list[tuple[str, int]] = [("", 0)] * len(requests)

    def send(index: int) -> None:
        logical_id, path, body, headers = requests[index]
        start.wait()
        results[index] = (logical_id, apis[index].request("POST", path, json_body=body, headers=headers).status)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcomes = Counter(results)
    assert outcomes[("CatalogAdminFunction", 200)] == threads_per_kind
    placed = outcomes[("OrdersFunction", 201)]
    # An order not placed is refused for stock (400), or, when restocks keep refilling the stock
    # between its attempts, given up after its last attempt (409): nothing written either way.
    refused = outcomes[("OrdersFunction", 400)] + outcomes[("OrdersFunction", 409)]
    assert placed + refused == threads_per_kind
    stock = get_products([product.id])[product.id].quantity
    assert stock == 10 + 3 * threads_per_kind - 2 * placed
    assert stock >= 0


def test_taking_stock_while_orders_run_never_goes_below_zero(staff: Headers, customer: Headers) -> None:
    """Staff take 1 at a time while customers order 1 at a time from a stock of 10: exactly
    10 of the 24 requests succeed, whoever they are from, and the stock ends at 0."""
    (product,) = make_products(10)
    requests: list[tuple[str, str, dict[str, Any], Headers]] = [
        ("CatalogAdminFunction", f"/api/products/{product.id}/stock", {"delta": -1}, staff),
        ("OrdersFunction", "/api/order", {"parts": [{"product": product.id, "quantity_in_order": 1}]}, customer),
    ] * 12
    apis = [LocalApi({logical_id: fresh_handler(logical_id)}) for n, (logical_id, *_) in enumerate(requests)]
    start = threading.Barrier(len(requests))
    statuses: list[int] = [0] * len(requests)

    def send(index: int) -> None:
        _, path, body, headers = requests[index]
        start.wait()
        statuses[index] = apis[index].request("POST", path, json_body=body, headers=headers).status

    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    succeeded = sum(status in (200, 201) for status in statuses)
    assert succeeded == 10
    assert set(statuses) <= {200, 201, 400, 409}
    assert get_products([product.id])[product.id].quantity == 0


# --- transactions cancelled by concurrent writes are tried again -------------------------------


def conflicting_once(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The shared client's next transaction is cancelled as a concurrent order would cancel it
    (nothing written); later ones go through. Returns the list of transactions attempted."""
    from botocore.exceptions import ClientError

    dynamodb = client()
    real = dynamodb.transact_write_items
    attempts: list[int] = []

    def transact(**request: Any) -> Any:
        attempts.append(len(request["TransactItems"]))
        if len(attempts) == 1:
            reasons = [{"Code": "TransactionConflict"}] + [{"Code": "None"}] * (len(request["TransactItems"]) - 1)
            error = {"Error": {"Code": "TransactionCanceledException", "Message": "conflict"}, "CancellationReasons": reasons}
            raise ClientError(error, "TransactWriteItems")  # type: ignore[arg-type]
        return real(**request)

    monkeypatch.setattr(dynamodb, "transact_write_items", transact)
    return attempts


def test_an_add_cancelled_by_a_concurrent_write_is_tried_again(
    api: LocalApi, staff: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts = conflicting_once(monkeypatch)
    response = api.request("POST", "/api/products", json_body={**NEW, "sku": "TEA-1"}, headers=staff)
    assert response.status == 201, response.body
    assert len(attempts) == 2
    assert listing(api)["count"] == 1
    assert products_by_sku(["TEA-1"])["TEA-1"].id == response.json()["id"]


def test_a_delete_cancelled_by_a_concurrent_write_is_tried_again(
    api: LocalApi, staff: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    mug, _ = make_products(5, 6)
    attempts = conflicting_once(monkeypatch)
    assert api.request("DELETE", f"/api/products/{mug.id}", headers=staff).status == 204
    assert len(attempts) == 2
    assert listing(api)["count"] == 1


@pytest.mark.parametrize(("price", "shown"), [(0.1, 0.1), ("0.30", 0.3), (19.99, 19.99), (" 7 ", 7.0), (1e2, 100.0)])
def test_staff_prices_are_numbers_or_decimal_strings_kept_exactly(
    api: LocalApi, staff: Headers, price: Any, shown: float
) -> None:
    response = api.request("POST", "/api/products", json_body={**NEW, "price": price}, headers=staff)
    assert response.status == 201, response.body
    assert response.json()["price"] == shown
    assert listing(api)["results"][0]["price"] == shown
