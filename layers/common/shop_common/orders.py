"""An order as the API shows it: the response model, and how it is read off the stored item.

The orders function answers with it; the events function publishes it (`order.placed`,
`order.cancelled`), so an event carries exactly what `GET /api/orders/{id}` shows.
"""

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from shop_common.dynamo import from_attributes
from shop_common.money import MoneyNumber


class OrderPart(BaseModel):
    # null where the product was deleted in the Django app before its data was imported (its
    # foreign key was set to null; `product_name` still names it). Products deleted here keep
    # their id in the orders.
    product: Annotated[
        Annotated[int, Field(ge=1)] | None,
        Field(description="The product's id; null in orders imported from the Django app whose product was deleted there"),
    ]
    # At least 1 for every order placed here; 0 in a few orders imported from the Django app,
    # which accepted zero quantities.
    quantity_in_order: Annotated[int, Field(ge=0)]
    product_name: str
    # The price at the moment of the order; null for orders placed before prices were recorded.
    unit_price: MoneyNumber | None = None
    line_total: MoneyNumber | None = None  # unit_price x quantity_in_order
    discount: MoneyNumber | None = None  # what offers took off this line


class AppliedOfferJson(BaseModel):
    id: Annotated[int, Field(ge=1)]
    name: str
    amount: MoneyNumber


class Order(BaseModel):
    id: Annotated[int, Field(ge=1, lt=2**53)]  # exact in JavaScript
    # At least one for every order placed here; none in orders imported from the Django app
    # whose parts were deleted there.
    parts: list[OrderPart]
    # ISO 8601 in UTC, e.g. "2026-11-24T09:00:00.123456Z"
    created: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")]
    user: Annotated[int, Field(ge=1)]
    # `placed` until cancelled (orders placed before statuses existed read as `placed`).
    status: Literal["placed", "cancelled"] = "placed"
    # What it cost: null for orders placed before prices were recorded.
    subtotal: MoneyNumber | None = None  # the lines' totals
    discount_total: MoneyNumber | None = None  # the lines' discounts
    total: MoneyNumber | None = None  # subtotal - discount_total
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
                    product=int(p["product"]) if p.get("product") is not None else None,
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
    """The JSON the API shows for a stored order item (DynamoDB attribute values); its amounts
    are Decimals, written as exact JSON numbers by `shop_common.money.exact_json`."""
    return order_from_item(item).model_dump()
