"""The one pricing function: what a basket costs with the offers that apply. No I/O.

Quotes and orders both call `price_order`, so the price shown is the price charged. The rules are
spelled out in docs/offers.md; the comments here say how the code keeps them. Money is computed
in whole cents (integers), so nothing is rounded but each offer's discount on each line, once,
half up; every figure of the quote is a sum of those integers and adds up exactly.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Annotated, NamedTuple

from pydantic import BaseModel, Field

from shop_common.money import MAX_UNITS_DIGITS
from shop_common.offers import AmountOff, BuyXGetY, Offer, PercentOff

Money = Annotated[Decimal, Field(ge=0, decimal_places=2)]

# The most an order may cost, in cents: 9,999,999,999,999.99, below 10^13 units, so every amount
# of a quote or an order is exact in clients that read JSON numbers as doubles (shop_common.money).
# Each line total is part of the subtotal, and discounts, offer amounts and the total never exceed
# it: bounding the subtotal bounds them all.
MAX_ORDER_CENTS = 10 ** (MAX_UNITS_DIGITS + 2) - 1


class OrderTooLarge(ValueError):
    """The lines cost more than an order may (`MAX_ORDER_CENTS`): nothing is priced."""

    def __init__(self, subtotal_cents: int, line_cents: Mapping[int, int]) -> None:
        super().__init__(f"the lines cost {subtotal_cents} cents, more than {MAX_ORDER_CENTS}")
        self.subtotal_cents = subtotal_cents
        self.line_cents = dict(line_cents)  # product -> its line's total, in the basket's order


class BasketLine(NamedTuple):
    """One product of a basket: its current catalogue price and the quantity wanted."""

    product: int
    unit_price: Decimal
    quantity: int


class QuoteLine(BaseModel):
    product: int
    quantity: int
    unit_price: Money
    line_total: Money  # unit_price x quantity
    discount: Money  # at most line_total


class AppliedOffer(BaseModel):
    id: int
    name: str
    amount: Annotated[Decimal, Field(gt=0, decimal_places=2)]
    # How many times the offer repeated in this basket (1 but for buy_x_get_y). Usage limits
    # count orders, not applications: an order that uses an offer uses it once.
    applications: Annotated[int, Field(ge=1)]


class OfferHint(BaseModel):
    """Adding `add_quantity` units of `product` would give the offer one more application:
    `discounted_quantity` more units at `percent` % off. The server never adds them itself."""

    offer: int
    offer_name: str
    product: int
    in_basket: bool  # the product is in the basket already ("1 more")
    add_quantity: Annotated[int, Field(ge=1)]
    discounted_quantity: Annotated[int, Field(ge=1)]
    percent: Decimal

    def message(self, product_name: str) -> str:
        """For people, naming the product: "Add 1 more Mug to get 1 free (Mugs: buy 1, get 1 free)."."""
        reward = "free" if self.percent == 100 else f"at {self.percent.normalize():f} % off"
        more = " more" if self.in_basket else ""
        return f"Add {self.add_quantity}{more} {product_name} to get {self.discounted_quantity} {reward} ({self.offer_name})."


class Quote(BaseModel):
    lines: list[QuoteLine]  # in the order of the basket
    subtotal: Money  # the lines' totals
    discount_total: Money  # the lines' discounts, and the applied offers' amounts
    total: Money  # subtotal - discount_total
    currency: str
    offers: list[AppliedOffer]  # in the order they were applied
    hints: list[OfferHint]


def price_order(
    lines: Sequence[BasketLine],
    offers: Iterable[Offer],
    now: datetime,
    customer_usage: Mapping[int, int],
    *,
    currency: str,
) -> Quote:
    """Price `lines` (distinct products) with the best use of `offers` that the customer may use
    at `now` (`customer_usage`: orders of this customer per offer id). Raises OrderTooLarge when
    the lines cost more than MAX_ORDER_CENTS."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    basket = _basket(lines)
    line_cents = {product: line.price * line.quantity for product, line in basket.items()}
    if sum(line_cents.values()) > MAX_ORDER_CENTS:
        raise OrderTooLarge(sum(line_cents.values()), line_cents)
    usable = sorted(
        (offer for offer in offers if offer.available(now, customer_usage.get(offer.id, 0))),
        key=lambda offer: (-offer.terms.priority, offer.id),
    )
    stacking = [offer for offer in usable if offer.terms.stacks]
    # Candidates, first wins a tie: every stacking offer together, then each non-stacking one alone.
    candidates = [stacking] + [[offer] for offer in usable if not offer.terms.stacks]
    best = _Outcome()
    for candidate in candidates:
        outcome = _apply(basket, candidate)
        if outcome.total() > best.total():
            best = outcome
    discounts = {product: sum(by_product.get(product, 0) for by_product in best.discounts.values()) for product in basket}
    quote_lines = [
        QuoteLine(
            product=line.product,
            quantity=line.quantity,
            unit_price=_money(line.price),
            line_total=_money(line.price * line.quantity),
            discount=_money(discounts[line.product]),
        )
        for line in basket.values()
    ]
    subtotal = sum(line.price * line.quantity for line in basket.values())
    discount_total = sum(discounts.values())
    names = {offer.id: offer.terms.name for offer in usable}
    return Quote(
        lines=quote_lines,
        subtotal=_money(subtotal),
        discount_total=_money(discount_total),
        total=_money(subtotal - discount_total),
        currency=currency,
        offers=[
            AppliedOffer(
                id=offer_id,
                name=names[offer_id],
                amount=_money(sum(by_product.values())),
                applications=best.applications[offer_id],
            )
            for offer_id, by_product in best.discounts.items()
        ],
        hints=[hint for offer in usable if isinstance(offer.terms, BuyXGetY) and (hint := _hint(offer.id, offer.terms, basket))],
    )


