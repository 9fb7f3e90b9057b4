"""DynamoDB access for orders (see docs/data-model.md).

Items:
- order     PK=USER#<user id>  SK=ORDER#<order id, 16 digits>  id, user, created, parts
- id guard  PK=ORDER#<order id>  SK=ORDER  user   (makes ids unique; serves "order by id")

Order ids grow with time, so a user's orders read newest first straight off the sort key.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from botocore.exceptions import ClientError

from order_models import Order, OrderPart
from shop_common import settings
from shop_common.catalog import product_key
from shop_common.dynamo import client, from_attributes, to_attributes

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


@dataclass(frozen=True)
class StockShortage:
    product: int
    requested: int
    available: int | None  # None: the product no longer exists


class OrderRejected(Exception):
    """The transaction was cancelled because some products lack stock (or vanished)."""

    def __init__(self, shortages: list[StockShortage]) -> None:
        super().__init__(f"{len(shortages)} products short")
        self.shortages = shortages


class OrderNotWritten(Exception):
    """The transaction was cancelled for a reason worth retrying (a conflict, an id collision)."""


def _user_pk(user_id: int) -> str:
    return f"USER#{user_id}"


def _order_sk(order_id: int) -> str:
    return f"ORDER#{order_id:016d}"


def _order_item(order: Order) -> dict[str, Any]:
    return to_attributes(
        {
            "PK": _user_pk(order.user),
            "SK": _order_sk(order.id),
            "id": order.id,
            "user": order.user,
            "created": order.created,
            "parts": [part.model_dump() for part in order.parts],
        }
    )


def _order_from_item(item: Mapping[str, Any]) -> Order:
    values = from_attributes(item)
    return Order(
        id=int(values["id"]),
        user=int(values["user"]),
        created=values["created"],
        parts=[
            OrderPart(product=int(p["product"]), quantity_in_order=int(p["quantity_in_order"]), product_name=p["product_name"])
            for p in values["parts"]
        ],
    )


def write_order(order: Order, quantities: Mapping[int, int]) -> None:
    """Decrement every product's stock and record the order, all or nothing.

    One TransactWriteItems: a conditional decrement per product (the product exists and has
    enough stock), the order, and the id guard. Raises OrderRejected naming the products whose
    condition failed, or OrderNotWritten when the cancellation had another cause.
    """
    table = settings.table_name()
    writes: list[TransactWriteItemTypeDef] = [
        {
            "Update": {
                "TableName": table,
                "Key": product_key(product_id),
                "UpdateExpression": "SET quantity_in_stock = quantity_in_stock - :quantity",
                "ConditionExpression": "attribute_exists(PK) AND quantity_in_stock >= :quantity",
                "ExpressionAttributeValues": to_attributes({":quantity": quantity}),
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
        for product_id, quantity in quantities.items()
    ]
    writes.append({"Put": {"TableName": table, "Item": _order_item(order), "ConditionExpression": "attribute_not_exists(PK)"}})
    guard = to_attributes({"PK": f"ORDER#{order.id}", "SK": "ORDER", "user": order.user})
    writes.append({"Put": {"TableName": table, "Item": guard, "ConditionExpression": "attribute_not_exists(PK)"}})
    try:
        client().transact_write_items(TransactItems=writes)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
            raise
        reasons: list[Any] = list(error.response.get("CancellationReasons", []))
        _raise_for_cancellation(reasons, list(quantities.items()))


def _raise_for_cancellation(reasons: list[Mapping[str, Any]], requested: list[tuple[int, int]]) -> NoReturn:
    shortages = []
    for (product_id, quantity), reason in zip(requested, reasons, strict=False):
        if reason.get("Code") == "ConditionalCheckFailed":
            old = from_attributes(reason.get("Item") or {})
            available = int(old["quantity_in_stock"]) if "quantity_in_stock" in old else None
            shortages.append(StockShortage(product_id, quantity, available))
    if shortages:
        raise OrderRejected(shortages)
    codes = sorted({str(reason.get("Code")) for reason in reasons} - {"None"})
    raise OrderNotWritten(", ".join(codes) or "unknown")


def orders_of(user_id: int, limit: int, before_order_id: int | None = None) -> tuple[list[Order], bool]:
    """A user's orders, newest first, and whether older ones remain.

    The partition key is always the caller's own, so no cursor can reach another user's orders.
    Reads limit + 1 items to know whether there is a next page.
    """
    query: dict[str, Any] = {
        "TableName": settings.table_name(),
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :orders)",
        "ExpressionAttributeValues": to_attributes({":pk": _user_pk(user_id), ":orders": "ORDER#"}),
        "ScanIndexForward": False,
        "Limit": limit + 1,
    }
    if before_order_id is not None:
        query["ExclusiveStartKey"] = to_attributes({"PK": _user_pk(user_id), "SK": _order_sk(before_order_id)})
    items: list[dict[str, Any]] = []
    while len(items) <= limit:
        response = client().query(**query)
        items.extend(response.get("Items", []))
        if "LastEvaluatedKey" not in response:
            break
        query["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        query["Limit"] = limit + 1 - len(items)
    return [_order_from_item(item) for item in items[:limit]], len(items) > limit
