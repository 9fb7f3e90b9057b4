"""An order as it is stored: its item in its owner's partition and its id guard (the items are
described in the orders function's `orders/store.py`; docs/data-model.md). Written by the orders
function when an order is placed and by `shopctl import-django` for past orders, the same way."""

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from shop_common import settings
from shop_common.dynamo import to_attributes
from shop_common.keys import order_guard_key, order_sort_key, orders_partition
from shop_common.offer_store import CountedUse
from shop_common.order_index import index_keys
from shop_common.orders import Order

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


def order_item(order: Order, counted: Sequence[CountedUse]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "PK": orders_partition(order.user),
        "SK": order_sort_key(order.id),
        "status": order.status,
        # Money as decimal strings with two places ("39.98"), as orders have always been stored.
        **order.model_dump(mode="json", exclude_none=True),
        **index_keys(order.id, order.user, order.status),
    }
    if counted:  # what a cancellation gives back to the offers' counters
        values["counted_uses"] = [use.to_json() for use in counted]
    return to_attributes(values)


def order_record_writes(order: Order, counted: Sequence[CountedUse] = ()) -> "list[TransactWriteItemTypeDef]":
    """The puts recording an order, for its transaction: the order in its owner's partition and
    its id guard, both on condition that they are new (an id taken cancels it). Placing an order
    adds its stock updates; an import of past orders writes these alone."""
    table = settings.table_name()
    guard = {**order_guard_key(order.id), **to_attributes({"user": order.user})}
    return [
        {"Put": {"TableName": table, "Item": order_item(order, counted), "ConditionExpression": "attribute_not_exists(PK)"}},
        {"Put": {"TableName": table, "Item": guard, "ConditionExpression": "attribute_not_exists(PK)"}},
    ]
