"""An order as the API shows it: the response model, and how it is read off the stored item.

The orders function answers with it; the events function publishes it (`order.placed`,
`order.cancelled`), so an event carries exactly what `GET /api/orders/{id}` shows.
"""

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from shop_common.dynamo import from_attributes

# Money in JSON: a decimal string with exactly two places, e.g. "19.99" (as prices are).
MoneyText = Annotated[str, Field(pattern=r"^\d{1,13}\.\d{2}$", examples=["19.99"])]


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


def order_from_item(item: Mapping[str, Any]) -> Order:
    values = from_attributes(item)
    return Order.model_validate(
        {
            **{name: values[name] for name in ("subtotal", "discount_total", "total", "currency") if name in values},
            "id": int(values["id"]),
            "user": int(values["user"]),
            "created": values["created"],
            "status": values.get("status", "placed"),  # orders placed before statuses existed
            "offers": [
                AppliedOfferJson(id=int(offer["id"]), name=offer["name"], amount=offer["amount"])
                for offer in values.get("offers", [])
            ],
            "parts": [
                OrderPart(
                    product=int(p["product"]),
                    quantity_in_order=int(p["quantity_in_order"]),
                    product_name=p["product_name"],
                    # None for orders placed before prices were recorded
                    unit_price=p.get("unit_price"),
                    line_total=p.get("line_total"),
                    discount=p.get("discount"),
                )
                for p in values["parts"]
            ],
        }
    )


def order_json(item: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON the API shows for a stored order item (DynamoDB attribute values)."""
    return order_from_item(item).model_dump()
