"""Request and response shapes of the orders API (the Django app's, field for field)."""

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field

# Distinct products one order may hold. A DynamoDB transaction holds at most 100 items and an
# order uses two of its own (the order and its id guard), so 98 would fit; 50 leaves headroom
# for later items (offers, idempotency) and keeps the transaction's latency predictable.
MAX_DISTINCT_PRODUCTS = 50
# Parts listed in one request (a product may appear more than once; totals are what count).
MAX_PARTS = 200
MAX_QUANTITY = 1_000_000


def _reject_booleans(value: Any) -> Any:
    # pydantic's lax mode turns true/false into 1/0; a boolean is never a valid id or quantity.
    if isinstance(value, bool):
        raise ValueError("must be an integer, not a boolean")
    return value


StrictPositiveInt = Annotated[int, BeforeValidator(_reject_booleans), Field(ge=1)]


class OrderPartRequest(BaseModel):
    product: Annotated[StrictPositiveInt, Field(le=2**53)]
    quantity_in_order: Annotated[StrictPositiveInt, Field(le=MAX_QUANTITY)]


class OrderRequest(BaseModel):
    parts: Annotated[list[OrderPartRequest], Field(min_length=1, max_length=MAX_PARTS)]


class OrderPart(BaseModel):
    product: int
    quantity_in_order: int
    product_name: str


class Order(BaseModel):
    id: int
    parts: list[OrderPart]
    created: str  # ISO 8601, UTC, e.g. "2026-11-24T09:00:00.123456Z"
    user: int
