"""Every request costs bounded DynamoDB work whatever its input (docs/data-model.md, "Worst
case per request"): hostile inputs to each endpoint, asserting the calls made and items read."""

from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import ACCOUNT_CHECK
from shop_common import catalog
from shop_common.catalog import add_products, remove_product
from shop_common.cursors import encode_cursor
from shop_common.models import NewProduct
from shoplocal.gateway.invoke import LocalApi

Headers = dict[str, str]
HUGE_ID = 10**16 - 1  # the largest id a cursor can hold


# The bounds in docs/data-model.md. Page 1 and a link: one Query of the index of every
# product (GSI4, keys only), then the page's products with the catalogue counters, one
# BatchGetItem per 100 keys (a page of 100 and the counters take two, a page of 1,000 eleven).
# A typed page: the counters Query, one Query of GSI4 from the offset's bucket, the products.
def batches(keys: int) -> int:
    return -(-keys // 100)


def link_calls(page_size: int) -> int:
    return 1 + batches(page_size + 1)


def typed_page_calls(page_size: int) -> int:
    return 2 + batches(page_size)


def add(count: int, stock: int = 1_000) -> None:
    add_products([NewProduct(name=f"P{n}", price=Decimal("1.00"), quantity=stock) for n in range(count)])


def listing(api: LocalApi, query: str) -> Any:
    return api.request("GET", "/api/products", query_string=query)


def query_of(url: str) -> str:
    return urlsplit(url).query


@pytest.fixture
def small_buckets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Buckets of 10 ids: runs of hundreds of empty buckets in a table of a few dozen items."""
    monkeypatch.setattr(catalog, "BUCKET_SIZE", 10)


@pytest.fixture
def sparse_catalogue(small_buckets: None) -> list[int]:
    """Ids 1-10, a run of 10,000 ids never used (1,000 empty buckets: as if their products were
    removed), 10,011-10,019, 10,020-10,029 removed (their bucket's counter is gone), 10,030-10,040."""
    add(10)
    catalog.allocate_ids(10_000)
    add(30)
    for product_id in range(10_020, 10_030):
        remove_product(product_id)
    return [*range(1, 11), *range(10_011, 10_020), *range(10_030, 10_041)]


NON_EMPTY_BUCKETS = 5  # of the sparse catalogue: 0, 1, 1001, 1003, 1004


def ids(response: Any) -> list[int]:
    assert response.status == 200, response.body
    return [product["id"] for product in response.json()["results"]]


# --- GET /api/products ------------------------------------------------------------------------


def assert_one_link(dynamodb_calls: Any, limit: int, page_size: int) -> None:
    """The calls of page 1 or a link: one Query of at most `limit` + 1 keys, then the page's
    products and the catalogue counters (1 BatchGetItem, 2 for a page of 100)."""
    query, *reads = dynamodb_calls.calls
    assert (query.operation, query.params["IndexName"]) == ("Query", "GSI4")
    assert query.items_read <= limit + 1
    assert [read.operation for read in reads] == ["BatchGetItem"] * batches(page_size + 1)
    assert sum(read.items_read for read in reads) == page_size + 1  # + CATALOG/META
    assert len(dynamodb_calls.calls) <= link_calls(page_size)


@pytest.mark.parametrize(
    ("query", "page_size"),
    [
        # Cursors naming their page, with ids anywhere.
        (f"page=3&limit=5&cursor={encode_cursor('b', HUGE_ID, 3, 5)}", 5),  # the last 5
        (f"page=3&limit=5&cursor={encode_cursor('b', 10**12, 3, 5)}", 5),  # 13 digits: no sort key comparison
        (f"page=2&limit=5&cursor={encode_cursor('a', 10, 2, 5)}", 5),  # into 1,000 empty buckets
        (f"page=3&limit=5&cursor={encode_cursor('b', 10_011, 3, 5)}", 5),  # down across them
        (f"page=3&limit=5&cursor={encode_cursor('b', 10_031, 3, 5)}", 5),  # down from a removed run
        (f"page=4&limit=5&cursor={encode_cursor('a', 10_019, 4, 5)}", 5),  # over a removed run
        (f"page=2&limit=99&cursor={encode_cursor('a', 0, 2, 99)}", 30),
        (f"page=2&limit=100&cursor={encode_cursor('a', 0, 2, 100)}", 30),
        ("limit=1000000000", 30),  # capped at 1,000
        ("limit=99", 30),
        ("", 30),
    ],
)
def test_page_one_and_every_link_cost_two_calls_wherever_the_cursor_points(
    api: LocalApi, dynamodb_calls: Any, sparse_catalogue: list[int], query: str, page_size: int
) -> None:
    limit = min(int(parse_qs(query).get("limit", ["50"])[0]), 1000)
    dynamodb_calls.clear()
    response = listing(api, query)
    assert len(ids(response)) == page_size
    assert response.json()["count"] == len(sparse_catalogue)
    assert_one_link(dynamodb_calls, limit, page_size)


@pytest.mark.parametrize(
    ("query", "operations"),
    [
        # Past every id: nothing to read after the index says so.
        (f"page=2&limit=5&cursor={encode_cursor('a', HUGE_ID, 2, 5)}", []),  # beyond 12 digits: no call
        (f"page=2&limit=5&cursor={encode_cursor('a', 10_040, 2, 5)}", ["Query"]),
        (f"page=2&limit=100&cursor={encode_cursor('b', 1, 2, 100)}", ["Query"]),
        # Huge pages and limits: the counters say the page is past the end.
        ("page=1000000000&limit=100", ["Query"]),
        ("page=4&limit=1000000000", ["Query"]),
    ],
)
def test_a_page_past_either_end_is_a_404_after_at_most_one_call(
    api: LocalApi, dynamodb_calls: Any, sparse_catalogue: list[int], query: str, operations: list[str]
) -> None:
    dynamodb_calls.clear()
    assert listing(api, query).status == 404
    assert dynamodb_calls.operations == operations
    assert dynamodb_calls.items_read <= 1 + NON_EMPTY_BUCKETS


@pytest.mark.parametrize(
    "query",
    [
        # Cursors issued before they named their page: the page number decides, as typed.
        "page=3&limit=5&cursor=YjEwMDAwMDA",  # b1000000, the reproducer of issue 8
        f"page=3&limit=5&cursor={encode_cursor('b', HUGE_ID)}",
        f"page=2&limit=5&cursor={encode_cursor('a', HUGE_ID)}",
        "page=3&limit=5",
        "page=2&limit=20",
    ],
)
def test_a_typed_page_costs_the_counters_the_keys_from_its_bucket_and_the_page(
    api: LocalApi, dynamodb_calls: Any, sparse_catalogue: list[int], query: str
) -> None:
    limit = int(parse_qs(query)["limit"][0])
    dynamodb_calls.clear()
    results = ids(listing(api, query))
    assert dynamodb_calls.operations == ["Query", "Query", "BatchGetItem"]
    # every non-empty bucket's counter and META; the keys before the offset in its bucket, the
    # page's and one more; the page's products
    assert dynamodb_calls.items_read <= 1 + NON_EMPTY_BUCKETS + (catalog.BUCKET_SIZE - 1 + limit + 1) + len(results)


def test_a_link_across_a_run_of_empty_buckets_reads_the_page_and_one_key_more(
    api: LocalApi, dynamodb_calls: Any, sparse_catalogue: list[int]
) -> None:
    dynamodb_calls.clear()
    response = listing(api, f"page=2&limit=5&cursor={encode_cursor('a', 10, 2, 5)}")
    assert ids(response) == sparse_catalogue[10:15]
    query, batch = dynamodb_calls.calls
    assert query.params["KeyConditionExpression"] == "GSI4PK = :all AND GSI4SK > :edge"
    assert (query.params["Limit"], query.items_read) == (6, 6)
    assert batch.items_read == 5 + 1  # the page and CATALOG/META


def test_a_previous_link_down_across_empty_buckets_reads_the_page(
    api: LocalApi, dynamodb_calls: Any, sparse_catalogue: list[int]
) -> None:
    dynamodb_calls.clear()
    response = listing(api, f"page=3&limit=5&cursor={encode_cursor('b', 10_013, 3, 5)}")
    assert ids(response) == [8, 9, 10, 10_011, 10_012]
    query, batch = dynamodb_calls.calls
    assert query.params["KeyConditionExpression"] == "GSI4PK = :all AND GSI4SK < :edge"
    assert (query.params["ScanIndexForward"], query.items_read, batch.items_read) == (False, 5, 5 + 1)


def test_a_counter_left_at_zero_is_stepped_over_by_a_typed_page(
    api: LocalApi, dynamodb_calls: Any, monkeypatch: pytest.MonkeyPatch, small_buckets: None
) -> None:
    add(30)
    monkeypatch.setattr(catalog, "_forget_bucket_if_empty", lambda bucket: None)  # an interrupted removal
    for product_id in range(10, 20):
        remove_product(product_id)
    dynamodb_calls.clear()
    assert ids(listing(api, "page=2&limit=9")) == list(range(20, 29))
    assert dynamodb_calls.operations == ["Query", "Query", "BatchGetItem"]  # the counters, GSI4 from bucket 2, the page
    # META, 4 counters (the zero one read and skipped), 9 keys and one more, the page
    assert dynamodb_calls.items_read == 1 + 4 + 10 + 9


def test_a_catalogue_thinned_to_one_product_per_bucket_costs_two_calls_a_link(
    api: LocalApi, dynamodb_calls: Any, small_buckets: None
) -> None:
    """Ids never used stand for deleted ones: each bucket of 10 ids holds one product, which
    cost one Query per product when links read the buckets."""
    catalog.allocate_ids(4)
    for _ in range(50):
        add(1)  # ids 5, 15, 25, ...
        catalog.allocate_ids(9)
    dynamodb_calls.clear()
    page = listing(api, "limit=20").json()
    assert [product["id"] for product in page["results"]] == list(range(5, 205, 10))
    assert_one_link(dynamodb_calls, 20, 20)
    seen = page["results"]
    while page["next"]:
        dynamodb_calls.clear()
        page = listing(api, query_of(page["next"])).json()
        assert_one_link(dynamodb_calls, 20, len(page["results"]))
        seen += page["results"]
    assert [product["id"] for product in seen] == list(range(5, 505, 10))
    dynamodb_calls.clear()
    listing(api, query_of(page["previous"]))
    assert_one_link(dynamodb_calls, 20, 20)


@pytest.mark.usefixtures("small_buckets")
def test_page_one_and_links_in_a_dense_catalogue_cost_two_calls(api: LocalApi, dynamodb_calls: Any) -> None:
    add(95)
    dynamodb_calls.clear()
    page = listing(api, "limit=8").json()
    assert_one_link(dynamodb_calls, 8, 8)
    for _ in range(6):
        dynamodb_calls.clear()
        page = listing(api, query_of(page["next"])).json()
        assert_one_link(dynamodb_calls, 8, 8)
    dynamodb_calls.clear()
    listing(api, query_of(page["previous"]))
    assert_one_link(dynamodb_calls, 8, 8)


def test_a_page_of_100_takes_one_batch_more_as_a_batch_holds_100_keys(api: LocalApi, dynamodb_calls: Any) -> None:
    add(150)
    dynamodb_calls.clear()
    page = listing(api, "limit=100").json()
    assert len(page["results"]) == 100
    _, *reads = dynamodb_calls.calls
    assert [len(next(iter(batch.params["RequestItems"].values()))["Keys"]) for batch in reads] == [100, 1]
    assert_one_link(dynamodb_calls, 100, 100)


def test_a_page_of_1000_costs_twelve_calls_however_it_is_reached(api: LocalApi, dynamodb_calls: Any) -> None:
    add(1_050)
    for query, calls in (("limit=1000", link_calls(1000)), ("page=2&limit=1000", typed_page_calls(50))):
        dynamodb_calls.clear()
        page = listing(api, query).json()
        assert len(dynamodb_calls.calls) == calls
        assert all(
            len(next(iter(c.params["RequestItems"].values()))["Keys"]) <= 100
            for c in dynamodb_calls.calls[1:]
            if c.operation == "BatchGetItem"
        )
    dynamodb_calls.clear()
    last = listing(api, "page=last&limit=1000").json()
    assert [p["id"] for p in last["results"]] == [p["id"] for p in page["results"]]
    assert len(dynamodb_calls.calls) == typed_page_calls(50)
    dynamodb_calls.clear()
    listing(api, "page=1&limit=1000")
    assert len(dynamodb_calls.calls) == link_calls(1000) == 12


@pytest.mark.usefixtures("small_buckets")
def test_a_typed_page_reads_the_counters_then_about_limit_items(api: LocalApi, dynamodb_calls: Any) -> None:
    add(95)
    dynamodb_calls.clear()
    assert ids(listing(api, "page=7&limit=8")) == list(range(49, 57))
    counters, *reads = dynamodb_calls.calls
    assert counters.operation == "Query"
    assert counters.params["ExpressionAttributeValues"][":pk"] == {"S": "CATALOG"}
    assert counters.items_read == 1 + 10  # META and one counter per bucket of 10 ids
    keys, products = reads
    assert (keys.params["IndexName"], keys.params["KeyConditionExpression"]) == ("GSI4", "GSI4PK = :all AND GSI4SK > :edge")
    assert keys.items_read == 9 + 8 + 1  # ids 40-48 skipped (the offset's bucket from its start), the page, one more
    assert (products.operation, products.items_read) == ("BatchGetItem", 8)


@pytest.mark.usefixtures("small_buckets")
def test_a_typed_page_in_a_bucket_with_gaps_reads_at_most_a_bucket_more(api: LocalApi, dynamodb_calls: Any) -> None:
    add(95)
    remove_product(41)
    dynamodb_calls.clear()
    assert ids(listing(api, "page=6&limit=8")) == list(range(42, 50))
    assert len(dynamodb_calls.calls) == typed_page_calls(8)
    assert dynamodb_calls.items_read <= 1 + 10 + (catalog.BUCKET_SIZE - 1 + 8 + 1) + 8


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "x" * 64,
        encode_cursor("o", 374554982346281),  # a my-orders cursor
        encode_cursor("a", 5, 2),  # two numbers: no cursor this API issued
        encode_cursor("a", 5, 2, 5, 1),
        encode_cursor("c", 5, 2, 5),
        encode_cursor("a", 5, 3, 5),  # a real cursor for another page
    ],
)
def test_a_cursor_that_is_not_this_pages_costs_nothing(api: LocalApi, dynamodb_calls: Any, cursor: str) -> None:
    add(20)
    dynamodb_calls.clear()
    assert listing(api, f"page=2&limit=5&cursor={cursor}").status == 400
    assert dynamodb_calls.calls == []


