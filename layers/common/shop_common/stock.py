"""Stock changes that keep the in-stock indexes exact (see docs/data-model.md, pattern 8).

A product's index partition keys (GSI2PK, GSI3PK: `stock_state`) and the catalogue's
`in_stock_count` depend only on whether its stock is above 0. So a change that stays on one side
of 0 touches the stock alone, under a condition that keeps it on that side; a change that crosses
0 (sold out, restocked) sets the stock to a value computed from the stock it read, moves the
keys and adds -1/+1 to the count, in one transaction whose condition is the stock read.

Products written before the indexes existed have no stock state keys until `shopctl migrate`
gives them their keys and counts them (it recognises them by the missing GSI3PK). Until then a
crossing changes their stock alone, on condition that they still have no keys, and leaves the
count alone, so the migration finds them as they were and counts them once.

Shared by the orders function (an order that sells a product out) and the staff catalogue
(stock added or taken away).
"""

import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shop_common import settings
from shop_common.catalog import in_stock_count_update
from shop_common.dynamo import TransactionCancelled, client, from_attributes, to_attributes, transact_write
from shop_common.errors import ServiceBusy
from shop_common.keys import product_key
from shop_common.stock_state import state_keys

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

# Attempts at a stock change whose crossing lost a race (the stock moved between read and write).
_ATTEMPTS = 5
# The most one product may hold: far above any shop's stock of one product, far below what
# DynamoDB or JavaScript would round. Restocks and cancelled orders both stop there.
MAX_STOCK = 1_000_000_000


class StockTooLow(Exception):
    """A stock change would take the stock below 0 (or above the ceiling): nothing was written."""

    def __init__(self, available: int) -> None:
        super().__init__(f"{available} in stock")
        self.available = available


@dataclass(frozen=True)
class StockAsRead:
    """A product's stock as read, and whether it carries the stock state keys (False: written
    before they existed and not migrated yet)."""

    quantity: int
    indexed: bool = True


def crossing_update(product_id: int, read: StockAsRead, new: int, *, price_key: str | None = None) -> "TransactWriteItemTypeDef":
    """A transaction's update moving a product's stock from `read` to `new`, on the other side
    of 0, with its stock state keys when it has them (then the count in stock changes too:
    `count_change`). Fails unless the stock is still `read.quantity` and the product still has
    (or still lacks) the keys. Names only the stock and the two partition keys: the orders
    function may touch no more."""
    values: dict[str, Any] = {":new": new, ":read": read.quantity}
    if not read.indexed:
        update, condition = "SET quantity_in_stock = :new", "quantity_in_stock = :read AND attribute_not_exists(GSI3PK)"
    else:
        keys = state_keys(in_stock=new > 0)
        update = "SET quantity_in_stock = :new, GSI2PK = :price_state, GSI3PK = :stock_state"
        condition = "quantity_in_stock = :read AND attribute_exists(GSI3PK)"
        values |= {":price_state": keys["GSI2PK"], ":stock_state": keys["GSI3PK"]}
    if price_key is not None:  # an order's guard on the price it charged (the sort key carries it)
        condition += " AND GSI2SK = :price_key"
        values[":price_key"] = price_key
    return {
        "Update": {
            "TableName": settings.table_name(),
            "Key": product_key(product_id),
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": to_attributes(values),
        }
    }


def count_change(read: StockAsRead, new: int) -> int:
    """What a change of stock from `read` to `new` adds to the count in stock."""
    return (int(new > 0) - int(read.quantity > 0)) if read.indexed else 0


def adjust_stock(product_id: int, delta: int, ceiling: int) -> int | None:
    """Add `delta` (negative: take away) to a product's stock atomically with concurrent orders,
    never below 0 nor above `ceiling`: the new stock, or None when there is no such product.

    First one conditional UpdateItem that keeps the stock on its side of 0 (the common case: no
    read, one call). When that condition fails, the stock it returns says why: out of bounds
    (StockTooLow, with the stock as it was), or a crossing of 0, then written by one transaction
    conditioned on that stock. A crossing that lost a race to an order is tried again from the
    start, `_ATTEMPTS` times in all, then ServiceBusy. A delta of 0 changes nothing: one read."""
    if delta == 0:
        return _stock_of(product_id)
    for attempt in range(_ATTEMPTS):
        outcome = _add_on_same_side(product_id, delta, ceiling)
        if not isinstance(outcome, StockAsRead):
            return outcome
        new = outcome.quantity + delta
        if not 0 <= new <= ceiling:
            raise StockTooLow(outcome.quantity)
        if _write_crossing(product_id, outcome, new):
            return new
        time.sleep(0.01 * 2**attempt * (1 + secrets.randbelow(100) / 100))  # jittered backoff
    raise ServiceBusy(f"the stock of product {product_id} kept changing under concurrent orders; nothing was written")


def _add_on_same_side(product_id: int, delta: int, ceiling: int) -> int | StockAsRead | None:
    """One UpdateItem `ADD quantity_in_stock :delta` whose condition keeps the stock on the side
    of 0 it is on (and within the bounds): the new stock when it was written; else the stock as
    it was when the condition failed, or None: there is no such product."""
    if delta > 0:  # stays in stock, below the ceiling
        condition, bound = "quantity_in_stock > :zero AND quantity_in_stock <= :room", {":zero": 0, ":room": ceiling - delta}
    else:  # stays in stock: more than is taken
        condition, bound = "quantity_in_stock > :taken", {":taken": -delta}
    try:
        response = client().update_item(
            TableName=settings.table_name(),
            Key=product_key(product_id),
            UpdateExpression="ADD quantity_in_stock :delta",
            ConditionExpression=condition,
            ExpressionAttributeValues=to_attributes({":delta": delta, **bound}),
            ReturnValues="UPDATED_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        old: Any = error.response.get("Item")  # the item as it was (ReturnValuesOnConditionCheckFailure)
        if not isinstance(old, dict) or not old:
            return None
        return StockAsRead(int(from_attributes(old)["quantity_in_stock"]), indexed="GSI3PK" in old)
    return int(from_attributes(response["Attributes"])["quantity_in_stock"])


def _stock_of(product_id: int) -> int | None:
    response = client().get_item(
        TableName=settings.table_name(),
        Key=product_key(product_id),
        ProjectionExpression="quantity_in_stock",
        ConsistentRead=True,
    )
    return int(from_attributes(response["Item"])["quantity_in_stock"]) if "Item" in response else None


def _write_crossing(product_id: int, read: StockAsRead, new: int) -> bool:
    """The stock from `read` to `new` across 0, with the keys and the count in stock, in one
    transaction; False when the stock was no longer `read` (or a concurrent transaction on the
    product or the counter won): nothing was written."""
    writes = [crossing_update(product_id, read, new)]
    if change := count_change(read, new):
        writes.append(in_stock_count_update(change))
    try:
        transact_write(writes)
    except TransactionCancelled:
        return False
    return True
