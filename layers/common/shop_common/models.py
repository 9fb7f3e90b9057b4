"""Entities that more than one function reads."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, Field, StringConstraints

from shop_common import settings
from shop_common.money import CENT

PRICE_QUANTUM = CENT
# A stock-keeping unit: the administrator's own key for a product, unique in the catalogue
# (case-sensitive, no spaces), so reloading a catalogue file updates rather than duplicates.
SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/-]*$"
# As the Django app's `Product.name` (max_length=255), so every product it held can move over.
NAME_MAX_LENGTH = 255


class NewProduct(BaseModel):
    """A product as an administrator supplies it; the catalogue assigns the id."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX_LENGTH)]
    description: Annotated[str, Field(max_length=10_000)] = ""
    price: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
    # The stock, `quantity` as the Django app named it (files written for earlier versions of
    # `shopctl load-products` name it `quantity_in_stock`: still read). Stored in the table as
    # `quantity_in_stock` (docs/data-model.md).
    quantity: Annotated[int, Field(ge=0, validation_alias=AliasChoices("quantity", "quantity_in_stock"))]
    sku: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=SKU_PATTERN)] | None = None


def image_url(key: str) -> str:
    """Where a checked photo is served from, by its key in the images bucket."""
    return f"{settings.images_base_url()}/{key}"


class ProductImage(BaseModel):
    """A checked photo of a product: its bytes were read after upload (real type, dimensions)."""

    id: str
    key: str  # the object's key in the images bucket; its public URL is built from it
    alt: str = ""
    width: int
    height: int

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": image_url(self.key),
            "alt": self.alt,
            "width": self.width,
            "height": self.height,
        }


class Product(NewProduct):
    id: int
    images: list[ProductImage] = []  # in display order

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            # A JSON number, exactly the price (shop_common.api writes Decimals so): as the Django app.
            "price": self.price.quantize(PRICE_QUANTUM),
            "quantity": self.quantity,
            "sku": self.sku,
            "images": [image.to_json() for image in self.images],
        }


@dataclass(frozen=True, slots=True)
class ProductView:
    """A product as the public reads show it: its id, and the JSON `Product.to_json` gives.
    Built straight from the stored item (shop_common.catalog), which was validated when it was
    written, so a page of 50 costs ~0.05 ms of CPU instead of ~0.25 ms through `Product`."""

    id: int
    json: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return self.json


class UserProfile(BaseModel):
    """A profile as the API shows it (the auth function's /api/me and /api/register, and the staff
    users function's listing)."""

    id: int
    username: str
    email: str
    first_name: str
    last_name: str
    is_staff: bool
    date_joined: str
