"""DynamoDB access for orders (see docs/data-model.md).

Items:
- order     PK=ORDERS#<user id>  SK=ORDER#<order id, 16 digits>  id, user, created, parts
- id guard  PK=ORDER#<order id>  SK=ORDER  user   (makes ids unique; serves "order by id")
and, read only by a condition check: the profile PK=USER#<user id> SK=PROFILE, `is_active`;
written by an order: each product's stock (and, when it sells out, its stock state keys and the
catalogue's `in_stock_count`, shop_common.stock).

Orders have a partition prefix of their own, so IAM (which sees only partition keys) can let
this function write and read orders without reaching the profiles under USER#. Order ids grow
with time, so a user's orders read newest first straight off the sort key.
"""

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from botocore.exceptions import ClientError

from order_index import index_keys
from order_models import Order, OrderPart
from shop_common import settings
from shop_common.catalog import in_stock_count_update, product_key
from shop_common.dynamo import client, from_attributes, query_page, to_attributes
from shop_common.errors import ServiceBusy
from shop_common.profiles import profile_key
from shop_common.stock import StockAsRead, count_change, crossing_update

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
    """The transaction was cancelled for a reason worth retrying (a conflict, an id collision,
    a stock that changed since it was read). `stocks`: the stock of the products read again
    (those whose condition failed), to choose their updates from in the next attempt."""

    def __init__(self, reason: str, stocks: Mapping[int, StockAsRead] | None = None) -> None:
        super().__init__(reason)
        self.stocks = dict(stocks or {})


class AccountNotActive(Exception):
    """The customer's account is deactivated or deleted: the order was not written."""


def orders_partition(user_id: int) -> str:
    return f"ORDERS#{user_id}"


def _order_sk(order_id: int) -> str:
    return f"ORDER#{order_id:016d}"


def _order_item(order: Order) -> dict[str, Any]:
    return to_attributes(
        {
            "PK": orders_partition(order.user),
            "SK": _order_sk(order.id),
            "id": order.id,
            "user": order.user,
            "created": order.created,
            "parts": [part.model_dump() for part in order.parts],
            "status": order.status,
            **index_keys(order.id, order.user, order.status),
        }
    )


def order_from_item(item: Mapping[str, Any]) -> Order:
    values = from_attributes(item)
    return Order(
        id=int(values["id"]),
        user=int(values["user"]),
        created=values["created"],
        status=values.get("status", "placed"),  # orders placed before statuses existed
        parts=[
            OrderPart(product=int(p["product"]), quantity_in_order=int(p["quantity_in_order"]), product_name=p["product_name"])
            for p in values["parts"]
        ],
    )


def write_order(order: Order, quantities: Mapping[int, int], stocks: Mapping[int, StockAsRead]) -> None:
    """Check the account, take every product's quantity from its stock and record the order, all
    or nothing.

    One TransactWriteItems: a condition check that the customer's profile exists and is active,
    an update per product chosen from its stock as read (`stocks`, see `_stock_update`), one
    update of the catalogue's `in_stock_count` when products sell out, the order, and the id
    guard. Raises AccountNotActive, OrderRejected naming the products short (or gone), or
    OrderNotWritten when the cancellation had another cause (with the stocks read again when a
    product's stock had changed).

    The updates name only `quantity_in_stock` and the stock state keys (and the key) and ask for
    no old values: the function's IAM policy allows no other product attribute (template.yaml).
    """
    table = settings.table_name()
    writes: list[TransactWriteItemTypeDef] = [
        {
            "ConditionCheck": {
                "TableName": table,
                "Key": to_attributes(profile_key(order.user)),
                "ConditionExpression": "is_active = :active",
                "ExpressionAttributeValues": to_attributes({":active": True}),
            }
        }
    ]
    writes += [_stock_update(product_id, quantity, stocks[product_id]) for product_id, quantity in quantities.items()]
    # One update of the count for all the order's sell-outs (-1 each; not migrated ones: 0).
    count = sum(
        count_change(stocks[product_id], 0)
        for product_id, quantity in quantities.items()
        if _sells_out(quantity, stocks[product_id])
    )
    if count:
        writes.append(in_stock_count_update(count))
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


def _sells_out(quantity: int, stock: StockAsRead) -> bool:
    return stock.quantity == quantity


