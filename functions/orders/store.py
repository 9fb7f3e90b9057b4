"""DynamoDB access for orders (see docs/data-model.md).

Items:
- order     PK=ORDERS#<user id>  SK=ORDER#<order id, 16 digits>  id, user, created, parts (with
            their prices), status, subtotal, discount_total, total, currency, offers, counted_uses
- id guard  PK=ORDER#<order id>  SK=ORDER  user   (makes ids unique; serves "order by id")
and, read only by a condition check: the profile PK=USER#<user id> SK=PROFILE, `is_active`;
written by an order: each product's stock (and, when it sells out, its stock state keys and the
catalogue's `in_stock_count`, shop_common.stock).

Orders have a partition prefix of their own, so IAM (which sees only partition keys) can let
this function write and read orders without reaching the profiles under USER#. Order ids grow
with time, so a user's orders read newest first straight off the sort key.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NoReturn

from shop_common import settings
from shop_common.catalog import in_stock_count_update
from shop_common.dynamo import TransactionCancelled, batch_get, from_attributes, query_page, to_attributes, transact_write
from shop_common.keys import order_sort_key, orders_partition, product_key, profile_key
from shop_common.offer_store import CountedUse, failed_offers
from shop_common.order_records import order_record_writes
from shop_common.orders import Order, order_from_item
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
    a stock or price that changed since it was read). `products`: the products whose condition
    failed, read again (strongly), to price and choose their updates from in the next attempt."""

    def __init__(self, reason: str, products: "Mapping[int, BasketProduct] | None" = None) -> None:
        super().__init__(reason)
        self.products = dict(products or {})


class AccountNotActive(Exception):
    """The customer's account is deactivated or deleted: the order was not written."""


def counted_uses_of(item: Mapping[str, Any]) -> list[CountedUse]:
    """The offer counters an order's item says it incremented (none for orders without offers)."""
    return [CountedUse.from_json(use) for use in from_attributes(item).get("counted_uses", [])]


@dataclass(frozen=True)
class BasketProduct:
    """A product as the order read it: what it is called, what it costs, its stock, and the
    price index's sort key, which carries the price: the order's transaction is conditioned on
    it, so a price changed meanwhile cancels the order (None: a product written before the
    index existed and not migrated yet, whose price is not guarded)."""

    name: str
    price: Decimal
    stock: StockAsRead
    price_key: str | None


def read_basket(
    product_ids: Sequence[int], extra_keys: Sequence[Mapping[str, Any]], *, consistent: bool
) -> tuple[dict[int, BasketProduct], list[dict[str, Any]]]:
    """The products (at most 50) and other items by key (the customer's offer uses, at most 20):
    one BatchGetItem, read strongly when `consistent` (a retry after a conflict)."""
    keys = [product_key(product_id) for product_id in product_ids] + list(extra_keys)
    items = batch_get(
        keys,
        consistent=consistent,
        projection="PK, SK, id, #name, price, quantity_in_stock, GSI3PK, GSI2SK, uses",
        names={"#name": "name"},
    )
    products: dict[int, BasketProduct] = {}
    others: list[dict[str, Any]] = []
    for item in items:
        if not item["PK"]["S"].startswith("PRODUCT#"):
            others.append(item)
            continue
        values = from_attributes(item)
        stock = StockAsRead(int(values["quantity_in_stock"]), indexed="GSI3PK" in values)
        products[int(values["id"])] = BasketProduct(values["name"], values["price"], stock, values.get("GSI2SK"))
    return products, others


class OffersChanged(OrderNotWritten):
    """An applied offer's usage condition failed (its limit was reached, or it was edited or
    deleted since it was read): read the offers again and price again."""


