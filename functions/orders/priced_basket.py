"""What an order costs, from what it read: one place for quotes and orders alike, so the price
shown is the price charged (`pricing.price_order` does the arithmetic; docs/offers.md)."""

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from orders.models import OfferHintJson, QuoteJson
from orders.pricing import BasketLine, Quote, price_order
from orders.store import BasketProduct, read_basket
from shop_common.errors import Conflict
from shop_common.offer_store import active_offers, customer_use_keys, customer_uses
from shop_common.offers import Offer
from shop_common.orders import AppliedOfferJson, OrderPart


def currency() -> str:
    """The shop's currency (template parameter Currency, default USD)."""
    return os.environ.get("CURRENCY") or "USD"


@dataclass(frozen=True)
class PricedBasket:
    """A basket as read and priced: the products, the offers that were on, and the quote."""

    products: dict[int, BasketProduct]
    offers: dict[int, Offer]  # every active offer, by id
    uses: dict[int, int]  # the customer's past uses of offers limited per customer
    quote: Quote

    def applied(self) -> list[Offer]:
        return [self.offers[applied.id] for applied in self.quote.offers]

    def parts(self) -> list[OrderPart]:
        return [
            OrderPart(
                product=line.product,
                quantity_in_order=line.quantity,
                product_name=self.products[line.product].name,
                unit_price=line.unit_price,
                line_total=line.line_total,
                discount=line.discount,
            )
            for line in self.quote.lines
        ]

    def totals(self) -> dict[str, Any]:
        """The priced fields of an order, as the order records them."""
        return {
            "subtotal": self.quote.subtotal,
            "discount_total": self.quote.discount_total,
            "total": self.quote.total,
            "currency": self.quote.currency,
            "offers": [AppliedOfferJson(id=o.id, name=o.name, amount=o.amount) for o in self.quote.offers],
        }

    def to_json(self) -> QuoteJson:
        """The quote as the API shows it (a quote, or the fresh quote of a 409 price_changed)."""
        names = {**_hinted_names(self.quote, self.products), **{pid: product.name for pid, product in self.products.items()}}
        hints = [
            OfferHintJson(
                offer=h.offer,
                product=h.product,
                add_quantity=h.add_quantity,
                message=h.message(names.get(h.product, f"of product {h.product}")),  # gone since the offer named it
            )
            for h in self.quote.hints
        ]
        return QuoteJson.model_validate({"parts": self.parts(), **self.totals(), "hints": hints})


def price_basket(
    user_id: int,
    quantities: Mapping[int, int],
    now: datetime,
    *,
    consistent: bool,
    known: tuple[dict[int, BasketProduct], dict[int, int]] | None = None,
) -> tuple[PricedBasket | None, dict[int, BasketProduct]]:
    """Read the products and the customer's offer uses (one BatchGetItem; the active offers come
    from the container's cache, one Query when it is stale) and price them; or price `known`
    products and uses, read moments ago, without reading them again. The quote is None when a
    product is missing or short (the caller explains which, from the products)."""
    offers = {offer.id: offer for offer in active_offers(now)}
    if known is None:
        products, others = read_basket(list(quantities), customer_use_keys(offers.values(), user_id), consistent=consistent)
        uses = customer_uses(others, user_id)
    else:
        products, uses = known
    if any(products.get(pid) is None or products[pid].stock.quantity < quantity for pid, quantity in quantities.items()):
        return None, products
    lines: Sequence[BasketLine] = [BasketLine(pid, products[pid].price, quantity) for pid, quantity in quantities.items()]
    quote = price_order(lines, offers.values(), now, uses, currency=currency())
    return PricedBasket(products, offers, uses, quote), products


def _hinted_names(quote: Quote, products: Mapping[int, BasketProduct]) -> dict[int, str]:
    """The names of the products hints suggest adding and the basket lacks: one more
    BatchGetItem, only when there are some (at most one per buy-x-get-y offer)."""
    absent = sorted({hint.product for hint in quote.hints} - products.keys())
    if not absent:
        return {}
    found, _ = read_basket(absent, [], consistent=False)
    return {product_id: product.name for product_id, product in found.items()}


class PriceChanged(Conflict):
    """The order would cost another total than the client expected (409, with the fresh quote)."""

    def __init__(self, expected: Decimal, quote: QuoteJson) -> None:
        total, expected_text = f"{quote.total:.2f}", f"{expected:.2f}"  # for people: two places
        super().__init__(
            f"The order would cost {total} {quote.currency}, not {expected_text}: prices or offers changed.",
            code="price_changed",
            errors=[{"field": "expected_total", "message": f"The total is now {total}."}],
        )
        self.quote = quote

    def body(self) -> dict[str, Any]:
        return {**super().body(), "quote": self.quote.model_dump()}