# --- POST /api/auth and POST /api/refresh -----------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"username": "nobody", "password": "x"},
        {"username": "alice", "password": "wrong"},
        {"username": "a" * 150, "password": "p" * 4096},
        {"username": "alice"},
        {"username": ["alice"], "password": {"x": 1}},
    ],
)
def test_sign_in_reads_at_most_the_login_item(api: LocalApi, dynamodb_calls: Any, new_user: Any, body: dict[str, Any]) -> None:
    new_user("alice")
    dynamodb_calls.clear()
    assert api.request("POST", "/api/auth", json_body=body).status in (400, 401)
    # the login item and the username's failure counter in one read; a failure counted
    assert dynamodb_calls.operations in ([], ["BatchGetItem", "UpdateItem"])
    assert dynamodb_calls.items_read <= 2


def test_refresh_is_one_read_and_a_bad_token_none(api: LocalApi, dynamodb_calls: Any, new_user: Any) -> None:
    _, username, password = new_user()
    tokens = api.request("POST", "/api/auth", json_body={"username": username, "password": password}).json()
    dynamodb_calls.clear()
    assert api.request("POST", "/api/refresh", json_body={"refresh": tokens["refresh"]}).status == 200
    # the account (and whether this token was revoked): one read of at most two items
    assert dynamodb_calls.operations in (["GetItem"], ["BatchGetItem"])
    assert dynamodb_calls.items_read <= 2
    for hostile, status in ((tokens["access"], 401), (tokens["refresh"][:-4] + "AAAA", 401), ("x" * 10_000, 400)):
        dynamodb_calls.clear()
        assert api.request("POST", "/api/refresh", json_body={"refresh": hostile}).status == status
        assert dynamodb_calls.calls == []


