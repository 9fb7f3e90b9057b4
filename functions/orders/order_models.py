"""Request and response shapes of the orders API (the Django app's, field for field)."""

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field

from shop_common.orders import AppliedOfferJson, MoneyText, OrderPart

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


class QuoteRequest(BaseModel):
    parts: Annotated[list[OrderPartRequest], Field(min_length=1, max_length=MAX_PARTS)]


class OrderRequest(QuoteRequest):
    # The total the client showed (from a quote): if the order would cost anything else, it is
    # refused with 409 `price_changed` and the fresh quote, and nothing is written.
    expected_total: MoneyText | None = None


class OfferHintJson(BaseModel):
    offer: int
    product: int
    add_quantity: int
    message: str


class QuoteJson(BaseModel):
    """What `POST /api/order` would charge for the same body, now (nothing is written)."""

    parts: list[OrderPart]
    subtotal: MoneyText
    discount_total: MoneyText
    total: MoneyText
    currency: str
    offers: list[AppliedOfferJson]
    hints: list[OfferHintJson]  # e.g. "Add 1 more of product 7 to get 1 free": never added for you
