"""Lambda handler for GET /api/products and GET /api/products/{product_id}: HTTP in and out,
nothing else."""

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field, WithJsonSchema

from products.catalog_reads import get_product
from products.filtered_listing import COUNT_CAP, MAX_OFFSET, PRICE_WINDOW
from products.filtered_listing import filtered_page as filtered_product_page
from products.listing import product_page
from products.paging import DEFAULT_LIMIT, MAX_LIMIT, page_number, page_size
from products.query import MAX_SEARCH_WORDS, PRICE_PATTERN, InStock, Ordering, product_query
from products.search import SEARCH_WINDOW
from shop_common.api import (
    MAX_ESCAPED_BODY,
    CursorQuery,
    JsonText,
    absolute_url,
    create_resolver,
    documented,
    escaped_size,
    json_response,
    json_text,
)
from shop_common.errors import InvalidRequest, NotFound
from shop_common.money import money_json_schema
from shop_common.snapstart import register_hooks

logger = Logger()
app = create_resolver()
register_hooks()  # SnapStart: prepare before the snapshot, refresh after restore


# Public reads may be cached (browsers, CloudFront) this long: a page may show a stock up to
# this old, which is harmless as an order checks the stock itself, and takes load off the table.
PUBLIC_CACHE_CONTROL = "public, max-age=5"


class ImageJson(BaseModel):
    id: str
    url: str
    alt: str
    width: Annotated[int, Field(ge=1)]
    height: Annotated[int, Field(ge=1)]


class ProductJson(BaseModel):
    id: Annotated[int, Field(ge=1)]
    name: str
    description: str
    # A JSON number, the exact price (at most two places), as the Django app wrote it: 16.0, 1.64
    price: Annotated[float, WithJsonSchema(money_json_schema("The price: a JSON number, exact to the cent"))]
    quantity: Annotated[int, Field(ge=0, description="The stock")]
    sku: str | None
    images: list[ImageJson]  # in display order


class ProductPageJson(BaseModel):
    count: Annotated[int, Field(ge=0)]
    next: str | None
    previous: str | None
    results: list[ProductJson]


PRICE_DESCRIPTION = "Products priced at least / at most this (inclusive): a decimal, at most 2 places."


def _fitting(body: dict[str, Any], limit: int) -> JsonText:
    # A page of products written larger than a Lambda response may be is refused, with the page
    # size that would fit (only long descriptions and many photos make pages that large).
    text = json_text(body)
    size = escaped_size(text)
    if size <= MAX_ESCAPED_BODY:
        return JsonText(text)
    fits = max(1, limit * MAX_ESCAPED_BODY // size)
    message = f"This page would be {size / 1e6:.1f} MB, more than a response can carry: ask for fewer products (limit={fits})."
    raise InvalidRequest(message, code="page_too_large", errors=[{"field": "limit", "message": message}])


@app.get(
    "/api/products",
    summary="Products, a page at a time: filtered by price, stock and name, in id, price or relevance order",
    description=(
        f"`page` and `limit` as the Django app read them: `limit` 1-{MAX_LIMIT:,} (more: {MAX_LIMIT:,}; 0, negative or "
        f"not an integer: {DEFAULT_LIMIT}); `page` from 1, or `last` (0, negative, not an integer or past the end: 404 "
        '`{"detail": "Invalid page."}`). Filters combine. `count` is exact, except with a price range ordered by price, '
        f"where it is min(matches, {COUNT_CAP:,}), and within a search's window of {SEARCH_WINDOW:,} candidates. "
        f"A price range in id order lists at most {PRICE_WINDOW:,} matches (400 naming `ordering` beyond). "
        f"Typed page numbers of a list ordered by price or filtered by stock reach {MAX_OFFSET:,} products; "
        "`next` links and `page=last` reach any depth. A page whose JSON would pass what a response can carry "
        "(6 MB: 1,000 products with long descriptions) is a 400 `page_too_large` naming a `limit` that fits."
    ),
    responses={
        200: documented("A page of products; `next`/`previous` are absolute URLs or null", ProductPageJson),
        404: {
            "description": "A page past the end, or a `page` that is neither a positive integer nor `last`: "
            '{"detail": "Invalid page."}'
        },
    },
)
def list_products(
    page: Annotated[
        str | list[str] | None,
        Query(description="The page: 1 (the default), 2, ... or `last`; anything else is a 404. Given twice: the last."),
    ] = None,
    limit: Annotated[
        str | list[str] | None,
        Query(
            description=f"Products per page: 1-{MAX_LIMIT:,} ({DEFAULT_LIMIT} when absent, 0, negative or not an "
            "integer; more: 1,000). Given twice: the last."
        ),
    ] = None,
    cursor: CursorQuery = None,
    min_price: Annotated[str | None, Query(pattern=PRICE_PATTERN, max_length=13, description=PRICE_DESCRIPTION)] = None,
    max_price: Annotated[str | None, Query(pattern=PRICE_PATTERN, max_length=13, description=PRICE_DESCRIPTION)] = None,
    in_stock: Annotated[InStock | None, Query(description="Only products in stock (true, 1) or sold out (false, 0).")] = None,
    ordering: Annotated[
        Ordering | None,
        Query(description="id (the default), price or -price; with a price range the default is price, with a search relevance."),
    ] = None,
    search: Annotated[
        str | None,
        Query(
            max_length=200,
            description=f"Words (at most {MAX_SEARCH_WORDS}) that must each begin a word of the name; "
            "case, accents and punctuation are ignored, one typo is forgiven in the longest word.",
        ),
    ] = None,
) -> Response[str]:
    size = page_size(limit)
    number = page_number(page)
    query = product_query(min_price, max_price, in_stock, ordering, search)
    plain = query.is_plain
    result = product_page(number, size, cursor) if plain else filtered_product_page(query, number, size, cursor)

    def link(query: dict[str, Any] | None) -> str | None:
        return absolute_url(app.current_event, query) if query else None

    body = {
        "count": result.count,
        "next": link(result.next_query),
        "previous": link(result.previous_query),
        "results": [product.to_json() for product in result.results],
    }
    return json_response(200, _fitting(body, size), {"Cache-Control": PUBLIC_CACHE_CONTROL})


@app.get(
    "/api/products/<product_id>",
    summary="One product",
    responses={200: documented("The product", ProductJson), 404: {"description": "No product with that id"}},
)
def show_product(product_id: Annotated[int, Path(ge=1, le=2**53, description="The product's id")]) -> Response[str]:
    product = get_product(product_id)
    if product is None:
        raise NotFound("Not found.", errors=[{"field": "product_id", "message": f"No product with id {product_id}."}])
    return json_response(200, product.to_json(), {"Cache-Control": PUBLIC_CACHE_CONTROL})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
