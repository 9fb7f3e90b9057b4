"""GET /api/products with min_price, max_price, in_stock, search and ordering: checked against a
brute-force oracle over random catalogues, also after edits, deletes and stock changes."""

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from products.catalog_reads import catalog_stats
from shop_common import settings as shop_settings
from shop_common.catalog import add_products, remove_product
from shop_common.catalog_writes import read_product, update_product
from shop_common.dynamo import client
from shop_common.models import NewProduct
from shop_common.search_words import prefix_distance
from shoplocal.gateway.invoke import LocalApi
from shoplocal.template import table_definition

VOCABULARY = [
    "Chocolate", "chocolatier's", "Dark", "Café", "CAFE", "crème", "brûlée", "Tea", "(green)", "Mug", "mugs",
    "Über", "uber-mug", "A", "b", "70%", "Orange", "Oolong", "Caramel", "Cacao",
]  # fmt: skip
SEARCHES = [
    "choc", "chocolate", "CHOCOLATE", "choclate", "chocolat", "cafe", "CAFÉ", "creme brulee", "mu", "mug", "m",
    "c", "a", "tea green", "uber", "oolnog", "caramle", "dark choc", "!!!", "o", "70", "b a", "orange tea",
    "xyz", "cacoa", "chocolatiers",
]  # fmt: skip
PRICES = [0, 1, 99, 100, 150, 999, 1000, 1999, 2500, 10_000]


# --- the oracle -----------------------------------------------------------------------------------


def oracle_words(text: str) -> list[str]:
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()
    return list(dict.fromkeys(word for word in re.split(r"[^\w]|_", plain) if word))


@dataclass
class Item:
    id: int
    name: str
    cents: int
    stock: int


@dataclass(frozen=True)
class Query:
    min_cents: int | None = None
    max_cents: int | None = None
    in_stock: bool | None = None
    ordering: str | None = None
    search: str | None = None
    limit: int = 5

    def query_string(self) -> str:
        parameters: dict[str, Any] = {"limit": self.limit}
        if self.min_cents is not None:
            parameters["min_price"] = f"{Decimal(self.min_cents) / 100}"
        if self.max_cents is not None:
            parameters["max_price"] = f"{Decimal(self.max_cents) / 100}"
        if self.in_stock is not None:
            parameters["in_stock"] = "true" if self.in_stock else "0"
        if self.ordering:
            parameters["ordering"] = self.ordering
        if self.search is not None:
            parameters["search"] = self.search
        return urlencode(parameters)


def expected(catalogue: dict[int, Item], query: Query) -> list[int]:
    words = oracle_words(query.search or "")
    ordering = query.ordering or ("relevance" if words else "price" if query.min_cents or query.max_cents else "id")
    if query.min_cents is not None and query.ordering is None and not words:
        ordering = "price"
    items = [
        item
        for item in catalogue.values()
        if (query.min_cents is None or item.cents >= query.min_cents)
        and (query.max_cents is None or item.cents <= query.max_cents)
        and (query.in_stock is None or (item.stock > 0) == query.in_stock)
    ]
    ranks: dict[int, tuple[int, bool]] = {}
    if words:
        fetch = max(words, key=len)
        all_words = {word for item in catalogue.values() for word in oracle_words(item.name)}

        def fetched(name_word: str) -> bool:
            return name_word.startswith(fetch)

        if len(fetch) >= 3 and not any(word.startswith(fetch) for word in all_words):
            tolerance = 2 if len(fetch) >= 8 else 1
            close = sorted(
                (prefix_distance(fetch, word), word)
                for word in all_words
                if word[:2] == fetch[:2] and prefix_distance(fetch, word) <= tolerance
            )
            fixes = {word for _, word in close[:3]}

            def fetched(name_word: str) -> bool:
                return name_word in fixes

        matching = []
        for item in items:
            name_words = oracle_words(item.name)
            exact, first = 0, False
            for word in words:
                hits = [w for w in name_words if (fetched(w) if word == fetch else w.startswith(word))]
                if not hits:
                    break
                exact += word in hits
                first = first or name_words[0] in hits
            else:
                matching.append(item)
                ranks[item.id] = (exact, first)
        items = matching
    if ordering == "price":
        items.sort(key=lambda item: (item.cents, item.id))
    elif ordering == "-price":
        items.sort(key=lambda item: (item.cents, item.id), reverse=True)
    elif ordering == "relevance":
        items.sort(key=lambda item: (-ranks[item.id][0], not ranks[item.id][1], item.id))
    else:
        items.sort(key=lambda item: item.id)
    return [item.id for item in items]