# --- the basket, in cents ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    product: int
    price: int  # cents
    quantity: int


def _basket(lines: Sequence[BasketLine]) -> dict[int, _Line]:
    """The lines in cents, keyed by product, in the basket's order (dicts keep insertion order)."""
    basket: dict[int, _Line] = {}
    for line in lines:
        cents = line.unit_price * 100
        if not line.unit_price.is_finite() or line.unit_price < 0 or cents != cents.to_integral_value():
            raise ValueError(f"product {line.product}: a price is a non-negative amount in cents, not {line.unit_price}")
        if isinstance(line.quantity, bool) or line.quantity < 1:
            raise ValueError(f"product {line.product}: a quantity is a positive integer, not {line.quantity!r}")
        if line.product in basket:
            raise ValueError(f"product {line.product} is listed twice; sum its quantities first")
        basket[line.product] = _Line(line.product, int(cents), line.quantity)
    return basket


def _money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _hundredths(percent: Decimal) -> int:
    return int(percent * 100)  # exact: offers' percentages have at most two places


def _half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up to an integer (both non-negative)."""
    return (2 * numerator + denominator) // (2 * denominator)


def _percent_of(cents: int, hundredths: int) -> int:
    return _half_up(cents * hundredths, 10_000)


# --- applying offers --------------------------------------------------------------------------


@dataclass
class _Outcome:
    # offer id -> product -> discount in cents (only offers and products with a discount)
    discounts: dict[int, dict[int, int]] = field(default_factory=dict)
    applications: dict[int, int] = field(default_factory=dict)

    def total(self) -> int:
        return sum(sum(by_product.values()) for by_product in self.discounts.values())

    def record(self, offer_id: int, by_product: dict[int, int], applications: int) -> None:
        by_product = {product: cents for product, cents in by_product.items() if cents > 0}
        if by_product:
            self.discounts[offer_id] = by_product
            self.applications[offer_id] = applications


def _apply(basket: Mapping[int, _Line], offers: Sequence[Offer]) -> _Outcome:
    """Apply `offers` (in priority order) by kind: buy_x_get_y on units, then percent_off on what
    each line still costs, then amount_off on what the order still costs."""
    outcome = _Outcome()
    unclaimed = {product: line.quantity for product, line in basket.items()}  # units in no buy_x_get_y
    remaining = {product: line.price * line.quantity for product, line in basket.items()}  # cents left to pay
    for offer in offers:
        if isinstance(offer.terms, BuyXGetY):
            by_product, applications = _buy_x_get_y(offer.terms, basket, unclaimed)
            outcome.record(offer.id, by_product, applications)
            for product, cents in by_product.items():
                remaining[product] -= cents
    for offer in offers:
        if isinstance(offer.terms, PercentOff):
            hundredths = _hundredths(offer.terms.percent)
            chosen = remaining.keys() if offer.terms.products is None else set(offer.terms.products) & remaining.keys()
            by_product = {product: _percent_of(remaining[product], hundredths) for product in chosen}
            outcome.record(offer.id, by_product, 1)
            for product, cents in by_product.items():
                remaining[product] -= cents
    subtotal = sum(line.price * line.quantity for line in basket.values())
    for offer in offers:
        if isinstance(offer.terms, AmountOff) and subtotal >= _hundredths(offer.terms.min_subtotal):
            by_product = _spread(_hundredths(offer.terms.amount), remaining)
            outcome.record(offer.id, by_product, 1)
            for product, cents in by_product.items():
                remaining[product] -= cents
    return outcome


def _applications(terms: BuyXGetY, buy_only: int, get_only: int, both: int) -> int:
    """How many times the offer fits in units that are buy products only, get products only, or
    both. k fits when disjoint sets of k*x buy units and k*y get units exist: exactly when
    k*x <= buy_only + both, k*y <= get_only + both and k*(x+y) <= all three together."""
    x, y = terms.buy_quantity, terms.get_quantity
    fits = min((buy_only + both) // x, (get_only + both) // y, (buy_only + get_only + both) // (x + y))
    return fits if terms.max_applications is None else min(fits, terms.max_applications)


def _unit_counts(terms: BuyXGetY, units: Mapping[int, int]) -> tuple[int, int, int]:
    buy, get = set(terms.buy_products), set(terms.get_products)
    buy_only = sum(count for product, count in units.items() if product in buy and product not in get)
    get_only = sum(count for product, count in units.items() if product in get and product not in buy)
    both = sum(count for product, count in units.items() if product in buy and product in get)
    return buy_only, get_only, both


def _buy_x_get_y(terms: BuyXGetY, basket: Mapping[int, _Line], unclaimed: dict[int, int]) -> tuple[dict[int, int], int]:
    """Discounts per product and applications; claims the units used (bought and discounted).

    As many applications as fit; the discounted units are the cheapest get units that still leave
    enough buy units (a unit is never both), the bought ones the dearest buy units left.
    Choosing the cheapest under a cap on the units taken from both lists is a matroid, so the
    greedy choice is the cheapest possible."""
    buy_only, get_only, both = _unit_counts(terms, unclaimed)
    applications = _applications(terms, buy_only, get_only, both)
    if applications == 0:
        return {}, 0
    buy, get = set(terms.buy_products), set(terms.get_products)
    spare_both = buy_only + both - applications * terms.buy_quantity  # units of both lists that may be discounted
    to_discount = applications * terms.get_quantity
    discounted: dict[int, int] = {}
    for line in sorted((basket[product] for product in get & unclaimed.keys()), key=lambda line: (line.price, line.product)):
        take = min(unclaimed[line.product], to_discount, spare_both if line.product in buy else to_discount)
        if take:
            discounted[line.product] = take
            to_discount -= take
            if line.product in buy:
                spare_both -= take
    to_buy = applications * terms.buy_quantity
    for line in sorted((basket[product] for product in buy & unclaimed.keys()), key=lambda line: (-line.price, line.product)):
        take = min(unclaimed[line.product] - discounted.get(line.product, 0), to_buy)
        unclaimed[line.product] -= take
        to_buy -= take
    assert to_discount == 0, "the applications were counted as fitting"
    assert to_buy == 0, "the applications were counted as fitting"
    hundredths = _hundredths(terms.get_percent)
    by_product: dict[int, int] = {}
    for product, count in discounted.items():
        unclaimed[product] -= count
        by_product[product] = _percent_of(basket[product].price * count, hundredths)
    return by_product, applications


def _spread(amount: int, remaining: Mapping[int, int]) -> dict[int, int]:
    """`amount` cents (at most what is left) over the lines in proportion to what each still
    costs; the cents left by rounding down go to the largest remainders, then the lowest ids."""
    left = sum(remaining.values())
    amount = min(amount, left)
    if amount == 0:
        return {}
    shares = {product: amount * cents // left for product, cents in remaining.items()}
    by_remainder = sorted(remaining, key=lambda product: (-(amount * remaining[product] % left), product))
    for product in by_remainder[: amount - sum(shares.values())]:
        shares[product] += 1  # never past the line: its share had a fraction, so was below it
    return shares


# --- hints ------------------------------------------------------------------------------------


def _hint(offer_id: int, terms: BuyXGetY, basket: Mapping[int, _Line]) -> OfferHint | None:
    """The fewest units of one product that would give the offer, on its own, one more
    application, when no more are needed than that application discounts ("add 1 more to get 1
    free"); None when the basket holds none of its products or it is at its limit (counted
    applications never exceed it)."""
    quantities = {product: line.quantity for product, line in basket.items()}
    buy, get = set(terms.buy_products), set(terms.get_products)
    if not (buy | get) & quantities.keys():
        return None
    counts = _unit_counts(terms, quantities)
    applications = _applications(terms, *counts)
    options = []  # (units to add, product not in the basket, product)
    for kind, products in enumerate((buy - get, get - buy, buy & get)):
        if not products:
            continue
        for add in range(1, terms.get_quantity + 1):
            grown = list(counts)
            grown[kind] += add
            if _applications(terms, *grown) > applications:
                product = min(products, key=lambda product: (product not in quantities, product))
                options.append((add, product not in quantities, product))
                break
    if not options:
        return None
    add, absent, product = min(options)
    return OfferHint(
        offer=offer_id,
        offer_name=terms.name,
        product=product,
        in_basket=not absent,
        add_quantity=add,
        discounted_quantity=terms.get_quantity,
        percent=terms.get_percent,
    )
