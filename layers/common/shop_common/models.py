"""Entities that more than one function reads."""

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, Field

PRICE_QUANTUM = Decimal("0.01")


class NewProduct(BaseModel):
    """A product as an administrator supplies it; the catalogue assigns the id."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(max_length=10_000)] = ""
    price: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
    quantity_in_stock: Annotated[int, Field(ge=0)]


class Product(NewProduct):
    id: int

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            # The Django app rendered its DecimalField as a string with two places ("19.99").
            "price": str(self.price.quantize(PRICE_QUANTUM)),
            "quantity_in_stock": self.quantity_in_stock,
        }
