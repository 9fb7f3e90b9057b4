"""Request and response shapes of the orders API (the Django app's, field for field)."""

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from shop_common.json_types import JsonInteger

# Distinct products one order may hold. A DynamoDB transaction holds at most 100 items and an
# order uses two of its own (the order and its id guard), so 98 would fit; 50 leaves headroom
# for later items (offers, idempotency) and keeps the transaction's latency predictable.
MAX_DISTINCT_PRODUCTS = 50
# Parts listed in one request (a product may appear more than once; totals are what count).
MAX_PARTS = 200
MAX_QUANTITY = 1_000_000


class OrderPartRequest(BaseModel):
    product: Annotated[int, Field(ge=1, le=2**53), JsonInteger]
    quantity_in_order: Annotated[int, Field(ge=1, le=MAX_QUANTITY), JsonInteger]


# Money in JSON: a decimal string with exactly two places, e.g. "19.99" (as prices are).
MoneyText = Annotated[str, Field(pattern=r"^\d{1,13}\.\d{2}$", examples=["19.99"])]


class QuoteRequest(BaseModel):
    parts: Annotated[list[OrderPartRequest], Field(min_length=1, max_length=MAX_PARTS)]


class OrderRequest(QuoteRequest):
    # The total the client showed (from a quote): if the order would cost anything else, it is
    # refused with 409 `price_changed` and the fresh quote, and nothing is written.
    expected_total: MoneyText | None = None


class OrderPart(BaseModel):
    product: Annotated[int, Field(ge=1)]
    quantity_in_order: Annotated[int, Field(ge=1)]
    product_name: str
    # The price at the moment of the order; null for orders placed before prices were recorded.
    unit_price: MoneyText | None = None
    line_total: MoneyText | None = None  # unit_price x quantity_in_order
    discount: MoneyText | None = None  # what offers took off this line


class AppliedOfferJson(BaseModel):
    id: Annotated[int, Field(ge=1)]
    name: str
    amount: MoneyText


class Order(BaseModel):
    id: Annotated[int, Field(ge=1, lt=2**53)]  # exact in JavaScript
    parts: Annotated[list[OrderPart], Field(min_length=1)]
    # ISO 8601 in UTC, e.g. "2026-11-24T09:00:00.123456Z"
    created: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")]
    user: Annotated[int, Field(ge=1)]
    # `placed` until cancelled (orders placed before statuses existed read as `placed`).
    status: Literal["placed", "cancelled"] = "placed"
    # What it cost: null for orders placed before prices were recorded.
    subtotal: MoneyText | None = None  # the lines' totals
    discount_total: MoneyText | None = None  # the lines' discounts
    total: MoneyText | None = None  # subtotal - discount_total
    currency: str | None = None
    offers: list[AppliedOfferJson] = []


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