# --- POST /api/order and GET /api/my-orders ---------------------------------------------------


def place(api: LocalApi, headers: Headers, parts: list[tuple[int, int]]) -> Any:
    body = {"parts": [{"product": product, "quantity_in_order": quantity} for product, quantity in parts]}
    return api.request("POST", "/api/order", json_body=body, headers=headers)


def assert_one_read_and_one_transaction(dynamodb_calls: Any, distinct: int) -> None:
    account, read, write = dynamodb_calls.calls
    assert (account.operation, read.operation, write.operation) == (ACCOUNT_CHECK, "BatchGetItem", "TransactWriteItems")
    assert read.items_read == distinct
    # one item per product, the order, its id guard, the account check
    assert len(write.params["TransactItems"]) <= distinct + 3


@pytest.mark.parametrize(
    ("parts", "distinct"),
    [
        ([(1, 1)] * 200, 1),  # 200 parts of one product
        ([(n % 50 + 1, 1) for n in range(200)], 50),  # 200 parts over 50 products
        ([(n + 1, 1) for n in range(50)], 50),
    ],
)
def test_an_order_is_one_read_and_one_transaction(
    api: LocalApi, dynamodb_calls: Any, signed_in: Any, offers_cache_warm: None, parts: list[tuple[int, int]], distinct: int
) -> None:
    _, headers = signed_in()
    add(60)
    dynamodb_calls.clear()
    assert place(api, headers, parts).status == 201
    assert_one_read_and_one_transaction(dynamodb_calls, distinct)


