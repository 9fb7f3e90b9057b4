"""Placing and listing orders: the rules, independent of HTTP."""

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from aws_lambda_powertools import Logger

from orders.models import MAX_DISTINCT_PRODUCTS, OrderRequest, QuoteJson, QuoteRequest
from orders.original_errors import order_limit, short_stock, unknown_products
from orders.priced_basket import PriceChanged, PricedBasket, currency, price_basket
from orders.pricing import MAX_ORDER_CENTS, OrderTooLarge
from orders.store import (
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


@dataclass(frozen=True)
class _Basket:
    """What an order asks for: the quantity per product (the same product twice counts once,
    with the sum), the index of each product's first part (to name the offending field in
    errors) and the product of each part, in the request's order."""

    totals: dict[int, int]
    first_index: dict[int, int]
    part_products: list[int]


def _basket(request: QuoteRequest) -> _Basket:
    totals: dict[int, int] = {}
    first_index: dict[int, int] = {}
    for index, part in enumerate(request.parts):
        totals[part.product] = totals.get(part.product, 0) + part.quantity_in_order
        first_index.setdefault(part.product, index)
    basket = _Basket(totals, first_index, [part.product for part in request.parts])
    if len(totals) > MAX_DISTINCT_PRODUCTS:
        message = f"An order may hold at most {MAX_DISTINCT_PRODUCTS} distinct products."
        raise InvalidRequest(
            message,
            errors=[{"field": "parts", "message": f"{len(totals)} distinct products given."}],
            original=order_limit(message),
        )
    return basket


def _shortage_error(shortages: list[StockShortage], basket: _Basket) -> InvalidRequest:
    errors = []
    for shortage in shortages:
        field = f"parts.{basket.first_index[shortage.product]}.product"
        error: dict[str, object] = {"field": field, "product": shortage.product}
        if shortage.available is None:
            error["message"] = "Product does not exist."
        else:
            error["message"] = f"Insufficient stock: {shortage.requested} requested, {shortage.available} available."
            error |= {"requested": shortage.requested, "available": shortage.available}
        errors.append(error)
    unknown = {shortage.product for shortage in shortages if shortage.available is None}
    if unknown:
        original = unknown_products(basket.part_products, unknown)
        return InvalidRequest("Some products do not exist.", errors=errors, code="unknown_product", original=original)
    # The Django app named the first short part of the request.
    first_short = min(shortages, key=lambda shortage: basket.first_index[shortage.product]).product
    return InvalidRequest(
        "Insufficient stock for some products.", errors=errors, code="insufficient_stock", original=short_stock(first_short)
    )


def _priced(
    user_id: int,
    basket: _Basket,
    *,
    consistent: bool,
    known: tuple[dict[int, BasketProduct], dict[int, int]] | None = None,
) -> PricedBasket:
    """The basket read (or `known`) and priced now; a 400 naming the products that are missing
    or short (checked before the transaction for a complete, friendly answer: the transaction's
    own conditions are what guarantee that stock is never oversold)."""
    try:
        priced, products = price_basket(user_id, basket.totals, datetime.now(UTC), consistent=consistent, known=known)
    except OrderTooLarge as too_large:
        raise _too_large_error(too_large, basket) from too_large
    if priced is None:
        raise _shortage_error(_shortages(basket.totals, products), basket)
    return priced


def _amount(cents: int) -> str:
    """An amount for people: 9,999,999,999,999.99."""
    units, rest = divmod(cents, 100)
    return f"{units:,}.{rest:02d}"


def _too_large_error(too_large: OrderTooLarge, basket: _Basket) -> InvalidRequest:
    """An order that would cost more than any order may (every amount must stay exact in a JSON
    client): the lines that cost too much on their own, with the most of each that fits, or else
    the parts as a whole."""
    limit = f"{_amount(MAX_ORDER_CENTS)} {currency()}"
    message = f"An order may cost at most {limit}; this one would cost {_amount(too_large.subtotal_cents)}."
    errors: list[dict[str, object]] = []
    for product, cents in too_large.line_cents.items():
        if cents > MAX_ORDER_CENTS:
            quantity = basket.totals[product]
            most = MAX_ORDER_CENTS // (cents // quantity)
            errors.append(
                {
                    "field": f"parts.{basket.first_index[product]}.quantity_in_order",
                    "product": product,
                    "message": f"{quantity:,} of this product cost {_amount(cents)}: at most {most:,} fit in one order.",
                    "requested": quantity,
                    "max_quantity": most,
                }
            )
    if not errors:
        together = _amount(too_large.subtotal_cents)
        errors.append({"field": "parts", "message": f"The parts together cost {together}, over {limit}."})
    return InvalidRequest(message, errors=errors, code="order_too_large", original=order_limit(message))


def _shortages(totals: dict[int, int], products: dict[int, BasketProduct]) -> list[StockShortage]:
    return [
        StockShortage(product_id, quantity, products[product_id].stock.quantity if product_id in products else None)
        for product_id, quantity in totals.items()
        if product_id not in products or products[product_id].stock.quantity < quantity
    ]


def quote_order(user_id: int, request: QuoteRequest) -> QuoteJson:
    """What the order would cost now, with the same reads and the same pricing, writing nothing."""
    return _priced(user_id, _basket(request), consistent=False).to_json()


def place_order(user_id: int, request: OrderRequest) -> Order:
    """Price the order from what it reads and write it in one transaction guarded by those
    prices, stocks and offer counters. When the transaction finds any of them changed, the
    basket is read again (strongly) and priced again; if the client sent `expected_total` and
    the new total differs, 409 `price_changed` with the fresh quote, nothing written."""
    basket = _basket(request)
    known: tuple[dict[int, BasketProduct], dict[int, int]] | None = None  # None: read the basket
    for attempt in range(_ATTEMPTS):
        priced = _priced(user_id, basket, consistent=attempt > 0, known=known)
        if request.expected_total is not None and request.expected_total != priced.quote.total:
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
            write_order(order, basket.totals, priced.products, usage_writes(applied, user_id), counted_uses(applied))
            logger.info("Order placed", extra={"order_id": order.id, "lines": len(order.parts), "attempt": attempt + 1})
            return order
        except AccountNotActive as inactive:
            # The access token is still valid, but the account behind it is gone or deactivated.
            logger.info("Order refused: no active account", extra={"user_id": user_id})
            raise AuthenticationFailed("User not found or inactive.", code="user_inactive") from inactive
        except OrderRejected as rejected:
            raise _shortage_error(rejected.shortages, basket) from rejected
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


def list_orders(user_id: int, limit: int, cursor: str | None) -> tuple[list[Order], bool]:
    """The user's orders, newest first (at most `limit`), and whether older ones remain."""
    before = decode_cursor(cursor, _OLDER_THAN)[1] if cursor else None
    return orders_of(user_id, limit, before)


def older_than(order: Order) -> str:
    """The cursor of the orders older than this one."""
    return encode_cursor(_OLDER_THAN, order.id)
