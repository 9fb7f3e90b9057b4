"""What an order may cost: every amount of a quote or an order stays below 10^13 units, exact in
a client that reads JSON numbers as doubles; a dearer basket is a 400 `order_too_large` (with the
Django app's `order_part` key) and changes nothing."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from orders.models import MAX_PARTS, MAX_QUANTITY
from orders.pricing import MAX_ORDER_CENTS, BasketLine, OrderTooLarge, price_order
from shop_common.catalog import add_products, get_products
from shop_common.models import NewProduct, Product
from shop_common.money import MAX_UNITS_DIGITS, decimal_token
from shop_common.offers import AmountOff, BuyXGetY, Offer, OfferTerms, PercentOff
from shop_common.stock import MAX_STOCK
from shoplocal.gateway.invoke import LocalApi

Headers = dict[str, str]
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
# The oracle's limit, in its own terms: amounts below 10^13 units are exact in doubles.
LIMIT = Decimal(10) ** MAX_UNITS_DIGITS
# The catalogue's dearest price (12 digits, 2 places), and prices near the limit's divisors.
DEAR_PRICES = [Decimal("9999999999.99"), Decimal("1000000.00"), Decimal("100001000.01"), Decimal("0.01")]
terms_adapter: TypeAdapter[BuyXGetY | PercentOff | AmountOff] = TypeAdapter(OfferTerms)


def products_at(*prices: str, stock: int = MAX_STOCK) -> list[Product]:
    return add_products([NewProduct(name=f"Item {n}", price=Decimal(price), quantity=stock) for n, price in enumerate(prices)])


def body(*parts: tuple[int, int]) -> dict[str, Any]:
    return {"parts": [{"product": product, "quantity_in_order": quantity} for product, quantity in parts]}


def exact_in_a_double(token: str) -> bool:
    """A JSON number token reads back as exactly its decimal value through a double."""
    return Decimal(repr(float(token))) == Decimal(token)


@pytest.fixture
def customer(signed_in: Any) -> Headers:
    headers: Headers = signed_in()[1]
    return headers


# --- the reproducers: 400, nothing written ----------------------------------------------------


@pytest.mark.parametrize(
    ("price", "parts", "requested", "most"),
    [
        ("9999999999.99", [1001], 1001, 1000),  # the dearest price 1,001 times
        ("1000000.00", [MAX_QUANTITY] * 10, 10_000_000, 9_999_999),  # 1,000,000.00 x 10,000,000 in ten parts
    ],
)
def test_an_order_dearer_than_the_limit_is_a_400_on_quote_and_order_and_writes_nothing(
    api: LocalApi, customer: Headers, price: str, parts: list[int], requested: int, most: int
) -> None:
    (product,) = products_at(price, stock=20_000_000)
    request = body(*((product.id, quantity) for quantity in parts))
    for path in ("/api/order/quote", "/api/order"):
        response = api.request("POST", path, json_body=request, headers=customer)
        assert response.status == 400, response.body
        answer = response.json()
        assert answer["code"] == "order_too_large"
        cost = f"{Decimal(price) * requested:,.2f}"
        assert answer["detail"] == f"An order may cost at most 9,999,999,999,999.99 USD; this one would cost {cost}."
        assert answer["order_part"] == {"non_field_errors": [answer["detail"]]}  # the Django app's key, as for other limits
        assert answer["errors"] == [
            {
                "field": "parts.0.quantity_in_order",
                "product": product.id,
                "message": f"{requested:,} of this product cost {cost}: at most {most:,} fit in one order.",
                "requested": requested,
                "max_quantity": most,
            }
        ]
    assert get_products([product.id])[product.id].quantity == 20_000_000
    assert api.request("GET", "/api/my-orders", headers=customer).json() == []


def test_lines_that_fit_alone_but_not_together_name_the_parts(api: LocalApi, customer: Headers) -> None:
    first, second = products_at("9999999999.99", "9999999999.99")
    request = body((first.id, 600), (second.id, 600))  # 5,999,999,999,994.00 each
    response = api.request("POST", "/api/order", json_body=request, headers=customer)
    assert response.status == 400, response.body
    assert response.json()["errors"] == [
        {"field": "parts", "message": "The parts together cost 11,999,999,999,988.00, over 9,999,999,999,999.99 USD."}
    ]
    assert [p.quantity for p in get_products([first.id, second.id]).values()] == [MAX_STOCK, MAX_STOCK]
    assert api.request("GET", "/api/my-orders", headers=customer).json() == []


def test_an_order_of_exactly_the_limit_is_placed_and_every_amount_is_exact(api: LocalApi, customer: Headers) -> None:
    # 100,001,000.01 x 99,999 = 9,999,999,999,999.99: the most an order may cost, to the cent.
    dear, cheap = products_at("100001000.01", "0.01")
    request = body((dear.id, 99_999))
    quote = api.request("POST", "/api/order/quote", json_body=request, headers=customer)
    placed = api.request("POST", "/api/order", json_body=request, headers=customer)
    assert (quote.status, placed.status) == (200, 201), (quote.body, placed.body)
    for response in (quote, placed):
        assert '"line_total":9999999999999.99' in response.body
        assert '"subtotal":9999999999999.99,"discount_total":0.0,"total":9999999999999.99' in response.body
        assert response.json()["total"] == 9999999999999.99  # a double reads it exactly
    assert get_products([dear.id])[dear.id].quantity == MAX_STOCK - 99_999
    # One cent more is one cent too many.
    one_more = api.request("POST", "/api/order/quote", json_body=body((dear.id, 99_999), (cheap.id, 1)), headers=customer)
    assert one_more.status == 400
    assert one_more.json()["code"] == "order_too_large"


# --- the bound against an oracle --------------------------------------------------------------

cents = st.one_of(
    st.integers(0, 10**12 - 1),  # any catalogue price
    st.integers(10**9, 10**12 - 1),  # dear ones, where the limit is
    st.sampled_from([0, 1, 10**12 - 1, 10_000_100_001, 10**8]),
)
quantities = st.one_of(st.integers(1, MAX_PARTS * MAX_QUANTITY), st.integers(1, 2_000), st.sampled_from([1, 99_999, 10**6]))


@st.composite
def offer_lists(draw: st.DrawFn, products: list[int]) -> list[Offer]:
    """Up to three stacking offers of every kind over the basket's products."""
    offers = []
    for offer_id in range(1, draw(st.integers(0, 3)) + 1):
        kind = draw(st.sampled_from(["percent_off", "amount_off", "buy_x_get_y"]))
        fields: dict[str, Any] = {"name": f"offer {offer_id}", "starts_at": NOW - timedelta(days=1), "kind": kind, "stacks": True}
        if kind == "percent_off":
            fields |= {"percent": draw(st.sampled_from(["100", "50", "33.33", "0.01"]))}
        elif kind == "amount_off":
            fields |= {"amount": str(Decimal(draw(st.integers(1, 10**12 - 1))).scaleb(-2))}  # offers: below 10^10
        else:
            fields |= {"buy_products": products, "buy_quantity": 1, "get_products": products, "get_quantity": 1}
        offers.append(Offer(id=offer_id, terms=terms_adapter.validate_python(fields), times_used=0))
    return offers