@pytest.mark.parametrize(
    ("parts", "calls"),
    [
        ([(10**9 + n, 1) for n in range(50)], [ACCOUNT_CHECK, "BatchGetItem"]),  # 50 unknown products
        ([(1, 10**6)] * 200, [ACCOUNT_CHECK, "BatchGetItem"]),  # far more than the stock
        ([(n + 1, 1) for n in range(51)], [ACCOUNT_CHECK]),  # 51 distinct products: refused before the basket
        ([(n + 1, 1) for n in range(201)], [ACCOUNT_CHECK]),  # 201 parts
    ],
)
def test_a_refused_order_costs_one_read_at_most(
    api: LocalApi, dynamodb_calls: Any, signed_in: Any, offers_cache_warm: None, parts: list[tuple[int, int]], calls: list[str]
) -> None:
    _, headers = signed_in()
    add(60)
    dynamodb_calls.clear()
    assert place(api, headers, parts).status == 400
    assert dynamodb_calls.operations == calls
    assert dynamodb_calls.items_read <= 1 + 50


def test_an_anonymous_order_costs_nothing(api: LocalApi, dynamodb_calls: Any) -> None:
    dynamodb_calls.clear()
    assert place(api, {"Authorization": "Bearer forged"}, [(1, 1)] * 200).status == 401
    assert dynamodb_calls.calls == []