# --- helpers ----------------------------------------------------------------------------------------


def recreate_table() -> None:
    client().delete_table(TableName=shop_settings.table_name())
    client().create_table(TableName=shop_settings.table_name(), **table_definition())


def load(rows: list[tuple[str, int, int]]) -> dict[int, Item]:
    products = add_products([NewProduct(name=name, price=Decimal(cents) / 100, quantity=stock) for name, cents, stock in rows])
    return {p.id: Item(p.id, p.name, cents, p.quantity) for p, (_, cents, _) in zip(products, rows, strict=True)}


def get(api: LocalApi, query: str) -> Any:
    response = api.request("GET", "/api/products", query_string=query)
    assert response.status == 200, (query, response.body)
    return response.json()


def walk(api: LocalApi, query: Query) -> tuple[list[int], list[Any]]:
    """Page 1, then every next link to the end: the ids seen and the pages."""
    pages = [get(api, query.query_string())]
    while pages[-1]["next"]:
        assert len(pages) < 100
        pages.append(get(api, urlsplit(pages[-1]["next"]).query))
    return [product["id"] for page in pages for product in page["results"]], pages


def check(api: LocalApi, catalogue: dict[int, Item], query: Query) -> None:
    want = expected(catalogue, query)
    seen, pages = walk(api, query)
    assert seen == want, query
    assert all(page["count"] == len(want) for page in pages), query
    backwards = [pages[-1]]
    while backwards[-1]["previous"]:
        backwards.append(get(api, urlsplit(backwards[-1]["previous"]).query))
    assert [page["results"] for page in backwards] == [page["results"] for page in reversed(pages)], query
    if len(pages) > 2:  # a page number typed by hand
        typed = get(api, f"{query.query_string()}&page={len(pages)}")
        assert typed["results"] == pages[-1]["results"]


names = st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=4).map(" ".join)
rows = st.lists(st.tuples(names, st.sampled_from(PRICES), st.sampled_from([0, 0, 1, 7])), min_size=2, max_size=25)
queries = st.builds(
    Query,
    min_cents=st.none() | st.sampled_from(PRICES),
    max_cents=st.none() | st.sampled_from(PRICES),
    in_stock=st.none() | st.booleans(),
    ordering=st.none() | st.sampled_from(["id", "price", "-price"]),
    search=st.none() | st.sampled_from(SEARCHES),
    limit=st.integers(min_value=1, max_value=4),
).filter(lambda q: q.min_cents is None or q.max_cents is None or q.min_cents <= q.max_cents)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(catalogue_rows=rows, some_queries=st.lists(queries, min_size=2, max_size=5))
def test_filters_search_and_orderings_match_the_oracle(
    api: LocalApi, catalogue_rows: list[tuple[str, int, int]], some_queries: list[Query]
) -> None:
    recreate_table()
    catalogue = load(catalogue_rows)
    for query in some_queries:
        check(api, catalogue, query)


