"""GET /api/products: the Django app's page/limit pagination, exact counts, bounded cost."""

from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from shop_common import catalog
from shop_common.catalog import add_products, remove_product
from shop_common.models import NewProduct
from shoplocal.gateway.invoke import LocalApi


def make_products(count: int, *, stock: int = 10) -> list[dict[str, Any]]:
    created = add_products(
        [
            NewProduct(name=f"Product {n}", description=f"About {n}", price=Decimal(n) + Decimal("0.99"), quantity_in_stock=stock)
            for n in range(count)
        ]
    )
    return [product.to_json() for product in created]


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


def test_product_fields_and_price_as_decimal_string(api: LocalApi) -> None:
    add_products([NewProduct(name="Mug", description="A mug", price=Decimal("19.9"), quantity_in_stock=0)])
    assert get_page(api)["results"] == [
        {"id": 1, "name": "Mug", "description": "A mug", "price": "19.90", "quantity_in_stock": 0}
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


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page=abc", "page"),
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=1.5", "page"),
        ("limit=0", "limit"),
        ("limit=-5", "limit"),
        ("limit=ten", "limit"),
        ("page=99999999999999999999999", "page"),
        ("cursor=" + "x" * 100, "cursor"),
    ],
)
def test_nonsense_paging_parameters_are_400_naming_the_field(api: LocalApi, query: str, field: str) -> None:
    make_products(3)
    response = api.request("GET", "/api/products", query_string=query)
    assert response.status == 400
    body = response.json()
    assert body["detail"]
    assert [error["field"] for error in body["errors"]] == [field]


@pytest.mark.parametrize("cursor", ["garbage!", "eDEy", "YQ", "Yjk5OTk5OTk5OTk5OTk5OTk5OTk5", "%00"])
def test_tampered_cursor_is_400(api: LocalApi, cursor: str) -> None:
    make_products(3)
    response = api.request("GET", "/api/products", query_string=f"page=2&cursor={cursor}")
    assert response.status == 400
    assert response.json()["detail"] == "Invalid cursor."


def test_limit_above_the_maximum_is_capped_at_100(api: LocalApi) -> None:
    make_products(120, stock=1)
    page = get_page(api, "limit=5000")
    assert len(page["results"]) == 100
    assert parse_qs(urlsplit(page["next"]).query)["limit"] == ["100"]


def test_links_use_the_host_and_scheme_the_client_called(api: LocalApi) -> None:
    make_products(3)
    response = api.request(
        "GET", "/api/products", query_string="limit=1", headers={"Host": "shop.example.com", "X-Forwarded-Proto": "https"}
    )
    assert response.json()["next"].startswith("https://shop.example.com/api/products?")


# --- cost: bounded calls and items per request, however large the catalogue -----------------


@pytest.mark.usefixtures("small_buckets")
def test_first_page_and_links_read_about_limit_items(api: LocalApi, dynamodb_calls: Any) -> None:
    make_products(95)
    dynamodb_calls.clear()
    page = get_page(api, "limit=8")
    assert dynamodb_calls.operations[0] == "GetItem"
    assert dynamodb_calls.operations[1:] in (["Query"], ["Query", "Query"])
    assert dynamodb_calls.items_read <= 8 + 1
    for _ in range(6):
        dynamodb_calls.clear()
        page = follow(api, page["next"])
        assert len(dynamodb_calls.calls) <= 3
        assert dynamodb_calls.items_read <= 8 + 1
    dynamodb_calls.clear()
    follow(api, page["previous"])
    assert len(dynamodb_calls.calls) <= 3
    assert dynamodb_calls.items_read <= 8 + 1


@pytest.mark.usefixtures("small_buckets")
def test_arbitrary_page_reads_the_counters_then_about_limit_items(api: LocalApi, dynamodb_calls: Any) -> None:
    make_products(95)
    dynamodb_calls.clear()
    get_page(api, "page=7&limit=8")
    counters, *reads = dynamodb_calls.calls
    assert counters.operation == "Query"
    assert counters.params["ExpressionAttributeValues"][":pk"] == {"S": "CATALOG"}
    assert counters.items_read == 1 + 10  # META and one counter per bucket of 10 ids
    assert [call.params.get("IndexName") for call in reads] in (["GSI1"], ["GSI1", "GSI1"])
    assert sum(call.items_read for call in reads) == 8


def test_no_request_scans_the_table(api: LocalApi, dynamodb_calls: Any) -> None:
    make_products(30)
    for query in ("", "page=2&limit=7", "limit=3"):
        get_page(api, query)
    assert "Scan" not in dynamodb_calls.operations
