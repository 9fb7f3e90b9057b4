"""Request and response shapes of the orders API (the Django app's, field for field)."""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field

# Distinct products one order may hold. A DynamoDB transaction holds at most 100 items and an
# order uses two of its own (the order and its id guard), so 98 would fit; 50 leaves headroom
# for later items (offers, idempotency) and keeps the transaction's latency predictable.
MAX_DISTINCT_PRODUCTS = 50
# Parts listed in one request (a product may appear more than once; totals are what count).
MAX_PARTS = 200
MAX_QUANTITY = 1_000_000


def _json_integer(value: Any) -> Any:
    # JSON Schema's `integer`, exactly: a JSON number without a fraction (1, 1.0), never a string
    # or a boolean, which pydantic's lax mode would take ("5", "05", even "5_0" as 50, true as 1).
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be an integer")
    return value


# The validator comes after the bounds so that they stay JSON Schema's `minimum`/`maximum` in the
# OpenAPI document (after it, pydantic would write its own `ge`/`le` there).
JsonInteger = BeforeValidator(_json_integer)


class OrderPartRequest(BaseModel):
    product: Annotated[int, Field(ge=1, le=2**53), JsonInteger]
    quantity_in_order: Annotated[int, Field(ge=1, le=MAX_QUANTITY), JsonInteger]


class OrderRequest(BaseModel):
    parts: Annotated[list[OrderPartRequest], Field(min_length=1, max_length=MAX_PARTS)]


class OrderPart(BaseModel):
    product: Annotated[int, Field(ge=1)]
    quantity_in_order: Annotated[int, Field(ge=1)]
    product_name: str


class Order(BaseModel):
    id: Annotated[int, Field(ge=1, lt=2**53)]  # exact in JavaScript
    parts: Annotated[list[OrderPart], Field(min_length=1)]
    # ISO 8601 in UTC, e.g. "2026-11-24T09:00:00.123456Z"
    created: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")]
    user: Annotated[int, Field(ge=1)]
    # `placed` until cancelled (orders placed before statuses existed read as `placed`).
    status: Literal["placed", "cancelled"] = "placed"