def write_order(
    order: Order,
    quantities: Mapping[int, int],
    basket: Mapping[int, BasketProduct],
    usage: "Sequence[TransactWriteItemTypeDef]" = (),
    counted: Sequence[CountedUse] = (),
) -> None:
    """Check the account, take every product's quantity from its stock at the price it was
    priced at, count the offers used and record the order, all or nothing.

    One TransactWriteItems: a condition check that the customer's profile exists and is active,
    an update per product chosen from its stock as read (see `_stock_update`) and conditioned on
    its price as read, one update of the catalogue's `in_stock_count` when products sell out, the
    offers' usage counters (`usage`, from shop_common.offer_store), the order, and the id guard.
    Raises AccountNotActive, OrderRejected naming the products short (or gone), OffersChanged,
    or OrderNotWritten when the cancellation had another cause (a stock or price changed).

    The updates name only `quantity_in_stock`, the stock state keys and the price index's sort
    key (and the key) and ask for no old values: the function's IAM policy allows no other
    product attribute (template.yaml).
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
    writes += [_stock_update(product_id, quantity, basket[product_id]) for product_id, quantity in quantities.items()]
    # One update of the count for all the order's sell-outs (-1 each; not migrated ones: 0).
    count = sum(
        count_change(basket[product_id].stock, 0)
        for product_id, quantity in quantities.items()
        if _sells_out(quantity, basket[product_id].stock)
    )
    if count:
        writes.append(in_stock_count_update(count))
    usage_at = len(writes)
    writes += usage
    writes += order_record_writes(order, counted)
    try:
        transact_write(writes)
    except TransactionCancelled as cancelled:
        reasons = cancelled.reasons
        offers_failed = usage and len(reasons) == len(writes) and failed_offers(usage, reasons[usage_at : usage_at + len(usage)])
        if offers_failed and not cancelled.condition_failed(0):
            raise OffersChanged("an offer's usage changed") from cancelled
        _raise_for_cancellation(cancelled, list(quantities.items()))


def _sells_out(quantity: int, stock: StockAsRead) -> bool:
    return stock.quantity == quantity


def _stock_update(product_id: int, quantity: int, product: BasketProduct) -> "TransactWriteItemTypeDef":
    """The update taking `quantity` from a product read as `product`.

    Selling it out sets the stock to 0 and moves its stock state keys (shop_common.stock), on
    condition that the stock is still exactly `quantity`. Otherwise the stock is decremented on
    condition that some remains, so no key changes. Both are conditioned on the price index's
    sort key as read, which carries the price. A condition failing means the stock or the price
    moved since the read (or the stock is short, or the product was migrated): the product is
    read again (`_raise_for_cancellation`) and the next attempt prices and chooses from that.
    """
    if _sells_out(quantity, product.stock):
        return crossing_update(product_id, product.stock, 0, price_key=product.price_key)
    condition = "attribute_exists(PK) AND quantity_in_stock > :quantity"
    values: dict[str, Any] = {":quantity": quantity}
    if product.price_key is not None:
        condition += " AND GSI2SK = :price_key"
        values[":price_key"] = product.price_key
    return {
        "Update": {
            "TableName": settings.table_name(),
            "Key": product_key(product_id),
            "UpdateExpression": "SET quantity_in_stock = quantity_in_stock - :quantity",
            "ConditionExpression": condition,
            "ExpressionAttributeValues": to_attributes(values),
        }
    }


def _raise_for_cancellation(cancelled: TransactionCancelled, requested: list[tuple[int, int]]) -> NoReturn:
    """Reasons come in the order of the transaction's items: the account check, then one per
    product. A failed account check wins over everything else (nothing is written either way)."""
    if cancelled.condition_failed(0):
        raise AccountNotActive()
    failed = [
        (product_id, quantity) for index, (product_id, quantity) in enumerate(requested, 1) if cancelled.condition_failed(index)
    ]
    if failed:
        # Which condition failed, and how much is left, costs one read on this rare path
        # (the advisory check before the transaction passed) instead of old values in every write.
        products, _ = read_basket([product_id for product_id, _ in failed], [], consistent=True)
        shortages = [
            StockShortage(product_id, quantity, products[product_id].stock.quantity if product_id in products else None)
            for product_id, quantity in failed
            if product_id not in products or products[product_id].stock.quantity < quantity
        ]
        if shortages:
            raise OrderRejected(shortages)
        # Enough stock, but not what the update was chosen from (sold out, restocked or
        # migrated meanwhile): worth another attempt, chosen from the stock just read.
        raise OrderNotWritten("stock or price changed", products)
    codes = sorted(set(cancelled.codes) - {"None"})
    raise OrderNotWritten(", ".join(codes) or "unknown")


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
        query["ExclusiveStartKey"] = to_attributes({"PK": orders_partition(user_id), "SK": order_sort_key(before_order_id)})
    items, more = query_page(query, limit)
    return [order_from_item(item) for item in items], more