@pytest.mark.parametrize(
    ("query", "status", "calls"),
    [
        ("", 200, 1),
        ("limit=100", 200, 1),
        (f"limit=100&cursor={encode_cursor('o', HUGE_ID)}", 200, 1),
        (f"cursor={encode_cursor('o', 0)}", 200, 1),
        ("limit=1000000000", 400, 0),
        ("limit=0", 400, 0),
        (f"cursor={encode_cursor('a', 5, 2, 5)}", 400, 0),  # a products cursor
        ("cursor=" + "x" * 64, 400, 0),
    ],
)
def test_my_orders_is_one_query_of_at_most_limit_plus_one_items(
    api: LocalApi, dynamodb_calls: Any, signed_in: Any, query: str, status: int, calls: int
) -> None:
    _, headers = signed_in()
    add(3)
    for _ in range(3):
        assert place(api, headers, [(1, 1)]).status == 201
    dynamodb_calls.clear()
    response = api.request("GET", "/api/my-orders", headers=headers, query_string=query)
    assert response.status == status, response.body
    assert dynamodb_calls.operations == [ACCOUNT_CHECK] + ["Query"] * calls
    if calls:  # without `limit`: up to 1,000 orders (the Django app listed them all)
        assert dynamodb_calls.calls[1].params["Limit"] <= (101 if "limit=100" in query else 1001)
    assert dynamodb_calls.items_read <= 1 + 3