edits = st.lists(
    st.tuples(
        st.sampled_from(["rename", "reprice", "restock", "sell out", "delete", "order all", "order one"]),
        st.integers(0, 20),
        names,
        st.sampled_from(PRICES),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(catalogue_rows=rows, changes=edits, some_queries=st.lists(queries, min_size=2, max_size=4))
def test_the_indexes_follow_edits_deletes_stock_changes_and_orders(
    api: LocalApi,
    signed_in: Any,
    catalogue_rows: list[tuple[str, int, int]],
    changes: list[tuple[str, int, str, int]],
    some_queries: list[Query],
) -> None:
    recreate_table()
    catalogue = load(catalogue_rows)
    _, customer = signed_in()
    for kind, index, name, cents in changes:
        if not catalogue:
            break
        product_id = sorted(catalogue)[index % len(catalogue)]
        current = read_product(product_id)
        assert current is not None
        item = catalogue[product_id]
        if kind == "delete":
            assert remove_product(product_id)
            del catalogue[product_id]
            continue
        if kind.startswith("order"):  # an order selling the product out, or taking one
            quantity = item.stock if kind == "order all" else min(item.stock, 1)
            if quantity:
                order = {"parts": [{"product": product_id, "quantity_in_order": quantity}]}
                response = api.request("POST", "/api/order", json_body=order, headers=customer)
                assert response.status == 201, response.body
                item.stock -= quantity
            continue
        if kind == "rename":
            item.name = name
        elif kind == "reprice":
            item.cents = cents
        elif kind == "restock":
            item.stock += 3
        else:
            item.stock = 0
        update_product(
            current,
            current.model_copy(update={"name": item.name, "price": Decimal(item.cents) / 100, "quantity": item.stock}),
        )
    stats = catalog_stats()
    assert (stats.product_count, stats.in_stock_count) == (len(catalogue), sum(1 for i in catalogue.values() if i.stock > 0))
    for query in some_queries:
        check(api, catalogue, query)


# --- examples -------------------------------------------------------------------------------------


def ids(page: Any) -> list[int]:
    return [product["id"] for product in page["results"]]


def test_choclate_finds_chocolate(api: LocalApi) -> None:
    load([("Dark Chocolate", 350, 4), ("Chocolatier's box", 1200, 0), ("Cheese", 500, 1)])
    assert ids(get(api, "search=choclate")) == [2, 1]  # both corrected; 2 on its first word
    assert ids(get(api, "search=CHOCOLATE")) == [1]


def test_accents_case_and_punctuation_are_folded(api: LocalApi) -> None:
    load([("Crème brûlée", 450, 1), ("CAFÉ au lait", 300, 1), ("uber-mug", 900, 1)])
    assert ids(get(api, "search=creme+BRULEE")) == [1]
    assert ids(get(api, "search=cafe")) == [2]
    assert ids(get(api, "search=mug")) == [3]
    assert get(api, "search=!!!")["count"] == 3  # punctuation alone: no search


def test_relevance_prefers_exact_words_then_the_first_word(api: LocalApi) -> None:
    load([("Teapot", 100, 1), ("Green tea", 100, 1), ("Tea", 100, 1), ("Teaspoon tea", 100, 1)])
    # exact "tea": 2, 3, 4; of those, on the first word: 3 and 4; then by id
    assert ids(get(api, "search=tea")) == [3, 4, 2, 1]


def test_a_price_range_defaults_to_price_order_and_counts_exactly(api: LocalApi) -> None:
    load([("A", 500, 1), ("B", 100, 0), ("C", 300, 1), ("D", 300, 1), ("E", 900, 1)])
    page = get(api, "min_price=1&max_price=5.00")
    assert ids(page) == [2, 3, 4, 1]
    assert page["count"] == 4
    assert ids(get(api, "min_price=1&max_price=5&ordering=id")) == [1, 2, 3, 4]
    assert ids(get(api, "max_price=3&ordering=-price")) == [4, 3, 2]


def test_in_stock_counts_come_from_the_catalogue_counters(api: LocalApi) -> None:
    load([("A", 500, 1), ("B", 100, 0), ("C", 300, 2)])
    assert (get(api, "in_stock=true")["count"], get(api, "in_stock=false")["count"]) == (2, 1)
    assert ids(get(api, "in_stock=1")) == [1, 3]
    assert ids(get(api, "in_stock=0")) == [2]


def test_links_carry_every_filter(api: LocalApi) -> None:
    load([(f"Mug {n}", 100 * n, n % 2) for n in range(1, 8)])
    page = get(api, "limit=2&min_price=1&max_price=6&in_stock=true&ordering=-price")
    link = {name: values[0] for name, values in parse_qs(urlsplit(page["next"]).query).items()}
    assert link.pop("cursor")
    assert link == {"min_price": "1.00", "max_price": "6.00", "in_stock": "true", "ordering": "-price", "page": "2", "limit": "2"}
    searched = get(api, "limit=1&search=mug")
    assert parse_qs(urlsplit(searched["next"]).query)["search"] == ["mug"]


def test_a_cursor_of_one_query_is_refused_by_another(api: LocalApi, dynamodb_calls: Any) -> None:
    load([(f"Mug {n}", 100 * n, 1) for n in range(1, 8)])
    link = parse_qs(urlsplit(get(api, "limit=2&ordering=price")["next"]).query)
    cursor = link["cursor"][0]
    for other in (
        "ordering=-price",
        "ordering=price&in_stock=true",
        "ordering=price&min_price=2",
        "search=mug",
        "",
        "in_stock=true",
    ):
        dynamodb_calls.clear()
        response = api.request("GET", "/api/products", query_string=f"{other}&page=2&limit=2&cursor={cursor}")
        assert response.status == 400, (other, response.body)
        assert [error["field"] for error in response.json()["errors"]] == ["cursor"]
        assert dynamodb_calls.calls == [], other


def test_a_price_range_in_id_order_beyond_the_window_is_400_naming_ordering(
    api: LocalApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    from products import filtered_listing

    monkeypatch.setattr(filtered_listing, "PRICE_WINDOW", 3)
    load([(f"Mug {n}", 100, 1) for n in range(4)])
    response = api.request("GET", "/api/products", query_string="min_price=1&ordering=id")
    assert response.status == 400
    assert [error["field"] for error in response.json()["errors"]] == ["ordering"]
    assert get(api, "min_price=1")["count"] == 4  # ordered by price: any size


def test_count_of_a_price_range_is_capped(api: LocalApi, monkeypatch: pytest.MonkeyPatch) -> None:
    from products import filtered_listing

    monkeypatch.setattr(filtered_listing, "COUNT_CAP", 3)
    load([(f"Mug {n}", 100, 1) for n in range(5)])
    page = get(api, "min_price=1&limit=10")
    assert (page["count"], len(page["results"])) == (3, 5)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("min_price=-1", "min_price"),
        ("min_price=1.999", "min_price"),
        ("min_price=abc", "min_price"),
        ("max_price=1e3", "max_price"),
        ("max_price=99999999999", "max_price"),
        ("min_price=5&max_price=4.99", "min_price"),
        ("in_stock=yes", "in_stock"),
        ("in_stock=", "in_stock"),
        ("ordering=name", "ordering"),
        ("ordering=-id", "ordering"),
        ("search=" + "a" * 201, "search"),
        ("search=" + "+".join("abcdefghijk"), "search"),
    ],
)
def test_bad_filter_values_are_400_naming_the_field_and_cost_nothing(
    api: LocalApi, dynamodb_calls: Any, query: str, field: str
) -> None:
    dynamodb_calls.clear()
    response = api.request("GET", "/api/products", query_string=query)
    assert response.status == 400, response.body
    assert response.json()["detail"]
    assert [error["field"] for error in response.json()["errors"]] == [field]
    assert dynamodb_calls.calls == []


def test_ordering_errors_list_the_allowed_values(api: LocalApi) -> None:
    message = api.request("GET", "/api/products", query_string="ordering=name").json()["errors"][0]["message"]
    assert all(value in message for value in ("'id'", "'price'", "'-price'"))


def test_public_reads_may_be_cached_for_a_few_seconds(api: LocalApi) -> None:
    load([("Mug", 100, 1)])
    for path, query in (("/api/products", ""), ("/api/products", "search=mug"), ("/api/products/1", "")):
        response = api.request("GET", path, query_string=query)
        assert response.headers["cache-control"] == "public, max-age=5"
    assert "cache-control" not in api.request("GET", "/api/products/2").headers


def test_migrate_indexes_products_written_before_the_indexes(api: LocalApi) -> None:
    from shop_common.dynamo import to_attributes
    from shopctl.migrations import count_old_items, migrate

    catalogue = load([("Dark chocolate", 350, 4), ("Café au lait", 120, 0), ("Mug", 900, 2)])
    table = shop_settings.table_name()
    for item in client().scan(TableName=table)["Items"]:  # as an earlier version left the table
        if item["PK"]["S"].startswith("WORD#"):
            client().delete_item(TableName=table, Key={"PK": item["PK"], "SK": item["SK"]})
        elif item["PK"]["S"].startswith("PRODUCT#"):
            client().update_item(
                TableName=table,
                Key={"PK": item["PK"], "SK": item["SK"]},
                UpdateExpression="REMOVE GSI2PK, GSI2SK, GSI3PK, GSI3SK",
            )
    client().update_item(
        TableName=table, Key=to_attributes({"PK": "CATALOG", "SK": "META"}), UpdateExpression="REMOVE in_stock_count"
    )
    assert get(api, "search=mug")["count"] == 0
    assert count_old_items() == 3
    migrate(lambda _: None)
    assert count_old_items() == 0
    assert catalog_stats().in_stock_count == 2
    for query in (Query(search="cafe"), Query(in_stock=True), Query(ordering="-price"), Query(min_cents=100, max_cents=400)):
        check(api, catalogue, query)


def test_a_container_reads_the_catalogue_counters_at_most_once_per_cache_period(
    api: LocalApi, dynamodb_calls: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from products import catalog_reads

    load([("Mug", 100, 1)])
    clock = iter([100.0, 100.5, 101.2])  # the container's monotonic clock at each read
    monkeypatch.setattr(catalog_reads, "STATS_CACHE_SECONDS", 1.0)
    monkeypatch.setattr(catalog_reads, "_clock", lambda: next(clock))
    dynamodb_calls.clear()
    assert get(api, "in_stock=true")["count"] == 1  # read at 100.0
    load([("Cup", 100, 1)])
    assert get(api, "in_stock=true")["count"] == 1  # 100.5: the cached count, up to a second old
    assert get(api, "in_stock=true")["count"] == 2  # 101.2: read again
    assert [call.operation for call in dynamodb_calls.calls].count("GetItem") == 2
