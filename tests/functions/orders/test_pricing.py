"""The pricing function (functions/orders/pricing.py) against the rules of docs/offers.md:
properties over random baskets and offers, brute-force and arithmetic oracles, and examples."""

import itertools
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from orders.pricing import BasketLine, Quote, price_order
from shop_common.offers import AmountOff, BuyXGetY, Offer, OfferTerms, PercentOff

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
CENT = Decimal("0.01")
PRODUCTS = [1, 2, 3, 4, 5]
terms_adapter: TypeAdapter[BuyXGetY | PercentOff | AmountOff] = TypeAdapter(OfferTerms)
# No deadline: a busy machine must not fail a test; the example counts keep the file near 10 s.
quick = settings(deadline=None, max_examples=150)


def make_offer(offer_id: int, kind: str, *, times_used: int = 0, **terms: Any) -> Offer:
    fields = {"name": f"offer {offer_id}", "starts_at": NOW - timedelta(days=1), "kind": kind} | terms
    return Offer(id=offer_id, terms=terms_adapter.validate_python(fields), times_used=times_used)


def basket(*lines: tuple[int, str, int]) -> list[BasketLine]:
    return [BasketLine(product, Decimal(price), quantity) for product, price, quantity in lines]


def quote(lines: Sequence[BasketLine], offers: Iterable[Offer] = (), usage: Mapping[int, int] | None = None) -> Quote:
    return price_order(lines, list(offers), NOW, usage or {}, currency="USD")


