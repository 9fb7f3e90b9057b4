"""Placing and listing orders: the rules, independent of HTTP."""

import secrets
import time
from datetime import UTC, datetime
from decimal import Decimal

from aws_lambda_powertools import Logger

from order_models import MAX_DISTINCT_PRODUCTS, OrderRequest, QuoteJson, QuoteRequest
from order_pricing import PriceChanged, PricedBasket, price_basket
from order_store import (
    AccountNotActive,
    BasketProduct,
    OffersChanged,
    OrderNotWritten,
    OrderRejected,
    StockShortage,
    orders_of,
    write_order,
)
from shop_common.cursors import decode_cursor, encode_cursor
from shop_common.errors import AuthenticationFailed, Conflict, InvalidRequest
from shop_common.offer_store import counted_uses, forget_active_offers, usage_writes
from shop_common.orders import Order

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


def _totals(request: QuoteRequest) -> tuple[dict[int, int], dict[int, int]]:
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


def _distinct_quantities(request: QuoteRequest) -> tuple[dict[int, int], dict[int, int]]:
    totals, first_index = _totals(request)
    if len(totals) > MAX_DISTINCT_PRODUCTS:
        raise InvalidRequest(
            f"An order may hold at most {MAX_DISTINCT_PRODUCTS} distinct products.",
            errors=[{"field": "parts", "message": f"{len(totals)} distinct products given."}],
        )
    return totals, first_index


def _priced(
    user_id: int,
    totals: dict[int, int],
    first_index: dict[int, int],
    *,
    consistent: bool,
    known: tuple[dict[int, BasketProduct], dict[int, int]] | None = None,
) -> PricedBasket:
    """The basket read (or `known`) and priced now; a 400 naming the products that are missing
    or short (checked before the transaction for a complete, friendly answer: the transaction's
    own conditions are what guarantee that stock is never oversold)."""
    priced, products = price_basket(user_id, totals, datetime.now(UTC), consistent=consistent, known=known)
    if priced is None:
        raise _shortage_error(_shortages(totals, products), first_index)
    return priced


def _shortages(totals: dict[int, int], products: dict[int, BasketProduct]) -> list[StockShortage]:
    return [
        StockShortage(product_id, quantity, products[product_id].stock.quantity if product_id in products else None)
        for product_id, quantity in totals.items()
        if product_id not in products or products[product_id].stock.quantity < quantity
    ]


def quote_order(user_id: int, request: QuoteRequest) -> QuoteJson:
    """What the order would cost now, with the same reads and the same pricing, writing nothing."""
    totals, first_index = _distinct_quantities(request)
    return _priced(user_id, totals, first_index, consistent=False).to_json()


def place_order(user_id: int, request: OrderRequest) -> Order:
    """Price the order from what it reads and write it in one transaction guarded by those
    prices, stocks and offer counters. When the transaction finds any of them changed, the
    basket is read again (strongly) and priced again; if the client sent `expected_total` and
    the new total differs, 409 `price_changed` with the fresh quote, nothing written."""
    totals, first_index = _distinct_quantities(request)
    known: tuple[dict[int, BasketProduct], dict[int, int]] | None = None  # None: read the basket
    for attempt in range(_ATTEMPTS):
        priced = _priced(user_id, totals, first_index, consistent=attempt > 0, known=known)
        if request.expected_total is not None and Decimal(request.expected_total) != priced.quote.total:
            raise PriceChanged(request.expected_total, priced.to_json())
        created = datetime.now(UTC)
        order = Order.model_validate(
            {
                "id": new_order_id(created.timestamp()),
                "parts": priced.parts(),
                "created": created.isoformat(timespec="microseconds").replace("+00:00", "Z"),
                "user": user_id,
                **priced.totals(),
            }
        )
        applied = priced.applied()
        try:
            write_order(order, totals, priced.products, usage_writes(applied, user_id), counted_uses(applied))
            logger.info("Order placed", extra={"order_id": order.id, "lines": len(order.parts), "attempt": attempt + 1})
            return order
        except AccountNotActive as inactive:
            # The access token is still valid, but the account behind it is gone or deactivated.
            logger.info("Order refused: no active account", extra={"user_id": user_id})
            raise AuthenticationFailed("User not found or inactive.", code="user_inactive") from inactive
        except OrderRejected as rejected:
            raise _shortage_error(rejected.shortages, first_index) from rejected
        except OrderNotWritten as cancelled:
            logger.info("Order transaction cancelled", extra={"reason": str(cancelled), "attempt": attempt + 1})
            known = None
            if isinstance(cancelled, OffersChanged):
                forget_active_offers()  # read the offers again: a limit was reached, or one was edited
            elif cancelled.products:  # the products that failed, read again: price from them
                known = (priced.products | cancelled.products, priced.uses)
            if attempt + 1 < _ATTEMPTS:
                time.sleep(0.01 * 2**attempt * (1 + secrets.randbelow(100) / 100))  # jittered backoff
    raise Conflict("The order could not be placed because of concurrent orders; please retry.", code="conflict")


# --- listing ----------------------------------------------------------------------------------


def list_orders(user_id: int, limit: int, cursor: str | None) -> tuple[list[Order], str | None]:
    """The user's orders, newest first, and the cursor of the next page (None at the end)."""
    before = decode_cursor(cursor, _OLDER_THAN)[1] if cursor else None
    orders, more = orders_of(user_id, limit, before)
    return orders, encode_cursor(_OLDER_THAN, orders[-1].id) if more else None
