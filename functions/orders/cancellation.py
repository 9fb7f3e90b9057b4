"""Cancelling an order: who may, until when, and the one transaction that gives its stock back.

The owner may cancel a `placed` order within the cancel window (template parameter
OrderCancelWindowMinutes); staff may cancel any `placed` order. One TransactWriteItems, guarded
by the order's status, sets it to `cancelled` and returns every unit to its product, so two
cancels racing restore the stock once: the second finds the status changed and writes nothing.
A product that was deleted since the order gets nothing back (there is nothing to return it to).
A product that cannot take its units back without passing the stock ceiling (MAX_STOCK, as for
a restock) makes the cancel a 409 that changes nothing: staff lower that stock first.
A product written before the stock-state indexes (not migrated yet) gets its units back without
index keys or count, as an order treats it (`shop_common.stock`).
"""

import os
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from orders.lookup import order_owner, read_order
from orders.store import read_basket
from shop_common import settings
from shop_common.catalog import CATALOG_PK, META_SK
from shop_common.dynamo import TransactionCancelled, to_attributes, transact_write
from shop_common.errors import AuthenticationFailed, Conflict, NotFound
from shop_common.keys import order_sort_key, orders_partition, product_key, profile_key
from shop_common.offer_store import CountedUse, usage_returns
from shop_common.order_index import index_keys
from shop_common.orders import Order
from shop_common.staff_access import is_active_staff
from shop_common.stock import MAX_STOCK, count_change, crossing_update
from shop_common.stock_state import IN_STOCK_COUNT

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

_ATTEMPTS = 5  # a product's stock changed between our read and our write: read again


def cancel_window() -> timedelta:
    """How long after placing it the owner may cancel an order (default one hour)."""
    return timedelta(minutes=int(os.environ.get("ORDER_CANCEL_WINDOW_MINUTES") or 60))


def _not_found(order_id: int) -> NotFound:
    return NotFound("Not found.", errors=[{"field": "order_id", "message": f"No order with id {order_id}."}])


def visible_order(caller: int, order_id: int) -> tuple[Order, list[CountedUse]]:
    """The order (and the offer counters it incremented), for its owner or for staff; 404 for
    anyone else, as for an order that does not exist (an id says nothing about other people's
    orders)."""
    owner = order_owner(order_id)
    if owner is None or (owner != caller and not is_active_staff(caller)):
        raise _not_found(order_id)
    found = read_order(owner, order_id)
    if found is None:  # the guard without its order: a deleted account's orders were removed
        raise _not_found(order_id)
    return found


