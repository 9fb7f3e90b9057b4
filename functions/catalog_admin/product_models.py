"""Request and response shapes of the staff catalogue API.

Fields follow the product as the public listing shows it (`shop_common.models`), with the
strictness of a JSON API: integers are JSON integers (never strings or booleans), prices JSON
numbers or decimal strings with at most two places, unknown fields (`id` among them) a 400.
"""

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from shop_common.json_types import JsonInteger
from shop_common.models import NAME_MAX_LENGTH, SKU_PATTERN
from shop_common.money import MoneyNumber, WholeCents, amount_input, amount_schema
from shop_common.stock import MAX_STOCK

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX_LENGTH)]
Description = Annotated[str, Field(max_length=10_000)]
# A JSON number (19.99) or a decimal string ("19.99"), at most two places, below 10^10.
Price = Annotated[
    Decimal,
    Field(ge=0, max_digits=12, decimal_places=2),
    amount_input(10),
    WholeCents,
    amount_schema(10, 'The price: a JSON number (19.99) or a decimal string ("19.99"), at most two places.'),
]
Stock = Annotated[int, Field(ge=0, le=MAX_STOCK), JsonInteger]
Sku = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=SKU_PATTERN)]


class ProductCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    description: Description = ""
    price: Price
    quantity: Stock
    sku: Sku | None = Field(default=None, description="Unique when set (case-sensitive)")


class ProductChanges(BaseModel):
    """Any fields but `id`; `sku: null` removes the SKU."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    description: Description | None = None
    price: Price | None = None
    quantity: Stock | None = None
    sku: Sku | None = None

    @field_validator("name", "description", "price", "quantity", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Absent means "unchanged"; only the SKU can be removed (null).
        if value is None:
            raise ValueError("may not be null")
        return value

    def changes(self) -> dict[str, Any]:
        """The fields the request sent, validated."""
        return self.model_dump(exclude_unset=True)


class StockChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delta: Annotated[int, Field(ge=-MAX_STOCK, le=MAX_STOCK), JsonInteger]


class StaffProduct(BaseModel):
    id: Annotated[int, Field(ge=1)]
    name: str
    description: str
    price: MoneyNumber  # a JSON number, exact to the cent: 19.99
    quantity: Annotated[int, Field(ge=0, description="The stock")]
    sku: str | None


class StockLevel(BaseModel):
    id: Annotated[int, Field(ge=1)]
    quantity: Annotated[int, Field(ge=0, description="The stock")]