# --- the signed-in user's own account: /api/me, /api/me/password, /api/logout -----------------


def test_reading_my_profile_is_one_item(api: LocalApi, dynamodb_calls: Any, signed_in: Any) -> None:
    _, headers = signed_in()
    dynamodb_calls.clear()
    assert api.request("GET", "/api/me", headers=headers).status == 200
    assert dynamodb_calls.operations == [ACCOUNT_CHECK, "GetItem"]
    assert dynamodb_calls.items_read == 2
    dynamodb_calls.clear()
    assert api.request("GET", "/api/me", headers={"Authorization": "Bearer " + "x" * 5000}).status == 401
    assert dynamodb_calls.calls == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"first_name": "Ann", "email": "ann@example.com"}, 200),
        ({"email": "taken@example.com"}, 400),  # another user's email: the transaction says so
        ({"first_name": "x" * 1_000}, 400),
        ({"first_name": "x" * 100_000}, 413),
        ({"is_staff": True}, 400),
    ],
)
def test_editing_my_profile_is_a_read_and_a_transaction_per_attempt(
    api: LocalApi, dynamodb_calls: Any, signed_in: Any, body: dict[str, Any], status: int
) -> None:
    signed_in(email="taken@example.com")
    _, headers = signed_in()
    dynamodb_calls.clear()
    assert api.request("PATCH", "/api/me", json_body=body, headers=headers).status == status
    # at most 3 attempts of GetItem + TransactWriteItems when the profile keeps changing; 1 here
    assert dynamodb_calls.operations in ([ACCOUNT_CHECK], [ACCOUNT_CHECK, "GetItem", "TransactWriteItems"])
    assert dynamodb_calls.items_read <= 2


@pytest.mark.parametrize(("current", "status", "calls"), [("correct horse battery", 204, 3), ("wrong", 400, 2)])
def test_changing_my_password_is_two_reads_and_a_transaction(
    api: LocalApi, dynamodb_calls: Any, signed_in: Any, current: str, status: int, calls: int
) -> None:
    _, headers = signed_in()
    body = {"current_password": current, "new_password": "an entirely new passphrase 7"}
    dynamodb_calls.clear()
    assert api.request("POST", "/api/me/password", json_body=body, headers=headers).status == status
    assert dynamodb_calls.operations == [ACCOUNT_CHECK, "GetItem", "GetItem", "TransactWriteItems"][: 1 + calls]
    assert dynamodb_calls.items_read == 3


