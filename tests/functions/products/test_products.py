"""GET /api/products: the Django app's page/limit pagination, exact counts, bounded cost."""

from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import client_sees
from shop_common import catalog
from shop_common import settings as shop_settings
from shop_common.catalog import add_products, remove_product
from shop_common.cursors import decode_cursor_numbers, encode_cursor
from shop_common.dynamo import client, to_attributes
from shop_common.models import NewProduct
from shoplocal.gateway.invoke import LocalApi
from shoplocal.template import table_definition


def make_products(count: int, *, stock: int = 10) -> list[dict[str, Any]]:
    created = add_products(
        [
            NewProduct(name=f"Product {n}", description=f"About {n}", price=Decimal(n) + Decimal("0.99"), quantity=stock)
            for n in range(count)
        ]
    )
    return [client_sees(product.to_json()) for product in created]


def get_page(api: LocalApi, query: str = "") -> Any:
    response = api.request("GET", "/api/products", query_string=query)
    assert response.status == 200, response.body
    return response.json()


def follow(api: LocalApi, url: str) -> Any:
    parts = urlsplit(url)
    assert parts.scheme == "https"
    assert parts.netloc == "localhost"
    assert parts.path == "/api/products"
    return get_page(api, parts.query)


@pytest.fixture
def small_buckets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Buckets of 10 ids, so a few dozen products span many listing partitions."""
    monkeypatch.setattr(catalog, "BUCKET_SIZE", 10)


def test_first_page_has_the_django_shape_and_default_limit(api: LocalApi) -> None:
    products = make_products(60)
    page = get_page(api)
    assert list(page) == ["count", "next", "previous", "results"]
    assert page["count"] == 60
    assert page["previous"] is None
    assert page["results"] == products[:50]
    assert parse_qs(urlsplit(page["next"]).query)["page"] == ["2"]
    assert parse_qs(urlsplit(page["next"]).query)["limit"] == ["50"]


def test_product_fields_with_the_stock_as_quantity_and_the_price_as_a_json_number(api: LocalApi) -> None:
    add_products([NewProduct(name="Mug", description="A mug", price=Decimal("19.9"), quantity=0)])
    response = api.request("GET", "/api/products")
    assert '"price":19.9,"quantity":0,' in response.body
    assert response.json()["results"] == [
        {"id": 1, "name": "Mug", "description": "A mug", "price": 19.9, "quantity": 0, "sku": None, "images": []}
    ]


def test_empty_catalogue_is_an_empty_first_page(api: LocalApi) -> None:
    assert get_page(api) == {"count": 0, "next": None, "previous": None, "results": []}


@pytest.mark.usefixtures("small_buckets")
def test_following_next_then_previous_walks_every_product_in_id_order(api: LocalApi) -> None:
    products = make_products(47)
    pages = [get_page(api, "limit=6")]
    while pages[-1]["next"]:
        pages.append(follow(api, pages[-1]["next"]))
    assert [p for page in pages for p in page["results"]] == products
    assert len(pages) == 8
    assert all(page["count"] == 47 for page in pages)
    backwards = [pages[-1]]
    while backwards[-1]["previous"]:
        backwards.append(follow(api, backwards[-1]["previous"]))
    assert [page["results"] for page in backwards] == [page["results"] for page in reversed(pages)]


@pytest.mark.usefixtures("small_buckets")
@pytest.mark.parametrize("page_number", [1, 2, 3, 5, 8])
def test_any_page_number_matches_the_slice_of_the_catalogue(api: LocalApi, page_number: int) -> None:
    products = make_products(47)
    page = get_page(api, f"page={page_number}&limit=6")
    assert page["results"] == products[(page_number - 1) * 6 : page_number * 6]


@pytest.mark.usefixtures("small_buckets")
def test_page_numbers_stay_exact_when_products_were_removed(api: LocalApi) -> None:
    products = make_products(47)
    for product_id in (3, 11, 12, 13, 25):
        remove_product(product_id)
    remaining = [p for p in products if p["id"] not in {3, 11, 12, 13, 25}]
    for page_number in range(1, 8):
        page = get_page(api, f"page={page_number}&limit=6")
        assert page["count"] == 42
        assert page["results"] == remaining[(page_number - 1) * 6 : page_number * 6]


def test_page_past_the_end_is_404(api: LocalApi) -> None:
    make_products(5)
    response = api.request("GET", "/api/products", query_string="page=3&limit=5")
    assert response.status == 404
    assert response.json()["detail"] == "Invalid page."


def test_second_page_of_an_empty_catalogue_is_404(api: LocalApi) -> None:
    assert api.request("GET", "/api/products", query_string="page=2").status == 404


@pytest.mark.parametrize("page", ["abc", "0", "-1", "1.5", "", "99999999999999999999999", "LAST", "1,x"])
def test_a_page_that_is_not_a_positive_integer_is_404_as_in_the_django_app(api: LocalApi, page: str) -> None:
    make_products(3)
    response = api.request("GET", "/api/products", query_string=urlencode({"page": page}))
    assert response.status == 404
    assert response.json()["detail"] == "Invalid page."


@pytest.mark.parametrize(("limit", "size"), [("0", 50), ("-5", 50), ("ten", 50), ("", 50), ("1.5", 50), (" 2 ", 2), ("3", 3)])
def test_a_limit_that_is_not_a_positive_integer_is_the_default_50(api: LocalApi, limit: str, size: int) -> None:
    make_products(60)
    page = get_page(api, urlencode({"limit": limit}))
    assert len(page["results"]) == size
    assert query_of(page["next"])["limit"] == str(size)


def test_a_repeated_parameter_counts_with_its_last_value(api: LocalApi) -> None:
    make_products(10)
    assert len(get_page(api, "limit=2&limit=3")["results"]) == 3


@pytest.mark.parametrize(("limit", "pages"), [(3, 4), (5, 2), (1000, 1)])
def test_page_last_is_the_last_page(api: LocalApi, limit: int, pages: int) -> None:
    products = make_products(10)
    page = get_page(api, f"page=last&limit={limit}")
    assert page["results"] == products[(pages - 1) * limit :]
    assert page["next"] is None
    assert (page["previous"] is None) == (pages == 1)
    if page["previous"]:
        assert follow(api, page["previous"])["results"] == products[(pages - 2) * limit : (pages - 1) * limit]


def test_page_last_of_an_empty_catalogue_is_an_empty_first_page(api: LocalApi) -> None:
    assert get_page(api, "page=last") == {"count": 0, "next": None, "previous": None, "results": []}


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "%00",
        "eDEy",  # x12: an unknown tag
        "YQ",  # a: no id
        "Yjk5OTk5OTk5OTk5OTk5OTk5OTk5",  # b and 20 digits
        encode_cursor("a", 3, 2),  # neither an old cursor (one number) nor a new one (three)
        encode_cursor("a", 3, 2, 50, 1),
        "YS0zLjIuNTA",  # a-3.2.50
        "YTPCsi4yLjUw",  # a3².2.50: not ASCII
    ],
)
def test_tampered_cursor_is_400_naming_the_cursor(api: LocalApi, cursor: str) -> None:
    make_products(3)
    response = api.request("GET", "/api/products", query_string=f"page=2&cursor={cursor}")
    assert response.status == 400
    assert [error["field"] for error in response.json()["errors"]] == ["cursor"]


def test_limit_above_the_maximum_is_capped_at_1000(api: LocalApi) -> None:
    make_products(1005, stock=1)
    page = get_page(api, "limit=5000")
    assert len(page["results"]) == 1000
    assert query_of(page["next"])["limit"] == "1000"
    assert len(follow(api, page["next"])["results"]) == 5
    assert [p["id"] for p in get_page(api, "page=2&limit=1000")["results"]] == list(range(1001, 1006))


# --- page and cursor: one page, one numbering -------------------------------------------------


def query_of(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def test_links_carry_a_cursor_naming_their_page_and_limit(api: LocalApi) -> None:
    make_products(20)
    page_2 = follow(api, get_page(api, "limit=3")["next"])
    next_link, previous_link = query_of(page_2["next"]), query_of(follow(api, page_2["next"])["previous"])
    assert decode_cursor_numbers(next_link["cursor"], "ab", counts=(3,)) == ("a", (6, 3, 3))
    assert (next_link["page"], next_link["limit"]) == ("3", "3")
    assert decode_cursor_numbers(previous_link["cursor"], "ab", counts=(3,)) == ("b", (7, 2, 3))
    assert (previous_link["page"], previous_link["limit"]) == ("2", "3")


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"page": "50"}, ["page"]),
        ({"page": "1"}, ["page"]),
        ({"limit": "4"}, ["limit"]),
        ({"page": "2", "limit": "9"}, ["page", "limit"]),
    ],
)
def test_a_page_or_limit_that_contradicts_the_cursor_is_400_naming_it(
    api: LocalApi, change: dict[str, str], fields: list[str]
) -> None:
    make_products(20)
    link = query_of(follow(api, get_page(api, "limit=2")["next"])["next"])  # page 3
    response = api.request("GET", "/api/products", query_string=urlencode(link | change))
    assert response.status == 400, response.body
    assert [error["field"] for error in response.json()["errors"]] == fields


def test_a_page_left_out_with_a_later_pages_cursor_is_400(api: LocalApi) -> None:
    make_products(20)
    link = query_of(follow(api, get_page(api, "limit=2")["next"])["next"])
    response = api.request("GET", "/api/products", query_string=f"limit=2&cursor={link['cursor']}")
    assert response.status == 400
    assert response.json()["errors"][0]["message"] == "The cursor belongs to page 3, not page 1."


@pytest.mark.parametrize("old_cursor", ["YTI", "YjEwMDAwMDA", "YjE"])  # a2, b1000000, b1: ids alone
def test_an_old_cursor_without_its_page_leaves_the_page_number_in_charge(api: LocalApi, old_cursor: str) -> None:
    products = make_products(20)
    page = get_page(api, f"page=5&limit=2&cursor={old_cursor}")
    assert page == get_page(api, "page=5&limit=2")
    assert page["results"] == products[8:10]
    assert (query_of(page["next"])["page"], query_of(page["previous"])["page"]) == ("6", "4")


def test_following_next_reaches_the_end_when_products_before_the_cursor_were_deleted(api: LocalApi) -> None:
    products = make_products(10)
    page = get_page(api, "limit=3")
    for product_id in (1, 2):
        remove_product(product_id)
    seen = page["results"]
    while page["next"]:
        page = follow(api, page["next"])
        seen += page["results"]
    assert seen == products  # the count alone (8) would have ended the walk before id 10


def test_a_cursor_past_the_end_is_404(api: LocalApi) -> None:
    make_products(5)
    cursor = encode_cursor("a", 5, 2, 5)
    response = api.request("GET", "/api/products", query_string=f"page=2&limit=5&cursor={cursor}")
    assert response.status == 404
    assert response.json()["detail"] == "Invalid page."


# --- bucket counters: an emptied bucket leaves no item behind ---------------------------------


def bucket_counters() -> dict[str, int]:
    response = client().query(
        TableName=shop_settings.table_name(),
        KeyConditionExpression="PK = :pk AND begins_with(SK, :bucket)",
        ExpressionAttributeValues=to_attributes({":pk": "CATALOG", ":bucket": "BUCKET#"}),
    )
    return {item["SK"]["S"]: int(item["product_count"]["N"]) for item in response["Items"]}


@pytest.mark.usefixtures("small_buckets")
def test_removing_the_last_product_of_a_bucket_deletes_its_counter(api: LocalApi) -> None:
    make_products(25)
    for product_id in range(10, 20):
        remove_product(product_id)
    remove_product(3)
    assert bucket_counters() == {"BUCKET#000000000": 8, "BUCKET#000000002": 6}
    make_products(1)  # id 26: its bucket's counter is counted on, the emptied one stays gone
    assert bucket_counters() == {"BUCKET#000000000": 8, "BUCKET#000000002": 7}
    for product_id in range(20, 27):
        remove_product(product_id)
    assert bucket_counters() == {"BUCKET#000000000": 8}
    make_products(1)  # id 27, in the bucket just emptied: adding recreates its counter
    assert bucket_counters() == {"BUCKET#000000000": 8, "BUCKET#000000002": 1}
    assert [product["id"] for product in get_page(api, "limit=100")["results"]] == [1, 2, 4, 5, 6, 7, 8, 9, 27]


@pytest.mark.usefixtures("small_buckets")
def test_a_counter_left_at_zero_by_an_interrupted_removal_is_skipped(api: LocalApi, monkeypatch: pytest.MonkeyPatch) -> None:
    products = make_products(35)
    monkeypatch.setattr(catalog, "_forget_bucket_if_empty", lambda bucket: None)
    for product_id in range(10, 30):
        remove_product(product_id)
    assert bucket_counters()["BUCKET#000000001"] == 0
    remaining = [p for p in products if not 10 <= p["id"] < 30]
    page_1 = get_page(api, "limit=10")
    page_2 = follow(api, page_1["next"])
    assert page_1["results"] + page_2["results"] == remaining
    assert follow(api, page_2["previous"]) == page_1


# --- property: links and typed page numbers agree, every product once -------------------------


@st.composite
def catalogues(draw: st.DrawFn) -> tuple[int, set[int], int]:
    size = draw(st.integers(min_value=0, max_value=45))
    removed = draw(st.sets(st.integers(min_value=1, max_value=max(size, 1)), max_size=size))
    return size, removed & set(range(1, size + 1)), draw(st.integers(min_value=1, max_value=8))


@pytest.mark.usefixtures("small_buckets")
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(catalogue=catalogues())
def test_links_and_page_numbers_walk_every_product_once_in_id_order(
    api: LocalApi, dynamodb_calls: Any, catalogue: tuple[int, set[int], int]
) -> None:
    size, removed, limit = catalogue
    recreate_table()
    products = make_products(size)
    for product_id in sorted(removed):
        remove_product(product_id)
    remaining = [product for product in products if product["id"] not in removed]

    def visit(query: str) -> Any:
        """Page 1 or a link: the bound of docs/data-model.md, one Query of the index of every
        product and one BatchGetItem of the page with the catalogue counters."""
        dynamodb_calls.clear()
        page = get_page(api, query)
        assert dynamodb_calls.operations == ["Query", "BatchGetItem"]
        return page

    def visit_typed(query: str) -> Any:
        """A typed page number: the counters, one Query of the index of every product from the
        bucket holding the offset, one BatchGetItem of the page, however thinned the buckets."""
        dynamodb_calls.clear()
        page = get_page(api, query)
        assert dynamodb_calls.operations == ["Query", "Query", "BatchGetItem"]
        return page

    pages = [visit(f"limit={limit}")]
    while pages[-1]["next"]:
        assert query_of(pages[-1]["next"])["page"] == str(len(pages) + 1)
        pages.append(visit(urlsplit(pages[-1]["next"]).query))
    assert [product for page in pages for product in page["results"]] == remaining
    assert all(page["count"] == len(remaining) for page in pages)
    backwards = [pages[-1]]
    while backwards[-1]["previous"]:
        backwards.append(visit(urlsplit(backwards[-1]["previous"]).query))
    assert backwards == pages[::-1]
    for number, page in enumerate(pages, start=1):
        assert (visit if number == 1 else visit_typed)(f"page={number}&limit={limit}") == page
    assert api.request("GET", "/api/products", query_string=f"page={len(pages) + 1}&limit={limit}").status == 404


def recreate_table() -> None:
    """A fresh table inside one test, for each hypothesis example."""
    client().delete_table(TableName=shop_settings.table_name())
    client().create_table(TableName=shop_settings.table_name(), **table_definition())


def test_no_request_scans_the_table(api: LocalApi, dynamodb_calls: Any) -> None:
    make_products(30)
    for query in ("", "page=2&limit=7", "limit=3"):
        get_page(api, query)
    assert "Scan" not in dynamodb_calls.operations


# --- the index of every product (GSI4): page 1 and links ----------------------------------------


def listed_ids() -> list[int]:
    """The ids in the index of every product, read with boto3 (the oracle of the keys)."""
    response = client().query(
        TableName=shop_settings.table_name(),
        IndexName="GSI4",
        KeyConditionExpression="GSI4PK = :all",
        ExpressionAttributeValues=to_attributes({":all": "PRODUCTS"}),
    )
    return [int(item["GSI4SK"]["S"]) for item in response["Items"]]


def test_the_count_of_every_link_is_exact_after_adds_and_deletes(api: LocalApi) -> None:
    products = make_products(12)
    page = get_page(api, "limit=4")
    assert page["count"] == 12
    remove_product(2)  # on the page already seen
    remove_product(6)  # on the next page
    page = follow(api, page["next"])
    assert (page["count"], [product["id"] for product in page["results"]]) == (10, [5, 7, 8, 9])
    make_products(3)  # ids 13-15
    page = follow(api, page["next"])
    assert (page["count"], [product["id"] for product in page["results"]]) == (13, [10, 11, 12, 13])
    remove_product(products[-1]["id"])  # id 12, on the page just read
    page = follow(api, page["previous"])
    assert (page["count"], [product["id"] for product in page["results"]]) == (12, [5, 7, 8, 9])


def test_every_product_write_keeps_its_place_in_the_index_of_every_product(api: LocalApi, signed_in: Any) -> None:
    make_products(3, stock=1)
    assert listed_ids() == [1, 2, 3]
    _, staff = signed_in(is_staff=True)
    edit = {"name": "Renamed", "price": "7.00", "sku": "R-1"}
    assert api.request("PATCH", "/api/products/2", json_body=edit, headers=staff).status == 200
    assert api.request("POST", "/api/products/2/stock", json_body={"delta": -1}, headers=staff).status == 200
    _, customer = signed_in()
    sell_out = {"parts": [{"product": 3, "quantity_in_order": 1}]}
    assert api.request("POST", "/api/order", json_body=sell_out, headers=customer).status == 201
    created = api.request("POST", "/api/products", json_body={"name": "New", "price": "1.00", "quantity": 1}, headers=staff)
    assert created.status == 201
    assert api.request("DELETE", "/api/products/1", headers=staff).status == 204
    assert listed_ids() == [2, 3, 4]
    assert [product["id"] for product in get_page(api)["results"]] == [2, 3, 4]


def test_migrate_lists_products_written_before_the_index_of_every_product(api: LocalApi) -> None:
    from shopctl.migrations import count_old_items, migrate, upgrade_items

    make_products(5)
    table = shop_settings.table_name()
    for product_id in (2, 4):  # as an earlier version wrote them
        key = to_attributes({"PK": f"PRODUCT#{product_id}", "SK": "PRODUCT"})
        client().update_item(TableName=table, Key=key, UpdateExpression="REMOVE GSI4PK, GSI4SK")
    assert [product["id"] for product in get_page(api)["results"]] == [1, 3, 5]
    assert count_old_items() == 2
    migrate(lambda _: None)
    assert (count_old_items(), listed_ids()) == (0, [1, 2, 3, 4, 5])
    migrate(lambda _: None)  # idempotent: nothing left to do
    assert listed_ids() == [1, 2, 3, 4, 5]
    assert [product["id"] for product in get_page(api)["results"]] == [1, 2, 3, 4, 5]
    old_export = client().get_item(TableName=table, Key=to_attributes({"PK": "PRODUCT#2", "SK": "PRODUCT"}))["Item"]
    (upgraded,) = upgrade_items([{name: value for name, value in old_export.items() if not name.startswith("GSI4")}])
    assert upgraded == old_export


def test_migrate_gives_a_product_without_any_index_keys_its_place_too(api: LocalApi) -> None:
    from shopctl.migrations import migrate

    make_products(2)
    key = to_attributes({"PK": "PRODUCT#1", "SK": "PRODUCT"})
    client().update_item(
        TableName=shop_settings.table_name(), Key=key, UpdateExpression="REMOVE GSI2PK, GSI2SK, GSI3PK, GSI3SK, GSI4PK, GSI4SK"
    )
    assert listed_ids() == [2]
    migrate(lambda _: None)
    assert listed_ids() == [1, 2]
