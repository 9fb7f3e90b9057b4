"""Catalogue writes keyed by SKU (see docs/data-model.md): find products by their SKU, update them.

Items:
- SKU claim   PK=SKU#<sku>  SK=SKU  product_id   (written and deleted in the product's own transaction)

Administration only (`shopctl load-products`, the planned staff product API), never a customer's
request path. Adding products, with their claims and counters, is `catalog.add_products`.
"""

import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shop_common import settings
from shop_common.catalog import _product_from_item, product_key, sku_claim_key
from shop_common.dynamo import client, from_attributes, to_attributes
from shop_common.errors import ServiceBusy
from shop_common.models import Product

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

_BATCH_GET_LIMIT = 100
_TRANSACTION_LIMIT = 100


class CatalogChanged(Exception):
    """A product changed while it was being updated (deleted, or its SKU moved): nothing of that
    transaction was written; reading again and retrying is safe."""


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
    for attempt in range(attempts):
        try:
            client().transact_write_items(TransactItems=writes)
            return
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = {reason.get("Code") for reason in error.response.get("CancellationReasons", [])}
            if "ConditionalCheckFailed" in reasons:
                raise CatalogChanged("a product was deleted or changed its SKU while being updated") from error
        # Cancelled by a concurrent write to one of the products (an order): nothing was written.
        time.sleep(0.05 * 2**attempt)
    raise ServiceBusy("the products kept changing under concurrent orders; nothing of the last batch was written")