Basket = tuple[list[BasketLine], list[Offer]]


@st.composite
def baskets(draw: st.DrawFn) -> Basket:
    size = draw(st.integers(1, 4))
    lines = [BasketLine(product, Decimal(draw(cents)).scaleb(-2), draw(quantities)) for product in range(1, size + 1)]
    return lines, draw(offer_lists(list(range(1, size + 1))))


@settings(max_examples=200)
@given(baskets())
def test_an_order_is_priced_exactly_when_its_lines_cost_below_ten_to_the_thirteen(
    basket: tuple[list[BasketLine], list[Offer]],
) -> None:
    lines, offers = basket
    oracle = {line.product: line.unit_price * line.quantity for line in lines}  # Decimal arithmetic
    subtotal = sum(oracle.values(), Decimal(0))
    if subtotal >= LIMIT:
        with pytest.raises(OrderTooLarge) as refused:
            price_order(lines, offers, NOW, {}, currency="USD")
        assert Decimal(refused.value.subtotal_cents).scaleb(-2) == subtotal
        assert {p: Decimal(c).scaleb(-2) for p, c in refused.value.line_cents.items()} == oracle
        return
    quote = price_order(lines, offers, NOW, {}, currency="USD")
    assert {line.product: line.line_total for line in quote.lines} == oracle
    assert quote.subtotal == subtotal
    amounts = [quote.subtotal, quote.discount_total, quote.total, *(offer.amount for offer in quote.offers)]
    amounts += [amount for line in quote.lines for amount in (line.unit_price, line.line_total, line.discount)]
    for amount in amounts:
        assert 0 <= amount < LIMIT
        assert exact_in_a_double(decimal_token(amount)), amount


def test_the_limit_is_the_largest_amount_below_ten_to_the_thirteen() -> None:
    assert Decimal(MAX_ORDER_CENTS).scaleb(-2) == LIMIT - Decimal("0.01")
    assert exact_in_a_double(decimal_token(Decimal(MAX_ORDER_CENTS).scaleb(-2)))


@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    prices=st.lists(st.sampled_from(DEAR_PRICES), min_size=1, max_size=3),
    parts=st.lists(st.tuples(st.integers(0, 2), st.integers(1, MAX_QUANTITY)), min_size=1, max_size=6),
)
def test_a_quote_of_random_parts_is_answered_or_refused_as_the_oracle_says(
    api: LocalApi, customer: Headers, prices: list[Decimal], parts: list[tuple[int, int]]
) -> None:
    products = products_at(*(str(price) for price in prices))
    chosen = [(products[index % len(products)], quantity) for index, quantity in parts]
    response = api.request("POST", "/api/order/quote", json_body=body(*((p.id, q) for p, q in chosen)), headers=customer)
    lines: dict[int, Decimal] = {}
    for product, quantity in chosen:  # the same product in several parts counts with the sum
        lines[product.id] = lines.get(product.id, Decimal(0)) + product.price * quantity
    subtotal = sum(lines.values(), Decimal(0))
    if subtotal < LIMIT:
        assert response.status == 200, response.body
        assert Decimal(json.loads(response.body, parse_float=Decimal)["total"]) == subtotal
        return
    assert response.status == 400, response.body
    answer = response.json()
    assert answer["code"] == "order_too_large"
    too_dear = [error["product"] for error in answer["errors"] if "product" in error]
    assert too_dear == [product for product, total in lines.items() if total >= LIMIT]
    if not too_dear:
        assert [error["field"] for error in answer["errors"]] == ["parts"]
