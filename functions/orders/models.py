"""Request and response shapes of the orders API (the Django app's, field for field). Money is a
Decimal of whole cents, written as an exact JSON number (shop_common.money)."""

import math
import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field, WithJsonSchema

from shop_common.money import MoneyInput, MoneyNumber
from shop_common.orders import AppliedOfferJson, OrderPart

# Distinct products one order may hold. A DynamoDB transaction holds at most 100 items and an
# order uses two of its own (the order and its id guard), so 98 would fit; 50 leaves headroom
# for later items (offers, idempotency) and keeps the transaction's latency predictable.
MAX_DISTINCT_PRODUCTS = 50
# Parts listed in one request (a product may appear more than once; totals are what count).
MAX_PARTS = 200
MAX_QUANTITY = 1_000_000


# DRF's IntegerField read a string as an integer once a trailing ".0", ".00"... was gone. Here
# the digits are ASCII and the string's value is within the field's bounds, as the OpenAPI
# document's pattern for each field says: positive ids of at most 15 digits (below 2^53),
# quantities 1-1,000,000.
_SPACE = "[ \t\n\r]*"
PRODUCT_TEXT = f"^{_SPACE}\\+?0*[1-9][0-9]{{0,14}}(\\.0*)?{_SPACE}$"
QUANTITY_TEXT = f"^{_SPACE}\\+?0*([1-9][0-9]{{0,5}}|1000000)(\\.0*)?{_SPACE}$"
_MAX_INTEGER_TEXT = 64  # DRF allowed 1,000 characters; digits with spaces around need far fewer


def _lenient_integer(text_pattern: str) -> BeforeValidator:
    """An integer as the Django app (DRF's IntegerField) read one: a JSON integer, a number with
    no fraction (2.0), or a string of one matching `text_pattern` (" 2 ", "2", "2.0"); never a
    boolean, a fraction, a list or an object. Bounds are checked after this."""
    pattern = re.compile(text_pattern)

    def read(value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("must be an integer")
        if isinstance(value, int):
            return value
        if isinstance(value, Decimal | float):
            if not math.isfinite(value) or value != int(value):
                raise ValueError("must be an integer")
            return int(value)
        if isinstance(value, str) and len(value) <= _MAX_INTEGER_TEXT and pattern.match(value):
            return int(value.strip(" \t\n\r").partition(".")[0])
        raise ValueError("must be an integer")

    return BeforeValidator(read)


def _lenient_schema(minimum: int, maximum: int, text_pattern: str, description: str) -> WithJsonSchema:
    """What the OpenAPI document says such an integer is."""
    schema = {
        "anyOf": [
            {"type": "integer", "minimum": minimum, "maximum": maximum},
            {"type": "string", "pattern": text_pattern, "maxLength": _MAX_INTEGER_TEXT},
        ],
        "description": f"{description}A JSON integer; as the Django app also read it, a number without a "
        'fraction (2.0) or a string of digits ("2", " 2 ", "2.0").',
    }
    return WithJsonSchema(schema, mode="validation")


ProductRef = Annotated[
    int,
    Field(ge=1, le=2**53),
    _lenient_integer(PRODUCT_TEXT),
    _lenient_schema(1, 2**53, PRODUCT_TEXT, "The product's id. "),
]
Quantity = Annotated[
    int,
    Field(ge=1, le=MAX_QUANTITY),
    _lenient_integer(QUANTITY_TEXT),
    _lenient_schema(1, MAX_QUANTITY, QUANTITY_TEXT, ""),
]


class OrderPartRequest(BaseModel):
    product: ProductRef
    quantity_in_order: Quantity


class QuoteRequest(BaseModel):
    parts: Annotated[list[OrderPartRequest], Field(min_length=1, max_length=MAX_PARTS)]


class OrderRequest(QuoteRequest):
    # The total the client showed (from a quote): if the order would cost anything else, it is
    # refused with 409 `price_changed` and the fresh quote, and nothing is written.
    expected_total: MoneyInput | None = None


class OfferHintJson(BaseModel):
    offer: int
    product: int
    add_quantity: int
    message: str


class QuoteJson(BaseModel):
    """What `POST /api/order` would charge for the same body, now (nothing is written)."""

    parts: list[OrderPart]
    subtotal: MoneyNumber
    discount_total: MoneyNumber
    total: MoneyNumber
    currency: str
    offers: list[AppliedOfferJson]
    hints: list[OfferHintJson]  # e.g. "Add 1 more of product 7 to get 1 free": never added for you
