"""Catalogue writes keyed by SKU (see docs/data-model.md): find products by their SKU, update them.

Items:
- SKU claim   PK=SKU#<sku>  SK=SKU  product_id   (written and deleted in the product's own transaction)

Administration only (`shopctl load-products`, the staff catalogue API), never a customer's
request path. Adding products in bulk, with their claims and counters, is `catalog.add_products`;
removing one, `catalog.remove_product`.
"""

import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shop_common import settings
from shop_common.catalog import _allocate_ids, _product_from_item, new_product_writes, product_item, product_key, sku_claim_key
from shop_common.dynamo import client, from_attributes, to_attributes
from shop_common.errors import ServiceBusy
from shop_common.models import NewProduct, Product

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

_BATCH_GET_LIMIT = 100
_TRANSACTION_LIMIT = 100


class CatalogChanged(Exception):
    """A product changed while it was being updated (deleted, or its SKU moved): nothing of that
    transaction was written; reading again and retrying is safe."""


class SkuTaken(Exception):
    """Another product holds the SKU: nothing was written."""


class StockTooLow(Exception):
    """A stock change would take the stock below 0 (or above the ceiling): nothing was written."""

    def __init__(self, available: int) -> None:
        super().__init__(f"{available} in stock")
        self.available = available


def _batches[T](values: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _batch_get(keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items that exist among `keys` (at most 100), read consistently, retrying throttled keys."""
    request: dict[str, Any] = {settings.table_name(): {"Keys": keys, "ConsistentRead": True}}
    items: list[dict[str, Any]] = []
    for attempt in range(8):
        response = client().batch_get_item(RequestItems=request)
        items += response.get("Responses", {}).get(settings.table_name(), [])
        request = dict(response.get("UnprocessedKeys") or {})
        if not request:
            return items
        time.sleep(0.02 * 2**attempt)  # throttled: back off before asking for the rest
    raise ServiceBusy("DynamoDB kept throttling BatchGetItem")


def products_by_sku(skus: Sequence[str]) -> dict[str, Product]:
    """The existing products holding these SKUs, by SKU: two BatchGetItem calls per 100 SKUs
    (the claims, then their products)."""
    found: dict[str, Product] = {}
    for batch in _batches(sorted(set(skus)), _BATCH_GET_LIMIT):
        claims = [from_attributes(item) for item in _batch_get([sku_claim_key(sku) for sku in batch])]
        if not claims:
            continue
        for item in _batch_get([product_key(int(claim["product_id"])) for claim in claims]):
            product = _product_from_item(item)
            if product.sku is not None:
                found[product.sku] = product
    return found


def _update(product: Product) -> "TransactWriteItemTypeDef":
    return {
        "Update": {
            "TableName": settings.table_name(),
            "Key": product_key(product.id),
            "UpdateExpression": "SET #name = :name, description = :description, price = :price, quantity_in_stock = :stock",
            # Only the product that still holds the SKU it was found by.
            "ConditionExpression": "attribute_exists(PK) AND sku = :sku",
            "ExpressionAttributeNames": {"#name": "name"},
            "ExpressionAttributeValues": to_attributes(
                {
                    ":name": product.name,
                    ":description": product.description,
                    ":price": product.price,
                    ":stock": product.quantity_in_stock,
                    ":sku": product.sku,
                }
            ),
        }
    }


def update_products(products: Sequence[Product]) -> None:
    """Set the name, description, price and stock of products found by SKU, 100 per transaction.
    Raises CatalogChanged when one of a transaction's products was deleted or lost its SKU."""
    for batch in _batches(products, _TRANSACTION_LIMIT):
        _transact_with_retries([_update(product) for product in batch])


def _transact_with_retries(writes: "list[TransactWriteItemTypeDef]", attempts: int = 5) -> None:
    if _failed_conditions(writes, attempts):
        raise CatalogChanged("a product was deleted or changed its SKU while being updated")


def _failed_conditions(writes: "list[TransactWriteItemTypeDef]", attempts: int = 5) -> set[int]:
    """Run one transaction; the positions of the writes whose condition failed (then nothing was
    written), or an empty set when it was applied. A transaction cancelled by a concurrent write
    to one of its items (an order) wrote nothing and is tried again, `attempts` times in all."""
    for attempt in range(attempts):
        try:
            client().transact_write_items(TransactItems=writes)
            return set()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
            failed = {index for index, code in enumerate(reasons) if code == "ConditionalCheckFailed"}
            if failed:
                return failed
        time.sleep(0.05 * 2**attempt)
    raise ServiceBusy("the products kept changing under concurrent orders; nothing of the last batch was written")


# --- one product at a time: the staff catalogue API ------------------------------------------

# Fields a product update compares with what was read (compare-and-set): any concurrent change
# to them, an order's stock decrement included, makes the update fail and be read again.
_PRODUCT_FIELDS = ("name", "description", "price", "quantity_in_stock")


def read_product(product_id: int) -> Product | None:
    """A product with its SKU, read consistently (one GetItem); None when there is none."""
    response = client().get_item(TableName=settings.table_name(), Key=product_key(product_id), ConsistentRead=True)
    return _product_from_item(response["Item"]) if "Item" in response else None


def create_product(new: NewProduct) -> Product:
    """Add one product with a fresh id, its SKU claim and the counters, in one transaction
    (an UpdateItem for the id, then TransactWriteItems). Raises SkuTaken; the id is then
    never used (ids are not reused)."""
    product = Product(id=_allocate_ids(1), **new.model_dump())
    if _failed_conditions(new_product_writes([product])):
        # The product's own condition cannot fail (its id is new): the SKU claim did (position 1).
        raise SkuTaken(product.sku)
    return product


def update_product(current: Product, updated: Product) -> None:
    """Write `updated` over `current` (the same product, as read): every attribute the product
    item derives from its fields is set again (indexes included), the SKU claims move with the
    SKU, all in one transaction whose condition is that the product still is `current`.
    Raises CatalogChanged (read again and retry) or SkuTaken."""
    table = settings.table_name()
    old_item, new_item = product_item(current), product_item(updated)
    names: dict[str, str] = {}
    values: dict[str, Any] = {}

    def name(attribute: str) -> str:
        names[f"#a{len(names)}"] = attribute
        return f"#a{len(names) - 1}"

    def value(typed: Any) -> str:
        values[f":v{len(values)}"] = typed
        return f":v{len(values) - 1}"

    assignments = [f"{name(a)} = {value(typed)}" for a, typed in new_item.items() if a not in ("PK", "SK")]
    removals = [name(a) for a in old_item if a not in new_item]
    conditions = ["attribute_exists(PK)"] + [f"{name(a)} = {value(old_item[a])}" for a in _PRODUCT_FIELDS]
    conditions.append(f"{name('sku')} = {value(old_item['sku'])}" if current.sku else f"attribute_not_exists({name('sku')})")
    update: TransactWriteItemTypeDef = {
        "Update": {
            "TableName": table,
            "Key": product_key(current.id),
            "UpdateExpression": "SET " + ", ".join(assignments) + (" REMOVE " + ", ".join(removals) if removals else ""),
            "ConditionExpression": " AND ".join(conditions),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }
    writes = [update]
    claim_position = None
    if current.sku != updated.sku:
        if updated.sku:
            claim_position = len(writes)
            writes.append(
                {
                    "Put": {
                        "TableName": table,
                        "Item": {**sku_claim_key(updated.sku), **to_attributes({"product_id": updated.id})},
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                }
            )
        if current.sku:
            writes.append({"Delete": {"TableName": table, "Key": sku_claim_key(current.sku)}})
    failed = _failed_conditions(writes)
    if 0 in failed:
        raise CatalogChanged(f"product {current.id} changed while it was being updated")
    if claim_position in failed:
        raise SkuTaken(updated.sku)


def adjust_stock(product_id: int, delta: int, ceiling: int) -> int | None:
    """Add `delta` (negative: take away) to a product's stock atomically with concurrent orders,
    never below 0 nor above `ceiling`: the new stock, or None when there is no such product.
    One conditional UpdateItem; raises StockTooLow (with the stock as it was)."""
    condition = "attribute_exists(PK) AND " + ("quantity_in_stock >= :needed" if delta < 0 else "quantity_in_stock <= :room")
    bound = {":needed": -delta} if delta < 0 else {":room": ceiling - delta}
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
        old = error.response.get("Item")  # the item as it was (ReturnValuesOnConditionCheckFailure)
        if not isinstance(old, dict) or not old:
            return None
        raise StockTooLow(int(from_attributes(old)["quantity_in_stock"])) from error
    return int(from_attributes(response["Attributes"])["quantity_in_stock"])