def test_signing_out_is_one_write_and_a_bad_token_nothing(api: LocalApi, dynamodb_calls: Any, new_user: Any) -> None:
    """The account's first logout creates its map of signed-out sign-ins (3 calls, 1 item read);
    every later one is one UpdateItem."""
    _, username, password = new_user()
    tokens = api.request("POST", "/api/auth", json_body={"username": username, "password": password}).json()
    dynamodb_calls.clear()
    assert api.request("POST", "/api/logout", json_body={"refresh": tokens["refresh"]}).status == 204
    assert dynamodb_calls.operations == ["UpdateItem", "GetItem", "UpdateItem"]
    assert dynamodb_calls.items_read == 1
    tokens = api.request("POST", "/api/auth", json_body={"username": username, "password": password}).json()
    dynamodb_calls.clear()
    assert api.request("POST", "/api/logout", json_body={"refresh": tokens["refresh"]}).status == 204
    assert dynamodb_calls.operations == ["UpdateItem"]
    assert dynamodb_calls.items_read == 0
    dynamodb_calls.clear()
    assert api.request("POST", "/api/logout", json_body={"refresh": tokens["access"]}).status == 401
    assert dynamodb_calls.calls == []


# --- filters, search, ordering, product by id (docs/data-model.md, "Filters, search and ordering") ---

# (query, calls as operations, most items read) for a page of 50; M: matches a window reads.
FILTERED_PATTERNS: list[tuple[str, list[str], int]] = [
    # in stock, id order: META (count), GSI3 (51 keys), the page's products
    ("in_stock=true", ["Query", "BatchGetItem", "GetItem"], 51 + 50 + 1),
    # by price, both stock partitions merged: 51 keys from each
    ("ordering=price", ["Query", "Query", "BatchGetItem", "GetItem"], 2 * 51 + 50 + 1),
    ("ordering=-price&in_stock=false", ["Query", "BatchGetItem", "GetItem"], 51 + 50 + 1),
    # a price range by price: the count is a Select=COUNT per partition (<= 10,001 keys each)
    ("min_price=10&max_price=10.50", ["Query", "Query", "BatchGetItem", "Query", "Query"], 2 * 51 + 50 + 2 * 10_001),
    # a price range in id order: the window of matches (<= 10,001 keys per partition)
    ("min_price=10&max_price=10.50&ordering=id", ["Query", "Query", "BatchGetItem"], 2 * 10_001 + 50),
    # search: the longest word's items (<= 1,001), the page's products
    ("search=choc", ["Query", "BatchGetItem"], 1_001 + 50),
    ("search=dark+chocolate&min_price=5&ordering=-price", ["Query", "BatchGetItem"], 1_001 + 50),
    # a typo: nothing found, its partition (<= 1 MB), up to 3 corrections, the page
    ("search=choclate", ["Query", "Query", "Query", "BatchGetItem"], 0 + 4_000 + 1_001 + 50),
]


def loaded_catalogue(size: int) -> None:
    from shoplocal.catalogue_fill import fill_catalogue, sample_products

    fill_catalogue(sample_products(size))


@pytest.mark.parametrize("size", [1_000, 3_000])
def test_filtered_pages_cost_a_few_calls_and_about_limit_items_at_two_sizes(
    api: LocalApi, dynamodb_calls: Any, size: int
) -> None:
    loaded_catalogue(size)
    for query, operations, most_items in FILTERED_PATTERNS:
        for number in range(3):  # page 1, then two next links: each costs what page 1 costs
            dynamodb_calls.clear()
            response = listing(api, query)
            assert response.status == 200, (query, response.body)
            assert dynamodb_calls.operations == operations, (query, number)
            assert dynamodb_calls.items_read <= most_items, (query, dynamodb_calls.items_read)
            if not response.json()["next"]:
                break
            query = query_of(response.json()["next"])
        assert "Scan" not in dynamodb_calls.operations


