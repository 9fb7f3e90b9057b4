"""Placing and listing orders: the rules, independent of HTTP."""

import secrets
import time
from datetime import UTC, datetime

from aws_lambda_powertools import Logger

from order_models import MAX_DISTINCT_PRODUCTS, Order, OrderPart, OrderRequest
from order_store import AccountNotActive, OrderNotWritten, OrderRejected, StockShortage, orders_of, write_order
from shop_common.catalog import get_products
from shop_common.cursors import decode_cursor, encode_cursor
from shop_common.errors import AuthenticationFailed, Conflict, InvalidRequest
from shop_common.stock import StockAsRead

logger = Logger(child=True)

# Order ids: milliseconds since 2024-01-01 in the high bits, 12 random bits below. They sort by
# time, need no shared counter, and stay below 2**53 (exact in JavaScript) until 2093.
_ID_EPOCH_MS = 1_704_067_200_000
_RANDOM_BITS = 12
# Attempts at the transaction when it is cancelled by a concurrent transaction on the same
# product (TransactionConflict), a stock that changed between its read and the write (the
# update chosen from it no longer fits) or, very rarely, an order id collision.
_ATTEMPTS = 5
# Cursor tag of a my-orders page: the page holds orders older than the id.
_OLDER_THAN = "o"


def new_order_id(now: float | None = None) -> int:
    now_ms = int((time.time() if now is None else now) * 1000)
    return ((now_ms - _ID_EPOCH_MS) << _RANDOM_BITS) | secrets.randbits(_RANDOM_BITS)


def _totals(request: OrderRequest) -> tuple[dict[int, int], dict[int, int]]:
    """Quantity per product (the same product twice counts once, with the sum) and the index of
    each product's first appearance, to name the offending field in errors."""
    totals: dict[int, int] = {}
    first_index: dict[int, int] = {}
    for index, part in enumerate(request.parts):
        totals[part.product] = totals.get(part.product, 0) + part.quantity_in_order
        first_index.setdefault(part.product, index)
    return totals, first_index


def _shortage_error(shortages: list[StockShortage], first_index: dict[int, int]) -> InvalidRequest:
    errors = []
    for shortage in shortages:
        error: dict[str, object] = {"field": f"parts.{first_index[shortage.product]}.product", "product": shortage.product}
        if shortage.available is None:
            error["message"] = "Product does not exist."
        else:
            error["message"] = f"Insufficient stock: {shortage.requested} requested, {shortage.available} available."
            error |= {"requested": shortage.requested, "available": shortage.available}
        errors.append(error)
    if any(shortage.available is None for shortage in shortages):
        return InvalidRequest("Some products do not exist.", errors=errors, code="unknown_product")
    return InvalidRequest("Insufficient stock for some products.", errors=errors, code="insufficient_stock")


def place_order(user_id: int, request: OrderRequest) -> Order:
    totals, first_index = _totals(request)
    if len(totals) > MAX_DISTINCT_PRODUCTS:
        raise InvalidRequest(
            f"An order may hold at most {MAX_DISTINCT_PRODUCTS} distinct products.",
            errors=[{"field": "parts", "message": f"{len(totals)} distinct products given."}],
        )
    products = get_products(list(totals))
    # Checked before the transaction for a complete, friendly answer; the transaction's own
    # conditions are what actually guarantee that stock is never oversold.
    shortages = [
        StockShortage(product_id, quantity, products[product_id].quantity_in_stock if product_id in products else None)
        for product_id, quantity in totals.items()
        if product_id not in products or products[product_id].quantity_in_stock < quantity
    ]
    if shortages:
        raise _shortage_error(shortages, first_index)
    parts = [
        OrderPart(product=product_id, quantity_in_order=quantity, product_name=products[product_id].name)
        for product_id, quantity in totals.items()
    ]
    # Each product's update is chosen from its stock (selling out also moves its index keys);
    # an attempt that finds a stock changed brings back the stock read again for the next.
    # Products not yet migrated (no stock state keys) are found out by a failed attempt.
    stocks = {product_id: StockAsRead(product.quantity_in_stock) for product_id, product in products.items()}
    for attempt in range(_ATTEMPTS):
        created = datetime.now(UTC)
        order = Order(
            id=new_order_id(created.timestamp()),
            parts=parts,
            created=created.isoformat(timespec="microseconds").replace("+00:00", "Z"),
            user=user_id,
        )
        try:
            write_order(order, totals, stocks)
            logger.info("Order placed", extra={"order_id": order.id, "lines": len(parts), "attempt": attempt + 1})
            return order
        except AccountNotActive as inactive:
            # The access token is still valid, but the account behind it is gone or deactivated.
            logger.info("Order refused: no active account", extra={"user_id": user_id})
            raise AuthenticationFailed("User not found or inactive.", code="user_inactive") from inactive
        except OrderRejected as rejected:
            raise _shortage_error(rejected.shortages, first_index) from rejected
        except OrderNotWritten as cancelled:
            logger.info("Order transaction cancelled", extra={"reason": str(cancelled), "attempt": attempt + 1})
            stocks |= cancelled.stocks
            if attempt + 1 < _ATTEMPTS:
                time.sleep(0.01 * 2**attempt * (1 + secrets.randbelow(100) / 100))  # jittered backoff
    raise Conflict("The order could not be placed because of concurrent orders; please retry.", code="conflict")


# --- listing ----------------------------------------------------------------------------------


def list_orders(user_id: int, limit: int, cursor: str | None) -> tuple[list[Order], str | None]:
    """The user's orders, newest first, and the cursor of the next page (None at the end)."""
    before = decode_cursor(cursor, _OLDER_THAN)[1] if cursor else None
    orders, more = orders_of(user_id, limit, before)
    return orders, encode_cursor(_OLDER_THAN, orders[-1].id) if more else None
