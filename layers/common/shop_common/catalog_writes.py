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

from shop_common import settings
from shop_common.catalog import (
    allocate_ids,
    in_stock_count_update,
    new_product_writes,
    product_from_item,
    product_item,
    word_deletes,
    word_puts,
)
from shop_common.dynamo import TransactionCancelled, batch_get, client, from_attributes, to_attributes, transact_write
from shop_common.errors import ServiceBusy
from shop_common.keys import product_key, sku_claim_key
from shop_common.models import NewProduct, Product
from shop_common.search_words import word_keys

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

_BATCH_GET_LIMIT = 100
_TRANSACTION_LIMIT = 100


class CatalogChanged(Exception):
    """A product changed while it was being updated (deleted, or its SKU moved): nothing of that
    transaction was written; reading again and retrying is safe."""


class SkuTaken(Exception):
    """Another product holds the SKU: nothing was written."""


def _batches[T](values: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def read_items(keys: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items that exist among `keys` (any number), read consistently: one BatchGetItem per 100
    keys (administration: imports check what they wrote)."""
    return batch_get(keys, consistent=True)


def products_by_sku(skus: Sequence[str]) -> dict[str, Product]:
    """The existing products holding these SKUs, by SKU: two BatchGetItem calls per 100 SKUs
    (the claims, then their products)."""
    found: dict[str, Product] = {}
    for batch in _batches(sorted(set(skus)), _BATCH_GET_LIMIT):
        claims = [from_attributes(item) for item in batch_get([sku_claim_key(sku) for sku in batch], consistent=True)]
        if not claims:
            continue
        for item in batch_get([product_key(int(claim["product_id"])) for claim in claims], consistent=True):
            product = product_from_item(item)
            if product.sku is not None:
                found[product.sku] = product
    return found


def _index_writes(current: Product, updated: Product) -> "list[TransactWriteItemTypeDef]":
    """What an edit changes besides the product item: its word items (those no longer there
    deleted, all of them written again when the name or price changed: they carry both)."""
    writes = word_deletes(sorted(set(word_keys(current.name, current.id)) - set(word_keys(updated.name, updated.id))))
    if (current.name, current.price) != (updated.name, updated.price):
        writes += word_puts(updated)
    return writes


def _crossing(current: Product, updated: Product) -> int:
    """+1 when the edit restocks a sold-out product, -1 when it sells one out, else 0."""
    return int(updated.quantity > 0) - int(current.quantity > 0)


def _update(current: Product, updated: Product) -> "TransactWriteItemTypeDef":
    # Only the product that still holds the SKU it was found by, under the name (its word items)
    # and in the stock state (the count in stock) it was read with.
    in_stock = "quantity_in_stock > :zero" if current.quantity > 0 else "quantity_in_stock = :zero"
    item = product_item(updated)
    return {
        "Update": {
            "TableName": settings.table_name(),
            "Key": product_key(updated.id),
            "UpdateExpression": "SET #name = :name, description = :description, price = :price, quantity_in_stock = :stock,"
            " GSI2PK = :gsi2pk, GSI2SK = :gsi2sk, GSI3PK = :gsi3pk",
            "ConditionExpression": f"attribute_exists(PK) AND sku = :sku AND #name = :old_name AND {in_stock}",
            "ExpressionAttributeNames": {"#name": "name"},
            "ExpressionAttributeValues": {
                **to_attributes(
                    {
                        ":name": updated.name,
                        ":description": updated.description,
                        ":price": updated.price,
                        ":stock": updated.quantity,
                        ":sku": updated.sku,
                        ":old_name": current.name,
                        ":zero": 0,
                    }
                ),
                ":gsi2pk": item["GSI2PK"],
                ":gsi2sk": item["GSI2SK"],
                ":gsi3pk": item["GSI3PK"],
            },
        }
    }


def update_products(products: Sequence[Product]) -> None:
    """Set the name, description, price and stock of products found by SKU, with their indexes
    (word items, stock state, the count in stock): one consistent BatchGetItem of the products
    as they are, then transactions of at most 100 items. Raises CatalogChanged when a product
    was deleted, lost its SKU or changed name or stock state since it was read."""
    for batch in _batches(products, _BATCH_GET_LIMIT):
        items = batch_get([product_key(product.id) for product in batch], consistent=True)
        current = {product.id: product for product in map(product_from_item, items)}
        if len(current) < len(batch):
            raise CatalogChanged("a product was deleted while being updated")
        writes: list[TransactWriteItemTypeDef] = []
        crossings = 0
        for updated in batch:
            own = [_update(current[updated.id], updated), *_index_writes(current[updated.id], updated)]
            if len(writes) + len(own) + 1 > _TRANSACTION_LIMIT:
                _transact_with_retries(writes + ([in_stock_count_update(crossings)] if crossings else []))
                writes, crossings = [], 0
            writes += own
            crossings += _crossing(current[updated.id], updated)
        if writes:
            _transact_with_retries(writes + ([in_stock_count_update(crossings)] if crossings else []))


def _transact_with_retries(writes: "list[TransactWriteItemTypeDef]", attempts: int = 5) -> None:
    if _failed_conditions(writes, attempts):
        raise CatalogChanged("a product was deleted or changed its SKU while being updated")


def _failed_conditions(writes: "list[TransactWriteItemTypeDef]", attempts: int = 5) -> set[int]:
    """Run one transaction; the positions of the writes whose condition failed (then nothing was
    written), or an empty set when it was applied. A transaction cancelled by a concurrent write
    to one of its items (an order) wrote nothing and is tried again, `attempts` times in all."""
    for attempt in range(attempts):
        try:
            transact_write(writes)
            return set()
        except TransactionCancelled as cancelled:
            if cancelled.failed_conditions:
                return set(cancelled.failed_conditions)
        time.sleep(0.05 * 2**attempt)
    raise ServiceBusy("the products kept changing under concurrent orders; nothing of the last batch was written")


# --- one product at a time: the staff catalogue API ------------------------------------------

# Fields a product update compares with what was read (compare-and-set): any concurrent change
# to them, an order's stock decrement included, makes the update fail and be read again.
_PRODUCT_FIELDS = ("name", "description", "price", "quantity_in_stock")


def read_product(product_id: int) -> Product | None:
    """A product with its SKU, read consistently (one GetItem); None when there is none."""
    response = client().get_item(TableName=settings.table_name(), Key=product_key(product_id), ConsistentRead=True)
    return product_from_item(response["Item"]) if "Item" in response else None


def create_product(new: NewProduct) -> Product:
    """Add one product with a fresh id, its SKU claim and the counters, in one transaction
    (an UpdateItem for the id, then TransactWriteItems). Raises SkuTaken; the id is then
    never used (ids are not reused)."""
    product = Product(id=allocate_ids(1), **new.model_dump())
    if _failed_conditions(new_product_writes([product])):
        # The product's own condition cannot fail (its id is new): the SKU claim did (position 1).
        raise SkuTaken(product.sku)
    return product


def update_product(current: Product, updated: Product) -> None:
    """Write `updated` over `current` (the same product, as read): every attribute the product
    item derives from its fields is set again (indexes included), the SKU claims move with the
    SKU, the word items with the name and price, the count in stock with a crossing of 0, all
    in one transaction whose condition is that the product still is `current`.
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

    # Photos are written only by the photo paths (staff API, checker), each conditioned on them:
    # setting them here from the read would drop a photo accepted since.
    assignments = [f"{name(a)} = {value(typed)}" for a, typed in new_item.items() if a not in ("PK", "SK", "images")]
    removals = [name(a) for a in old_item if a not in new_item and a != "images"]
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
    writes += _index_writes(current, updated)
    if crossing := _crossing(current, updated):
        writes.append(in_stock_count_update(crossing))
    failed = _failed_conditions(writes)
    if 0 in failed:
        raise CatalogChanged(f"product {current.id} changed while it was being updated")
    if claim_position in failed:
        raise SkuTaken(updated.sku)
