"""`page` and `limit` as the Django app read them (DRF's PageNumberPagination, page size 50, at
most 1,000), checked against a simple oracle: the rules as written in its documentation."""

import re
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import client_sees
from products.paging import page_number, page_size
from shop_common import settings as shop_settings
from shop_common.catalog import add_products
from shop_common.dynamo import client
from shop_common.errors import NotFound
from shop_common.models import NewProduct
from shoplocal.gateway.invoke import LocalApi
from shoplocal.template import table_definition

# An integer as Python's int() (and so DRF) reads it, in ASCII: spaces around, a sign, digits
# with single underscores between them.
_INTEGER = re.compile(r"\s*[+-]?[0-9]+(?:_[0-9]+)*\s*")


def oracle_limit(text: str | None) -> int:
    if text is None or not _INTEGER.fullmatch(text):
        return 50
    number = int(text.replace("_", ""))
    return 50 if number <= 0 else min(number, 1000)


def oracle_page(text: str | None) -> int | str | None:
    """The page number, "last", or None for a 404."""
    if text is None:
        return 1
    if text == "last":
        return "last"
    if not _INTEGER.fullmatch(text):
        return None
    number = int(text.replace("_", ""))
    return number if number >= 1 else None


PARAMETER_TEXT = (
    st.text(alphabet=" +-_0123456789.,abelstx\t", max_size=8)
    | st.integers(min_value=-2000, max_value=2000).map(str)
    | st.sampled_from(["last", "LAST", " last", "1e3", "0x10", "5_0", "_5", "5_", "--1", "1,2", "3,last"])
)


@given(PARAMETER_TEXT)
def test_limit_follows_the_django_rule(text: str) -> None:
    # A value with commas: API Gateway joined a repeated parameter, whose last value counts.
    assert page_size(text) == oracle_limit(text.rpartition(",")[2])


@given(PARAMETER_TEXT)
def test_page_follows_the_django_rule(text: str) -> None:
    expected = oracle_page(text.rpartition(",")[2])
    if expected is None:
        with pytest.raises(NotFound):
            page_number(text)
    else:
        assert page_number(text) == (None if expected == "last" else expected)


def test_digits_of_any_script_count_as_python_reads_them() -> None:
    assert (page_size("\u0661\u0662"), page_number("\u0663")) == (12, 3)  # Arabic-Indic 12 and 3, as in DRF


def test_a_repeated_parameter_as_powertools_passes_it_counts_with_its_last_value() -> None:
    assert (page_size(["2", "7"]), page_number(["1", "last"])) == (7, None)


def test_absent_parameters_are_page_1_of_50() -> None:
    assert (page_number(None), page_size(None)) == (1, 50)


def recreate_table() -> None:
    client().delete_table(TableName=shop_settings.table_name())
    client().create_table(TableName=shop_settings.table_name(), **table_definition())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    size=st.integers(min_value=0, max_value=12),
    limit=st.none() | st.sampled_from(["0", "-3", "x", "", "1", "2", "5", "1.0", " 3 ", "2000"]),
    page=st.none() | st.sampled_from(["1", "2", "3", "7", "0", "-1", "x", "", "last", "2.0", " 2"]),
)
def test_any_page_and_limit_answer_the_oracles_slice_or_404(
    api: LocalApi, size: int, limit: str | None, page: str | None
) -> None:
    recreate_table()
    products = [
        client_sees(product.to_json())
        for product in add_products([NewProduct(name=f"P{n}", price=Decimal(n) / 4, quantity=n) for n in range(size)])
    ]
    query = {name: value for name, value in (("page", page), ("limit", limit)) if value is not None}
    response = api.request("GET", "/api/products", query_string=urlencode(query))
    per_page = oracle_limit(limit)
    number = oracle_page(page)
    last = max(1, -(-size // per_page))
    if number == "last":
        number = last
    if number is None or not isinstance(number, int) or number > last:
        assert response.status == 404
        assert response.json() == {"detail": "Invalid page.", "code": "invalid_page"}
        return
    assert response.status == 200
    body: dict[str, Any] = response.json()
    assert body["count"] == size
    assert body["results"] == products[(number - 1) * per_page : number * per_page]
    assert (body["next"] is None) == (number == last)
    assert (body["previous"] is None) == (number == 1)


# --- the same rules on the filtered listings (our additions) -------------------------------------

FILTERED = [
    "in_stock=true",  # GSI3, id order
    "ordering=-price",  # GSI2, both stock partitions merged
    "in_stock=true&ordering=price",
    "min_price=0.50&max_price=8&ordering=price",  # GSI2 range (a capped count)
    "min_price=0.50&max_price=8",  # a price range in id order: a window
    "search=p",  # a search: a window
]


def _walk(api: LocalApi, query: str) -> list[dict[str, Any]]:
    pages = [api.request("GET", "/api/products", query_string=query).json()]
    while pages[-1]["next"]:
        pages.append(api.request("GET", "/api/products", query_string=urlsplit(pages[-1]["next"]).query).json())
    return [product for page in pages for product in page["results"]]


@pytest.mark.parametrize("filters", FILTERED)
def test_filtered_listings_read_page_and_limit_as_the_plain_one(api: LocalApi, filters: str) -> None:
    add_products([NewProduct(name=f"P{n}", price=Decimal(n) / 2, quantity=n % 3) for n in range(1, 24)])
    every = _walk(api, f"{filters}&limit=4")
    assert every
    last = api.request("GET", "/api/products", query_string=f"{filters}&limit=4&page=last").json()
    assert last["results"] == every[(len(every) - 1) // 4 * 4 :]
    assert last["next"] is None
    for page in ("0", "-1", "x", str(len(every) // 4 + 2)):
        response = api.request("GET", "/api/products", query_string=f"{filters}&limit=4&page={page}")
        assert (response.status, response.json()["detail"]) == (404, "Invalid page.")
    for limit in ("0", "abc", "-2"):
        assert _walk(api, f"{filters}&limit={limit}") == every  # the default 50: one page
    assert len(api.request("GET", "/api/products", query_string=f"{filters}&limit=5000").json()["results"]) == len(every)


def test_a_page_of_1000_filtered_products_reads_them_100_at_a_time(api: LocalApi, dynamodb_calls: Any) -> None:
    add_products([NewProduct(name=f"Mug {n}", price=Decimal(n) / 4, quantity=1) for n in range(1, 1003)])
    for query in ("in_stock=true&limit=1000", "ordering=price&limit=1000", "search=mug&limit=1000"):
        dynamodb_calls.clear()
        page = api.request("GET", "/api/products", query_string=query).json()
        assert len(page["results"]) == 1000
        assert dynamodb_calls.operations.count("BatchGetItem") == 10
        assert all(
            len(call.params["RequestItems"][shop_settings.table_name()]["Keys"]) <= 100
            for call in dynamodb_calls.calls
            if call.operation == "BatchGetItem"
        )