def cancel_order(caller: int, order_id: int, now: datetime | None = None) -> Order:
    now = now or datetime.now(UTC)
    order, counted = visible_order(caller, order_id)
    placed_at = datetime.fromisoformat(order.created.replace("Z", "+00:00"))
    if order.status == "cancelled":
        raise Conflict("The order is already cancelled.", code="already_cancelled")
    if order.user == caller and now - placed_at > cancel_window() and not is_active_staff(caller):
        minutes = int(cancel_window().total_seconds() // 60)
        raise Conflict(f"Orders can be cancelled within {minutes} minutes of being placed.", code="cancel_window_closed")
    for attempt in range(_ATTEMPTS):
        if _write_cancellation(caller, order, counted, now):
            return order.model_copy(update={"status": "cancelled"})
        time.sleep(0.01 * 2**attempt * (1 + secrets.randbelow(100) / 100))  # jittered backoff
    raise Conflict("The order could not be cancelled because of concurrent orders; please retry.", code="conflict")


def returned_quantities(order: Order) -> dict[int, int]:
    """What a cancellation gives back, per product: the sum of its parts (an order imported from
    the Django app may list a product twice, or a part of 0), none for a part whose product was
    deleted before the import (null)."""
    quantities: dict[int, int] = {}
    for part in order.parts:
        if part.product is not None and part.quantity_in_order > 0:
            quantities[part.product] = quantities.get(part.product, 0) + part.quantity_in_order
    return quantities


def _write_cancellation(caller: int, order: Order, counted: list[CountedUse], now: datetime) -> bool:
    """One attempt: True when written; False when a product's stock changed since it was read
    (worth another attempt). Raises for a cancel that can never succeed."""
    table = settings.table_name()
    quantities = returned_quantities(order)
    # Products deleted since the order are absent.
    products = read_basket(list(quantities), [], consistent=True)[0] if quantities else {}
    stocks = {product_id: product.stock for product_id, product in products.items()}
    writes: list[TransactWriteItemTypeDef] = [
        {
            "ConditionCheck": {
                "TableName": table,
                "Key": to_attributes(profile_key(caller)),
                "ConditionExpression": "is_active = :active",
                "ExpressionAttributeValues": to_attributes({":active": True}),
            }
        },
        _status_update(order, now),
    ]
    back_in_stock = 0
    for product_id, stock in stocks.items():
        returned = stock.quantity + quantities[product_id]
        if returned > MAX_STOCK:
            raise _over_the_ceiling(product_id, stock.quantity, quantities[product_id])
        if stock.quantity == 0:  # sold out: it comes back in stock, its index keys with it
            writes.append(crossing_update(product_id, stock, returned))
            back_in_stock += count_change(stock, returned)
        else:
            writes.append(_stock_return(product_id, quantities[product_id]))
    if back_in_stock:
        writes.append(
            {
                "Update": {
                    "TableName": table,
                    "Key": to_attributes({"PK": CATALOG_PK, "SK": META_SK}),
                    "UpdateExpression": f"ADD {IN_STOCK_COUNT} :back",
                    "ExpressionAttributeValues": to_attributes({":back": back_in_stock}),
                }
            }
        )
    # The offers' counters get back what the order counted (the customer's own uses too).
    writes += usage_returns(counted, order.user)
    try:
        transact_write(writes)
        return True
    except TransactionCancelled as cancelled:
        if cancelled.condition_failed(0):
            raise AuthenticationFailed("User not found or inactive.", code="user_inactive") from None
        if cancelled.condition_failed(1):
            raise Conflict("The order is already cancelled.", code="already_cancelled") from None
    return False  # a product changed (or a concurrent transaction): read again


def _status_update(order: Order, now: datetime) -> "TransactWriteItemTypeDef":
    new_keys = index_keys(order.id, order.user, "cancelled")
    names = {"#status": "status"} | {f"#{name}": name for name in new_keys}
    values: dict[str, Any] = {f":{name}": value for name, value in new_keys.items()}
    values |= {
        ":cancelled": "cancelled",
        ":placed": "placed",
        ":at": now.isoformat(timespec="microseconds").replace("+00:00", "Z"),
    }
    assignments = ", ".join(f"#{name} = :{name}" for name in new_keys)
    return {
        "Update": {
            "TableName": settings.table_name(),
            "Key": to_attributes({"PK": orders_partition(order.user), "SK": order_sort_key(order.id)}),
            "UpdateExpression": f"SET #status = :cancelled, cancelled_at = :at, {assignments}",
            # Orders placed before statuses existed have none: they are `placed`.
            "ConditionExpression": "attribute_exists(PK) AND (attribute_not_exists(#status) OR #status = :placed)",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": to_attributes(values),
        }
    }


def _over_the_ceiling(product_id: int, stock: int, quantity: int) -> Conflict:
    message = f"Giving back {quantity} units to a stock of {stock} would exceed {MAX_STOCK:,}; lower that stock first."
    return Conflict(
        "The order cannot be cancelled: a product's stock would pass its ceiling.",
        code="stock_ceiling",
        errors=[{"field": "parts", "product": product_id, "message": message, "available": stock}],
    )


def _stock_return(product_id: int, quantity: int) -> "TransactWriteItemTypeDef":
    """Give `quantity` units back to a product in stock: the condition keeps it on that side of
    0, so its index keys stay right, and at most the ceiling; failing means the stock moved since
    the read: read again."""
    return {
        "Update": {
            "TableName": settings.table_name(),
            "Key": product_key(product_id),
            "UpdateExpression": "SET quantity_in_stock = quantity_in_stock + :quantity",
            "ConditionExpression": "attribute_exists(PK) AND quantity_in_stock > :zero AND quantity_in_stock <= :room",
            "ExpressionAttributeValues": to_attributes({":quantity": quantity, ":zero": 0, ":room": MAX_STOCK - quantity}),
        }
    }