def _stock_update(product_id: int, quantity: int, stock: StockAsRead) -> "TransactWriteItemTypeDef":
    """The update taking `quantity` from a product whose stock was read as `stock`.

    Selling it out sets the stock to 0 and moves its stock state keys (shop_common.stock), on
    condition that the stock is still exactly `quantity`. Otherwise the stock is decremented on
    condition that some remains, so no key changes. Either condition failing means the stock
    moved since the read (or is short, or the product was migrated): the product is read again
    (`_raise_for_cancellation`) and the next attempt chooses from that.
    """
    if _sells_out(quantity, stock):
        return crossing_update(product_id, stock, 0)
    return {
        "Update": {
            "TableName": settings.table_name(),
            "Key": product_key(product_id),
            "UpdateExpression": "SET quantity_in_stock = quantity_in_stock - :quantity",
            "ConditionExpression": "attribute_exists(PK) AND quantity_in_stock > :quantity",
            "ExpressionAttributeValues": to_attributes({":quantity": quantity}),
        }
    }


def _failed(reason: Mapping[str, Any] | None) -> bool:
    return reason is not None and reason.get("Code") == "ConditionalCheckFailed"


def _raise_for_cancellation(reasons: list[Mapping[str, Any]], requested: list[tuple[int, int]]) -> NoReturn:
    """Reasons come in the order of the transaction's items: the account check, then one per
    product. A failed account check wins over everything else (nothing is written either way)."""
    if _failed(reasons[0] if reasons else None):
        raise AccountNotActive()
    failed = [
        (product_id, quantity) for (product_id, quantity), reason in zip(requested, reasons[1:], strict=False) if _failed(reason)
    ]
    if failed:
        # Which condition failed, and how much is left, costs one read on this rare path
        # (the advisory check before the transaction passed) instead of old values in every write.
        stocks = read_stocks([product_id for product_id, _ in failed])
        shortages = [
            StockShortage(product_id, quantity, stocks[product_id].quantity if product_id in stocks else None)
            for product_id, quantity in failed
            if product_id not in stocks or stocks[product_id].quantity < quantity
        ]
        if shortages:
            raise OrderRejected(shortages)
        # Enough stock, but not what the update was chosen from (sold out, restocked or
        # migrated meanwhile): worth another attempt, chosen from the stock just read.
        raise OrderNotWritten("stock changed", stocks)
    codes = sorted({str(reason.get("Code")) for reason in reasons} - {"None"})
    raise OrderNotWritten(", ".join(codes) or "unknown")


def read_stocks(product_ids: Sequence[int]) -> dict[int, StockAsRead]:
    """The stock of these products (at most 100) as it is now, and whether each carries its
    stock state keys: one strongly consistent BatchGetItem (throttled keys asked for again)."""
    table = settings.table_name()
    request: dict[str, Any] = {
        table: {
            "Keys": [product_key(product_id) for product_id in product_ids],
            "ProjectionExpression": "id, quantity_in_stock, GSI3PK",
            "ConsistentRead": True,
        }
    }
    found: dict[int, StockAsRead] = {}
    for attempt in range(8):
        response = client().batch_get_item(RequestItems=request)
        for item in response.get("Responses", {}).get(table, []):
            values = from_attributes(item)
            found[int(values["id"])] = StockAsRead(int(values["quantity_in_stock"]), indexed="GSI3PK" in values)
        request = dict(response.get("UnprocessedKeys") or {})
        if not request:
            return found
        time.sleep(0.02 * 2**attempt)  # throttled: back off before asking for the rest
    raise ServiceBusy("DynamoDB kept throttling BatchGetItem for products")


def orders_of(user_id: int, limit: int, before_order_id: int | None = None) -> tuple[list[Order], bool]:
    """A user's orders, newest first, and whether older ones remain.

    The partition key is always the caller's own, so no cursor can reach another user's orders.
    Reads limit + 1 items to know whether there is a next page.
    """
    query: dict[str, Any] = {
        "TableName": settings.table_name(),
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :orders)",
        "ExpressionAttributeValues": to_attributes({":pk": orders_partition(user_id), ":orders": "ORDER#"}),
        "ScanIndexForward": False,
    }
    if before_order_id is not None:
        query["ExclusiveStartKey"] = to_attributes({"PK": orders_partition(user_id), "SK": _order_sk(before_order_id)})
    items, more = query_page(query, limit)
    return [order_from_item(item) for item in items], more
