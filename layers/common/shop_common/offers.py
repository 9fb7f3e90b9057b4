"""Special offers: their kinds and terms, as staff define them (docs/offers.md has the semantics).

The models validate what staff may submit; `Offer` is an offer as stored: its id, its terms, its
version and how many orders have used it so far. In the layer: the orders function prices with
them and the offers function manages them.
"""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from shop_common.json_types import JsonBoolean, JsonDateTime, JsonDecimal, JsonInteger, PlainDecimal

# Products one offer may name in each of its lists: bounded so that pricing work stays bounded.
MAX_OFFER_PRODUCTS = 50
# Units one buy_x_get_y application may take on either side ("buy 100, get 100").
MAX_OFFER_UNITS = 100

# Each value in its JSON type (shop_common.json_types), as the catalogue and users APIs take them.
ProductId = Annotated[int, Field(ge=1, le=2**53), JsonInteger]
ProductIds = Annotated[list[ProductId], Field(min_length=1, max_length=MAX_OFFER_PRODUCTS)]
# Amounts and percentages are JSON numbers written exactly (shop_common.money) or decimal
# strings on the way in; the API writes them as numbers (offer_json), the table as strings.
_WRITTEN_AS_A_NUMBER = WithJsonSchema({"type": "number"}, mode="serialization")

# A percentage with at most two places: 12.5 is 12.5 %, 100 makes the units free.
Percent = Annotated[Decimal, Field(gt=0, le=100, max_digits=5, decimal_places=2), JsonDecimal, PlainDecimal, _WRITTEN_AS_A_NUMBER]


def _two_places(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"))


# Amounts keep two places (whole cents).
Money = Annotated[
    Decimal, Field(ge=0, max_digits=12, decimal_places=2), JsonDecimal, AfterValidator(_two_places), _WRITTEN_AS_A_NUMBER
]
PositiveMoney = Annotated[
    Decimal, Field(gt=0, max_digits=12, decimal_places=2), JsonDecimal, AfterValidator(_two_places), _WRITTEN_AS_A_NUMBER
]
# The terms written as exact JSON numbers in the API's answers.
EXACT_NUMBER_TERMS = frozenset({"amount", "min_subtotal", "percent", "get_percent"})
Limit = Annotated[int, Field(ge=1, le=10**9), JsonInteger]
Priority = Annotated[int, Field(ge=0, le=1000), JsonInteger]
Units = Annotated[int, Field(ge=1, le=MAX_OFFER_UNITS), JsonInteger]
Moment = Annotated[AwareDatetime, JsonDateTime]
Flag = Annotated[bool, JsonBoolean]


def _distinct(ids: list[int], field: str) -> None:
    if len(set(ids)) != len(ids):
        raise ValueError(f"{field} lists a product more than once")


class OfferCommon(BaseModel):
    """What every kind of offer has."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    # Valid from `starts_at` (included) until `ends_at` (excluded); no end: valid until deleted.
    starts_at: Moment
    ends_at: Moment | None = None
    # Higher first: the order in which stacking offers apply, and the winner of a tie.
    priority: Priority = 0
    # Whether it combines with other offers; a non-stacking offer is always used alone.
    stacks: Flag = False
    # Orders that may use it, in all and per customer (None: no limit).
    max_uses: Limit | None = None
    max_uses_per_customer: Limit | None = None

    @model_validator(mode="after")
    def _window_is_not_empty(self) -> Self:
        if self.ends_at is not None and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self

    def valid_at(self, now: datetime) -> bool:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        return self.starts_at <= now and (self.ends_at is None or now < self.ends_at)


class BuyXGetY(OfferCommon):
    """Buy `buy_quantity` units among `buy_products`, get `get_quantity` units among
    `get_products` at `get_percent` % off; repeats for each full multiple, up to
    `max_applications` times in one order. The lists may be the same products, overlap or not."""

    kind: Literal["buy_x_get_y"]
    buy_products: ProductIds
    buy_quantity: Units
    get_products: ProductIds
    get_quantity: Units
    get_percent: Percent = Decimal(100)
    max_applications: Limit | None = None

    @model_validator(mode="after")
    def _products_are_distinct(self) -> Self:
        _distinct(self.buy_products, "buy_products")
        _distinct(self.get_products, "get_products")
        return self


class PercentOff(OfferCommon):
    """`percent` % off every unit of `products` (all products when None)."""

    kind: Literal["percent_off"]
    percent: Percent
    products: ProductIds | None = None

    @model_validator(mode="after")
    def _products_are_distinct(self) -> Self:
        if self.products is not None:
            _distinct(self.products, "products")
        return self


class AmountOff(OfferCommon):
    """`amount` off the order when its subtotal (before any discount) is at least `min_subtotal`."""

    kind: Literal["amount_off"]
    amount: PositiveMoney
    min_subtotal: Money = Decimal("0.00")


OfferTerms = Annotated[BuyXGetY | PercentOff | AmountOff, Field(discriminator="kind")]


class Offer(BaseModel):
    """An offer as stored: its terms, their version (every edit adds one), and the orders that
    used it (its usage counter, kept only while the offer has a usage limit)."""

    model_config = ConfigDict(frozen=True)

    id: Annotated[int, Field(ge=1, lt=2**53)]
    terms: OfferTerms
    times_used: Annotated[int, Field(ge=0)] = 0
    version: Annotated[int, Field(ge=1)] = 1

    @property
    def limited(self) -> bool:
        """Whether orders that use it are counted (it has a limit, overall or per customer)."""
        return self.terms.max_uses is not None or self.terms.max_uses_per_customer is not None

    def available(self, now: datetime, customer_uses: int) -> bool:
        """Valid now, and neither limit reached (`customer_uses`: orders of this customer that
        used it). The order's transaction re-checks both limits with conditions."""
        terms = self.terms
        return (
            terms.valid_at(now)
            and (terms.max_uses is None or self.times_used < terms.max_uses)
            and (terms.max_uses_per_customer is None or customer_uses < terms.max_uses_per_customer)
        )
