"""Lambda handler for GET /api/products: HTTP in and out, nothing else."""

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from listing import DEFAULT_LIMIT, product_page
from shop_common.api import CursorQuery, absolute_url, create_resolver, documented, json_response
from shop_common.snapstart import register_hooks

logger = Logger()
app = create_resolver()
register_hooks()  # SnapStart: prepare before the snapshot, refresh after restore


class ProductJson(BaseModel):
    id: Annotated[int, Field(ge=1)]
    name: str
    description: str
    price: Annotated[str, Field(pattern=r"^\d+\.\d{2}$")]  # two decimal places, e.g. "19.99"
    quantity_in_stock: Annotated[int, Field(ge=0)]


class ProductPageJson(BaseModel):
    count: Annotated[int, Field(ge=0)]
    next: str | None
    previous: str | None
    results: list[ProductJson]


@app.get(
    "/api/products",
    summary="Products in id order, a page at a time",
    responses={
        200: documented("A page of products; `next`/`previous` are absolute URLs or null", ProductPageJson),
        404: {"description": "A page past the end"},
    },
)
def list_products(
    page: Annotated[int, Query(ge=1, le=1_000_000_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=1_000_000_000)] = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Response[str]:
    result = product_page(page, limit, cursor)

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
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
