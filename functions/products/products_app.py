"""Lambda handler for GET /api/products and GET /api/products/{product_id}: HTTP in and out,
nothing else."""

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from filtered_listing import COUNT_CAP, MAX_OFFSET, PRICE_WINDOW
from filtered_listing import filtered_page as filtered_product_page
from listing import DEFAULT_LIMIT, product_page
from product_query import MAX_SEARCH_WORDS, PRICE_PATTERN, InStock, Ordering, product_query
from product_search import SEARCH_WINDOW
from shop_common.api import CursorQuery, absolute_url, create_resolver, documented, json_response
from shop_common.catalog import get_product
from shop_common.errors import NotFound
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
    price: Annotated[str, Field(pattern=r"^\d+\.\d{2}$")]  # two decimal places, e.g. "19.99"
    quantity_in_stock: Annotated[int, Field(ge=0)]
    sku: str | None
    images: list[ImageJson]  # in display order


class ProductPageJson(BaseModel):
    count: Annotated[int, Field(ge=0)]
    next: str | None
    previous: str | None
    results: list[ProductJson]


PRICE_DESCRIPTION = "Products priced at least / at most this (inclusive): a decimal, at most 2 places."


@app.get(
    "/api/products",
    summary="Products, a page at a time: filtered by price, stock and name, in id, price or relevance order",
    description=(
        "Filters combine. `count` is exact, except with a price range ordered by price, where it is "
        f"min(matches, {COUNT_CAP:,}), and within a search's window of {SEARCH_WINDOW:,} candidates. "
        f"A price range in id order lists at most {PRICE_WINDOW:,} matches (400 naming `ordering` beyond). "
        f"Typed page numbers of a list ordered by price or filtered by stock reach {MAX_OFFSET:,} products; "
        "`next` links reach any depth."
    ),
    responses={
        200: documented("A page of products; `next`/`previous` are absolute URLs or null", ProductPageJson),
        404: {"description": "A page past the end"},
    },
)
def list_products(
    page: Annotated[int, Query(ge=1, le=1_000_000_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=1_000_000_000)] = DEFAULT_LIMIT,
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
    query = product_query(min_price, max_price, in_stock, ordering, search)
    result = product_page(page, limit, cursor) if query.is_plain else filtered_product_page(query, page, limit, cursor)

    def link(query: dict[str, Any] | None) -> str | None:
        return absolute_url(app.current_event, query) if query else None

    return json_response(
        200,
        {
            "count": result.count,
            "next": link(result.next_query),
            "previous": link(result.previous_query),
            "results": [product.to_json() for product in result.results],
        },
        {"Cache-Control": PUBLIC_CACHE_CONTROL},
    )


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
