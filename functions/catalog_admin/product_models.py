"""Request and response shapes of the staff catalogue API.

Fields follow the product as the public listing shows it (`shop_common.models`), with the
strictness of a JSON API: integers are JSON integers (never strings or booleans), prices
decimal strings or numbers with at most two places, unknown fields (`id` among them) a 400.
"""

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from shop_common.json_types import JsonDecimal, JsonInteger
from shop_common.models import SKU_PATTERN
from shop_common.stock import MAX_STOCK

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, Field(max_length=10_000)]
Price = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2), JsonDecimal]
Stock = Annotated[int, Field(ge=0, le=MAX_STOCK), JsonInteger]
Sku = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=SKU_PATTERN)]


class ProductCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    description: Description = ""
    price: Price
    quantity_in_stock: Stock
    sku: Sku | None = Field(default=None, description="Unique when set (case-sensitive)")


class ProductChanges(BaseModel):
    """Any fields but `id`; `sku: null` removes the SKU."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    description: Description | None = None
    price: Price | None = None
    quantity_in_stock: Stock | None = None
    sku: Sku | None = None

    @field_validator("name", "description", "price", "quantity_in_stock", mode="before")
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
    price: Annotated[str, Field(pattern=r"^\d+\.\d{2}$")]  # two decimal places, e.g. "19.99"
    quantity_in_stock: Annotated[int, Field(ge=0)]
    sku: str | None


class StockLevel(BaseModel):
    id: Annotated[int, Field(ge=1)]
    quantity_in_stock: Annotated[int, Field(ge=0)]