def dollars(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


# --- strategies -------------------------------------------------------------------------------

prices = st.integers(0, 100_000).map(dollars)
percents = st.sampled_from([Decimal(100), Decimal(50), Decimal("33.33"), Decimal("12.5"), Decimal("0.01"), Decimal(10)])
product_sets = st.lists(st.sampled_from(PRODUCTS), min_size=1, max_size=3, unique=True)


@st.composite
def baskets(draw: st.DrawFn, max_quantity: int = 1000, price: st.SearchStrategy[Decimal] = prices) -> list[BasketLine]:
    products = draw(st.lists(st.sampled_from(PRODUCTS), max_size=len(PRODUCTS), unique=True))
    return [BasketLine(product, draw(price), draw(st.integers(1, max_quantity))) for product in products]


@st.composite
def offers(draw: st.DrawFn, offer_id: int, stacks: bool | None = None) -> Offer:
    common: dict[str, Any] = {
        "priority": draw(st.integers(0, 3)),
        "stacks": draw(st.booleans()) if stacks is None else stacks,
    }
    kind = draw(st.sampled_from(["buy_x_get_y", "percent_off", "amount_off"]))
    if kind == "buy_x_get_y":
        return make_offer(
            offer_id,
            kind,
            buy_products=draw(product_sets),
            buy_quantity=draw(st.integers(1, 3)),
            get_products=draw(product_sets),
            get_quantity=draw(st.integers(1, 3)),
            get_percent=draw(percents),
            max_applications=draw(st.none() | st.integers(1, 4)),
            **common,
        )
    if kind == "percent_off":
        return make_offer(offer_id, kind, percent=draw(percents), products=draw(st.none() | product_sets), **common)
    return make_offer(offer_id, kind, amount=draw(prices.filter(bool)), min_subtotal=draw(prices), **common)


@st.composite
def offer_lists(draw: st.DrawFn, max_size: int = 4, stacks: bool | None = None) -> list[Offer]:
    size = draw(st.integers(0, max_size))
    return [draw(offers(offer_id, stacks)) for offer_id in range(1, size + 1)]


# --- properties -------------------------------------------------------------------------------


@quick
@given(baskets(), offer_lists())
def test_lines_add_up_to_the_total_and_no_discount_exceeds_its_line(lines: list[BasketLine], offer_list: list[Offer]) -> None:
    result = quote(lines, offer_list)
    assert [(line.product, line.unit_price, line.quantity) for line in result.lines] == [
        tuple(line) for line in lines
    ]  # nothing added
    for line, (_, unit_price, quantity) in zip(result.lines, lines, strict=True):
        assert line.line_total == unit_price * quantity
        assert 0 <= line.discount <= line.line_total
    assert result.subtotal == sum(line.line_total for line in result.lines)
    assert result.discount_total == sum(line.discount for line in result.lines)
    assert result.discount_total == sum(offer.amount for offer in result.offers)
    assert (
        result.total == result.subtotal - result.discount_total == sum(line.line_total - line.discount for line in result.lines)
    )
    assert 0 <= result.discount_total <= result.subtotal
    money = [result.subtotal, result.discount_total, result.total]
    money += [value for line in result.lines for value in (line.unit_price, line.line_total, line.discount)]
    assert all(value.as_tuple().exponent == -2 for value in money)  # two places, always
    assert result.model_dump(mode="json")["total"] == f"{result.total:.2f}"


@quick
@given(baskets(), offer_lists(), st.randoms(use_true_random=False))
def test_the_order_of_the_parts_and_of_the_offers_changes_nothing(
    lines: list[BasketLine], offer_list: list[Offer], random: Any
) -> None:
    shuffled_lines, shuffled_offers = list(lines), list(offer_list)
    random.shuffle(shuffled_lines)
    random.shuffle(shuffled_offers)
    first, second = quote(lines, offer_list), quote(shuffled_lines, shuffled_offers)
    assert sorted(first.lines, key=lambda line: line.product) == sorted(second.lines, key=lambda line: line.product)
    assert first.model_dump(exclude={"lines"}) == second.model_dump(exclude={"lines"})


@quick
@given(baskets(), st.sampled_from(PRODUCTS), st.integers(1, 1000))
def test_without_offers_more_of_a_product_never_costs_less(lines: list[BasketLine], product: int, extra: int) -> None:
    more = [line._replace(quantity=line.quantity + extra) if line.product == product else line for line in lines]
    before, after = quote(lines), quote(more)
    assert before.total == before.subtotal == sum(price * quantity for _, price, quantity in lines)
    assert before.discount_total == 0
    assert before.offers == []
    assert before.hints == []
    assert after.total >= before.total


@quick
@given(baskets(), prices.filter(bool), prices)
def test_amount_off_applies_only_from_its_minimum_subtotal(lines: list[BasketLine], amount: Decimal, minimum: Decimal) -> None:
    result = quote(lines, [make_offer(1, "amount_off", amount=amount, min_subtotal=minimum)])
    expected = min(amount, result.subtotal) if result.subtotal >= minimum else Decimal(0)
    assert result.discount_total == expected


@quick
@given(baskets(), percents, st.none() | product_sets)
def test_percent_off_rounds_each_line_half_up_to_the_cent(
    lines: list[BasketLine], percent: Decimal, products: list[int] | None
) -> None:
    result = quote(lines, [make_offer(1, "percent_off", percent=percent, products=products)])
    for line in result.lines:
        chosen = products is None or line.product in products
        exact = line.line_total * percent / 100 if chosen else Decimal(0)
        assert line.discount == exact.quantize(CENT, rounding=ROUND_HALF_UP)


@quick
@given(
    st.lists(st.sampled_from(PRODUCTS), min_size=1, unique=True),
    st.lists(st.integers(1, 50), min_size=len(PRODUCTS), max_size=len(PRODUCTS)),
    st.integers(1, 4),
    st.integers(1, 4),
    st.none() | st.integers(1, 5),
)
def test_buy_x_get_y_discounts_y_units_per_full_multiple_up_to_its_limit(
    products: list[int], quantities: list[int], x: int, y: int, limit: int | None
) -> None:
    # One price for every unit, so the discount counts the free units.
    lines = [BasketLine(product, Decimal("2.50"), quantity) for product, quantity in zip(products, quantities, strict=False)]
    offer = make_offer(
        1, "buy_x_get_y", buy_products=products, get_products=products, buy_quantity=x, get_quantity=y, max_applications=limit
    )
    result = quote(lines, [offer])
    qualifying = sum(line.quantity for line in lines)
    applications = qualifying // (x + y) if limit is None else min(limit, qualifying // (x + y))
    assert result.discount_total / Decimal("2.50") == applications * y <= qualifying // (x + y) * y
    assert [(applied.id, applied.applications) for applied in result.offers] == ([(1, applications)] if applications else [])


def best_buy_x_get_y(lines: Sequence[BasketLine], terms: BuyXGetY) -> Decimal:
    """The documented rule by brute force: every way of marking units of each product as bought,
    discounted or neither (never both), keeping those that are k whole applications; the most
    applications, then the smallest discount."""
    choices = []
    for product, _, quantity in lines:
        choices.append(
            [
                (bought, discounted)
                for bought in range(quantity + 1 if product in terms.buy_products else 1)
                for discounted in range(quantity - bought + 1 if product in terms.get_products else 1)
            ]
        )
    best: tuple[int, Decimal] = (0, Decimal(0))
    for marking in itertools.product(*choices):
        bought = sum(units for units, _ in marking)
        discounted = sum(units for _, units in marking)
        applications, rest = divmod(bought, terms.buy_quantity)
        fits = rest == 0 and discounted == applications * terms.get_quantity
        if not fits or (terms.max_applications is not None and applications > terms.max_applications):
            continue
        discount = sum(
            (units * price * terms.get_percent / 100 for (_, units), (_, price, _) in zip(marking, lines, strict=True)),
            Decimal(0),
        )
        if applications > best[0] or (applications == best[0] and discount < best[1]):
            best = (applications, discount)
    return best[1]


@settings(deadline=None, max_examples=300)
@given(
    st.lists(
        st.tuples(st.sampled_from(PRODUCTS[:4]), st.integers(0, 500).map(lambda cents: dollars(2 * cents)), st.integers(1, 4)),
        max_size=3,
        unique_by=lambda line: line[0],
    ),
    st.lists(st.sampled_from(PRODUCTS[:4]), min_size=1, max_size=3, unique=True),
    st.lists(st.sampled_from(PRODUCTS[:4]), min_size=1, max_size=3, unique=True),
    st.integers(1, 3),
    st.integers(1, 3),
    st.sampled_from([Decimal(100), Decimal(50)]),
    st.none() | st.integers(1, 3),
)
def test_buy_x_get_y_matches_a_brute_force_oracle(
    raw_lines: list[tuple[int, Decimal, int]],
    buy: list[int],
    get: list[int],
    x: int,
    y: int,
    percent: Decimal,
    limit: int | None,
) -> None:
    # Even cents at 50 % or whole cents at 100 %: no rounding, so the oracle's sum is exact.
    lines = [BasketLine(*line) for line in raw_lines]
    offer = make_offer(
        1,
        "buy_x_get_y",
        buy_products=buy,
        get_products=get,
        buy_quantity=x,
        get_quantity=y,
        get_percent=percent,
        max_applications=limit,
    )
    assert isinstance(offer.terms, BuyXGetY)
    assert quote(lines, [offer]).discount_total == best_buy_x_get_y(lines, offer.terms)


def applications(result: Quote) -> int:
    return sum(applied.applications for applied in result.offers)


@quick
@given(
    baskets(max_quantity=6, price=prices.filter(bool)),  # a free unit that costs nothing takes nothing off
    product_sets,
    product_sets,
    st.integers(1, 3),
    st.integers(1, 3),
    st.none() | st.integers(1, 3),
)
def test_a_hint_gives_one_more_application_and_is_the_smallest_that_does(
    lines: list[BasketLine], buy: list[int], get: list[int], x: int, y: int, limit: int | None
) -> None:
    offer = make_offer(
        1, "buy_x_get_y", buy_products=buy, get_products=get, buy_quantity=x, get_quantity=y, max_applications=limit
    )
    before = quote(lines, [offer])

    def adding(product: int, units: int) -> int:
        grown = [line._replace(quantity=line.quantity + units) if line.product == product else line for line in lines]
        if product not in {line.product for line in lines}:
            grown.append(BasketLine(product, Decimal("1.00"), units))
        return applications(quote(grown, [offer]))

    smallest = {
        product: next((units for units in range(1, y + 1) if adding(product, units) > applications(before)), None)
        for product in buy + get
    }
    if not ({line.product for line in lines} & {*buy, *get}) or all(units is None for units in smallest.values()):
        assert before.hints == []
        return
    [hint] = before.hints
    assert adding(hint.product, hint.add_quantity) == applications(before) + 1
    assert hint.add_quantity == min(units for units in smallest.values() if units is not None)
    assert hint.discounted_quantity == y


@quick
@given(baskets(), offer_lists(stacks=False))
def test_of_non_stacking_offers_the_best_single_one_wins(lines: list[BasketLine], offer_list: list[Offer]) -> None:
    result = quote(lines, offer_list)
    alone = [quote(lines, [offer]).discount_total for offer in offer_list]
    assert result.discount_total == max(alone, default=Decimal(0))
    assert len(result.offers) <= 1


@quick
@given(baskets(), offer_lists(stacks=True))
def test_stacking_offers_apply_by_kind_then_priority(lines: list[BasketLine], offer_list: list[Offer]) -> None:
    # Every offer that gives a discount is listed, each once, in the order they were applied:
    # buy_x_get_y, then percent_off, then amount_off, each by priority (higher first), then id.
    result = quote(lines, offer_list)
    kinds = ["buy_x_get_y", "percent_off", "amount_off"]
    by_id = {offer.id: offer for offer in offer_list}
    applied = [by_id[applied.id] for applied in result.offers]
    assert applied == sorted(applied, key=lambda offer: (kinds.index(offer.terms.kind), -offer.terms.priority, offer.id))
    assert all(applied.amount > 0 for applied in result.offers)


# --- examples ---------------------------------------------------------------------------------


def test_the_cheapest_qualifying_units_are_the_free_ones_and_buy_units_are_not_free() -> None:
    bogo = make_offer(1, "buy_x_get_y", buy_products=[1, 2, 3], get_products=[1, 2, 3], buy_quantity=1, get_quantity=1)
    result = quote(basket((1, "10.00", 1), (2, "4.00", 1), (3, "7.00", 1)), [bogo])
    assert [line.discount for line in result.lines] == [0, Decimal("4.00"), 0]  # 10 bought, 4 free, 7 left over
    assert result.total == Decimal("17.00")


def test_other_products_as_the_reward() -> None:
    shirts_then_socks = make_offer(
        1,
        "buy_x_get_y",
        name="Two shirts, socks half price",
        buy_products=[1],
        buy_quantity=2,
        get_products=[2],
        get_quantity=1,
        get_percent=50,
    )
    result = quote(basket((1, "20.00", 4), (2, "3.00", 5)), [shirts_then_socks])
    assert [line.discount for line in result.lines] == [0, Decimal("3.00")]  # two applications, 1.50 each
    assert [(offer.name, offer.amount, offer.applications) for offer in result.offers] == [
        ("Two shirts, socks half price", Decimal("3.00"), 2)
    ]


def test_a_free_unit_is_never_added_but_hinted() -> None:
    bogo = make_offer(7, "buy_x_get_y", name="BOGO", buy_products=[1], get_products=[1], buy_quantity=1, get_quantity=1)
    result = quote(basket((1, "5.00", 3)), [bogo])
    assert result.lines[0].quantity == 3
    assert result.discount_total == Decimal("5.00")
    assert [(hint.offer, hint.product, hint.add_quantity, hint.discounted_quantity) for hint in result.hints] == [(7, 1, 1, 1)]
    assert [hint.message("Mug") for hint in result.hints] == ["Add 1 more Mug to get 1 free (BOGO)."]
    assert quote(basket((1, "5.00", 4)), [bogo]).hints == []  # nothing to add: four units, two free


def test_hints_name_a_product_not_yet_in_the_basket_and_the_discount() -> None:
    socks = make_offer(
        2, "buy_x_get_y", name="Socks", buy_products=[1], buy_quantity=2, get_products=[9, 8], get_quantity=1, get_percent="12.50"
    )
    assert [(hint.product, hint.message("Sock")) for hint in quote(basket((1, "20.00", 2)), [socks]).hints] == [
        (8, "Add 1 Sock to get 1 at 12.5 % off (Socks).")
    ]
    assert quote(basket((1, "20.00", 1)), [socks]).hints == []  # a shirt short: too far for a hint
    either = make_offer(4, "buy_x_get_y", buy_products=[1, 2], get_products=[1, 2], buy_quantity=1, get_quantity=1)
    assert [hint.product for hint in quote(basket((2, "20.00", 1)), [either]).hints] == [2]  # the one in the basket
    limited = make_offer(3, "buy_x_get_y", buy_products=[1], get_products=[1], buy_quantity=1, get_quantity=1, max_applications=1)
    assert quote(basket((1, "20.00", 3)), [limited]).hints == []  # at its limit


def test_rounding_happens_once_per_line_half_up() -> None:
    third = make_offer(1, "percent_off", percent="33.33")
    result = quote(basket((1, "0.05", 3), (2, "1.00", 1)), [third])
    # 0.15 x 33.33 % = 0.049995 -> 0.05; 1.00 x 33.33 % = 0.3333 -> 0.33
    assert [line.discount for line in result.lines] == [Decimal("0.05"), Decimal("0.33")]
    half = make_offer(1, "percent_off", percent=50)
    assert quote(basket((1, "0.01", 1)), [half]).total == Decimal("0.00")  # 0.005 rounds up


def test_stacking_offers_apply_in_turn_to_what_is_left() -> None:
    bogo = make_offer(1, "buy_x_get_y", buy_products=[1], get_products=[1], buy_quantity=1, get_quantity=1, stacks=True)
    tenth = make_offer(2, "percent_off", percent=10, stacks=True, priority=9)
    five = make_offer(3, "amount_off", amount="5.00", min_subtotal="50.00", stacks=True)  # the subtotal counts
    result = quote(basket((1, "10.00", 2), (2, "30.00", 1)), [five, tenth, bogo])
    # bogo 10.00 on product 1; 10 % of what is left: 1.00 and 3.00; 5.00 over 9.00 and 27.00: 1.25 and 3.75
    assert [line.discount for line in result.lines] == [Decimal("12.25"), Decimal("6.75")]
    assert [(offer.id, offer.amount) for offer in result.offers] == [
        (1, Decimal("10.00")),
        (2, Decimal("4.00")),
        (3, Decimal("5.00")),
    ]
    assert result.total == Decimal("31.00")


def test_a_non_stacking_offer_is_used_alone_and_a_tie_goes_to_the_stacking_ones() -> None:
    lines = basket((1, "10.00", 2))
    bogo = make_offer(1, "buy_x_get_y", buy_products=[1], get_products=[1], buy_quantity=1, get_quantity=1, stacks=True)
    tenth = make_offer(2, "percent_off", percent=10, stacks=True)
    better = make_offer(3, "percent_off", percent=60, priority=1000)
    equal = make_offer(4, "percent_off", percent=55, priority=1000)
    assert [offer.id for offer in quote(lines, [bogo, tenth, better]).offers] == [3]  # 12.00 beats 11.00
    assert [offer.id for offer in quote(lines, [bogo, tenth, equal]).offers] == [1, 2]  # 11.00 each
    twin = make_offer(5, "percent_off", percent=55)
    assert [offer.id for offer in quote(lines, [twin, equal]).offers] == [4]  # then the higher priority


def test_buy_units_of_one_offer_are_not_used_again_by_another() -> None:
    first = make_offer(
        1, "buy_x_get_y", buy_products=[1], get_products=[1], buy_quantity=1, get_quantity=1, stacks=True, priority=2
    )
    second = make_offer(2, "buy_x_get_y", buy_products=[1], get_products=[2], buy_quantity=1, get_quantity=1, stacks=True)
    result = quote(basket((1, "8.00", 2), (2, "6.00", 1)), [first, second])
    assert [(offer.id, offer.amount) for offer in result.offers] == [(1, Decimal("8.00"))]  # both units of 1 are taken
    result = quote(basket((1, "8.00", 3), (2, "6.00", 1)), [first, second])
    assert [(offer.id, offer.amount) for offer in result.offers] == [(1, Decimal("8.00")), (2, Decimal("6.00"))]


def test_amount_off_is_spread_over_the_lines_and_never_beyond_the_total() -> None:
    three = make_offer(1, "amount_off", amount="1.00")
    result = quote(basket((1, "1.00", 1), (2, "1.00", 1), (3, "1.00", 1)), [three])
    assert [line.discount for line in result.lines] == [Decimal("0.34"), Decimal("0.33"), Decimal("0.33")]  # lowest id first
    huge = make_offer(1, "amount_off", amount="500.00")
    result = quote(basket((1, "1.00", 2), (2, "0.50", 1)), [huge])
    assert (result.discount_total, result.total) == (Decimal("2.50"), Decimal("0.00"))
    assert [offer.amount for offer in result.offers] == [Decimal("2.50")]  # what it actually took off


@pytest.mark.parametrize(
    ("window", "applies"),
    [
        ({"starts_at": NOW}, True),
        ({"starts_at": NOW + timedelta(microseconds=1)}, False),
        ({"starts_at": NOW - timedelta(days=1), "ends_at": NOW}, False),
        ({"starts_at": NOW - timedelta(days=1), "ends_at": NOW + timedelta(microseconds=1)}, True),
    ],
)
def test_an_offer_applies_from_its_start_until_before_its_end(window: dict[str, Any], applies: bool) -> None:
    offer = make_offer(1, "percent_off", percent=10, **window)
    assert bool(quote(basket((1, "10.00", 1)), [offer]).offers) is applies


@pytest.mark.parametrize(
    ("times_used", "customer_uses", "applies"),
    [(99, 2, True), (100, 0, False), (0, 3, False), (0, 2, True)],
)
def test_usage_limits_overall_and_per_customer(times_used: int, customer_uses: int, applies: bool) -> None:
    offer = make_offer(5, "amount_off", times_used=times_used, amount="1.00", max_uses=100, max_uses_per_customer=3)
    result = quote(basket((1, "10.00", 1)), [offer], usage={5: customer_uses, 6: 99})
    assert [(applied.id, applied.applications) for applied in result.offers] == ([(5, 1)] if applies else [])


def test_an_offer_that_takes_nothing_off_is_not_used() -> None:
    elsewhere = make_offer(1, "percent_off", percent=10, products=[2])
    nothing_left = make_offer(2, "amount_off", amount="1.00", stacks=True)
    free = make_offer(3, "percent_off", percent=100, stacks=True)
    assert quote(basket((1, "10.00", 1)), [elsewhere]).offers == []
    assert [offer.id for offer in quote(basket((1, "10.00", 1)), [free, nothing_left]).offers] == [3]
    assert quote(basket((1, "0.00", 2)), [free]).offers == []


def test_bad_lines_are_a_programming_error() -> None:
    for lines in (
        basket((1, "1.00", 1), (1, "1.00", 2)),
        basket((1, "-1.00", 1)),
        basket((1, "0.001", 1)),
        basket((1, "1.00", 0)),
    ):
        with pytest.raises(ValueError, match="product 1"):
            quote(lines)
    with pytest.raises(ValueError, match="timezone-aware"):
        price_order(basket((1, "1.00", 1)), [make_offer(1, "percent_off", percent=1)], datetime(2026, 1, 1), {}, currency="USD")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ends_at": NOW - timedelta(days=1)}, "ends_at must be after starts_at"),
        ({"starts_at": datetime(2026, 1, 1)}, "starts_at"),
        ({"percent": "0"}, "percent"),
        ({"percent": "100.01"}, "percent"),
        ({"percent": "1.005"}, "percent"),
        ({"products": []}, "products"),
        ({"products": [1, 1]}, "products lists a product more than once"),
        ({"priority": 1001}, "priority"),
        ({"max_uses": 0}, "max_uses"),
        ({"kind": "free_money"}, "kind"),
        ({"discount": "5"}, "discount"),
        ({"name": "  "}, "name"),
    ],
)
def test_offer_terms_are_validated(change: dict[str, Any], field: str) -> None:
    terms = {"name": "Ten percent", "kind": "percent_off", "starts_at": NOW, "percent": "10"} | change
    with pytest.raises(ValidationError, match=field):
        terms_adapter.validate_python(terms)


def test_buy_x_get_y_terms_are_validated() -> None:
    valid = {
        "name": "BOGO",
        "kind": "buy_x_get_y",
        "starts_at": NOW,
        "buy_products": [1],
        "buy_quantity": 1,
        "get_products": [1],
        "get_quantity": 1,
    }
    assert terms_adapter.validate_python(valid).model_dump()["get_percent"] == 100
    for change in ({"get_products": [2, 2]}, {"buy_quantity": 0}, {"get_quantity": 101}, {"buy_products": list(range(1, 52))}):
        with pytest.raises(ValidationError):
            terms_adapter.validate_python(valid | change)