def test_in_stock_with_a_search_costs_one_batch_per_hundred_matches(api: LocalApi, dynamodb_calls: Any) -> None:
    loaded_catalogue(1_000)
    dynamodb_calls.clear()
    page = listing(api, "search=mug&in_stock=true").json()  # 50 mugs (one name in 20)
    assert page["count"] == sum(1 for n in range(1_000) if (n // 10) % 20 == 0 and n % 3)
    assert dynamodb_calls.operations == ["Query", "BatchGetItem", "BatchGetItem"]


@pytest.mark.parametrize(
    "query",
    [
        "in_stock=true&page=202&limit=50",  # beyond MAX_OFFSET keys: refused before any call
        "ordering=price&page=1000000000",
        "search=" + "+".join(["a"] * 10) + "&in_stock=true&page=1000000000",
    ],
)
def test_a_deep_typed_page_of_a_filtered_list_is_bounded(api: LocalApi, dynamodb_calls: Any, query: str) -> None:
    loaded_catalogue(300)
    dynamodb_calls.clear()
    response = listing(api, query)
    assert response.status in (400, 404)
    assert len(dynamodb_calls.calls) <= 2 + 10  # a window and its stock batches at most
    assert dynamodb_calls.items_read <= 1_001 + 300


def test_a_typed_page_of_an_index_order_reads_the_pages_before_it(api: LocalApi, dynamodb_calls: Any) -> None:
    loaded_catalogue(300)
    dynamodb_calls.clear()
    assert listing(api, "in_stock=true&page=3&limit=10").status == 200
    # the count first (a page past it is a 404 before any key), then the keys and the page
    assert dynamodb_calls.operations == ["GetItem", "Query", "BatchGetItem"]
    assert dynamodb_calls.items_read == 31 + 10 + 1


def test_a_product_by_id_is_one_get_item(api: LocalApi, dynamodb_calls: Any) -> None:
    loaded_catalogue(10)
    for product_id, status in ((5, 200), (11, 404), (2**53, 404)):
        dynamodb_calls.clear()
        assert api.request("GET", f"/api/products/{product_id}").status == status
        assert dynamodb_calls.operations == ["GetItem"]


@pytest.mark.parametrize(
    ("query", "tag", "position", "status"),
    [
        ("ordering=price", "f", (HUGE_ID, HUGE_ID), 404),  # after the largest position: nothing
        ("ordering=price", "g", (HUGE_ID, HUGE_ID), 200),  # before it: the last page
        ("ordering=-price", "f", (0, 0), 404),
        ("ordering=-price&min_price=1&max_price=2", "g", (0, 0), 200),
        ("in_stock=true", "f", (HUGE_ID,), 404),
        ("in_stock=false", "g", (HUGE_ID,), 200),
        ("in_stock=false", "f", (0,), 200),
    ],
)
def test_hostile_cursors_of_filtered_lists_cost_what_a_link_costs(
    api: LocalApi, dynamodb_calls: Any, query: str, tag: str, position: tuple[int, ...], status: int
) -> None:
    from products.query import product_query

    loaded_catalogue(300)
    parameters = dict(parameter.split("=") for parameter in query.split("&"))
    fingerprint = product_query(**parameters).fingerprint()  # type: ignore[arg-type]
    cursor = encode_cursor(tag, *position, 3, 50, fingerprint)
    dynamodb_calls.clear()
    response = listing(api, f"{query}&page=3&limit=50&cursor={cursor}")
    assert response.status == status, response.body
    assert len(dynamodb_calls.calls) <= 5
    assert dynamodb_calls.items_read <= 2 * 51 + 50 + 2 * 10_001
