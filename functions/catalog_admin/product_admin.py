"""The staff catalogue's rules, independent of HTTP: who may manage it, and each change to it.

Every write goes through `shop_common.catalog`, `shop_common.catalog_writes` or `shop_common.stock`,
which keep the catalogue counters, the listing buckets and the in-stock indexes exact
(docs/data-model.md).
"""

from typing import Any

from aws_lambda_powertools import Logger

from shop_common.catalog import remove_product
from shop_common.catalog_writes import CatalogChanged, SkuTaken, create_product, read_product, update_product
from shop_common.errors import Conflict, InvalidRequest, NotFound
from shop_common.models import NewProduct, Product
from shop_common.stock import MAX_STOCK, StockTooLow, adjust_stock

logger = Logger(child=True)

# Attempts when the product changed between our read and our write (an order, another edit).
_UPDATE_ATTEMPTS = 3


def _not_found(product_id: int) -> NotFound:
    return NotFound("Not found.", errors=[{"field": "product_id", "message": f"No product with id {product_id}."}])


def _sku_taken(sku: str | None) -> InvalidRequest:
    return InvalidRequest("Invalid request.", errors=[{"field": "sku", "message": f"A product with SKU {sku!r} already exists."}])


def add(fields: dict[str, Any]) -> Product:
    try:
        product = create_product(NewProduct(**fields))
    except SkuTaken as taken:
        raise _sku_taken(fields.get("sku")) from taken
    logger.info("Product added", extra={"product_id": product.id})
    return product


def change(product_id: int, changes: dict[str, Any]) -> Product:
    """Apply `changes` to the product as it is now: read, then a conditional write naming what
    was read, again on a concurrent change (an order's stock decrement, another edit)."""
    for _ in range(_UPDATE_ATTEMPTS):
        current = read_product(product_id)
        if current is None:
            raise _not_found(product_id)
        updated = current.model_copy(update=changes)
        if updated == current:
            return current
        try:
            update_product(current, updated)
        except CatalogChanged:
            continue
        except SkuTaken as taken:
            raise _sku_taken(updated.sku) from taken
        logger.info("Product changed", extra={"product_id": product_id, "fields": sorted(changes)})
        return updated
    raise Conflict("The product kept changing; nothing was written. Retrying is safe.", code="conflict")


def remove(product_id: int) -> None:
    if not remove_product(product_id):
        raise _not_found(product_id)
    logger.info("Product removed", extra={"product_id": product_id})


def restock(product_id: int, delta: int) -> int:
    """The new stock after adding `delta` (negative: taking away), atomically with orders."""
    try:
        stock = adjust_stock(product_id, delta, MAX_STOCK)
    except StockTooLow as low:
        if delta < 0:
            message = f"Cannot take {-delta} from a stock of {low.available}."
        else:
            message = f"Adding {delta} to a stock of {low.available} would exceed {MAX_STOCK:,}."
        raise Conflict(
            message, code="insufficient_stock", errors=[{"field": "delta", "message": message, "available": low.available}]
        ) from low
    if stock is None:
        raise _not_found(product_id)
    logger.info("Stock changed", extra={"product_id": product_id, "delta": delta, "stock": stock})
    return stock
