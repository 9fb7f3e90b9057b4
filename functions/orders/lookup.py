"""DynamoDB reads of orders by id and of all orders for staff (docs/data-model.md, patterns
10 and 19). A customer's own list is `orders.store.orders_of`."""

import heapq
from typing import Any

from orders.store import counted_uses_of, orders_of
from shop_common import settings
from shop_common.dynamo import batch_get, client, from_attributes, query_page, to_attributes
from shop_common.keys import order_guard_key, order_sort_key, orders_partition
from shop_common.offer_store import CountedUse
from shop_common.order_index import (
    ALL_ORDERS_INDEX,
    SHARDS,
    USER_STATUS_INDEX,
    OrderStatus,
    status_partition,
    user_status_partition,
)
from shop_common.orders import Order, order_from_item


def order_owner(order_id: int) -> int | None:
    """The user who placed the order, from its id guard (one GetItem); None for no such order."""
    response = client().get_item(
        TableName=settings.table_name(),
        Key=order_guard_key(order_id),
        ConsistentRead=True,
    )
    return int(from_attributes(response["Item"])["user"]) if "Item" in response else None


def read_order(user_id: int, order_id: int) -> tuple[Order, list[CountedUse]] | None:
    """One order of one user, with the offer counters it incremented, read consistently (one
    GetItem)."""
    response = client().get_item(
        TableName=settings.table_name(),
        Key=to_attributes({"PK": orders_partition(user_id), "SK": order_sort_key(order_id)}),
        ConsistentRead=True,
    )
    if "Item" not in response:
        return None
    return order_from_item(response["Item"]), counted_uses_of(response["Item"])


def _shard_page(status: OrderStatus, shard: int, limit: int, before: int | None) -> list[dict[str, Any]]:
    condition = "GSI1PK = :pk"
    values: dict[str, Any] = {":pk": status_partition(status, shard)}
    if before is not None:
        condition += " AND GSI1SK < :before"
        values[":before"] = order_sort_key(before)
    query = {
        "TableName": settings.table_name(),
        "IndexName": ALL_ORDERS_INDEX,
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": to_attributes(values),
        "ScanIndexForward": False,
    }
    items, _ = query_page(query, limit)
    return items


def all_orders(statuses: tuple[OrderStatus, ...], limit: int, before: int | None) -> tuple[list[Order], bool]:
    """All users' orders of these statuses, newest first, older than `before` (an order id):
    one Query of limit + 1 items per status and shard, merged by id."""
    streams = [
        [order_from_item(item) for item in _shard_page(status, shard, limit + 1, before)]
        for status in statuses
        for shard in range(SHARDS)
    ]
    merged = list(heapq.merge(*streams, key=lambda order: -order.id))[: limit + 1]
    return merged[:limit], len(merged) > limit


def user_orders(user_id: int, status: OrderStatus | None, limit: int, before: int | None) -> tuple[list[Order], bool]:
    """One user's orders, newest first, all or of one status: one Query of the user's partition,
    or one Query of the (keys-only) status index and one BatchGetItem of the page's orders."""
    if status is None:
        return orders_of(user_id, limit, before)
    condition = "GSI3PK = :pk"
    values: dict[str, Any] = {":pk": user_status_partition(user_id, status)}
    if before is not None:
        condition += " AND GSI3SK < :before"
        values[":before"] = f"{before:016d}"
    keys, more = query_page(
        {
            "TableName": settings.table_name(),
            "IndexName": USER_STATUS_INDEX,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": to_attributes(values),
            "ScanIndexForward": False,
        },
        limit,
    )
    found = _orders_by_key([{"PK": key["PK"], "SK": key["SK"]} for key in keys])
    # Cancelled since the index was read: the index is eventually consistent, the order is not.
    orders = sorted((order for order in found if order.status == status), key=lambda order: -order.id)
    return orders, more


def _orders_by_key(keys: list[dict[str, Any]]) -> list[Order]:
    return [order_from_item(item) for item in batch_get(keys)]
