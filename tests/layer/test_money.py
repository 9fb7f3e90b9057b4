"""Money is written exactly from whole cents, as the JSON number a client of the Django app read
(its floats: 16.0, 1.6, 1.64), with integer arithmetic only; checked against Decimal, the oracle."""

import json
import re
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from shop_common.api import json_text
from shop_common.money import MoneyInput, cents_token, decimal_token

JSON_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)\.[0-9]+")
CENTS = st.integers(min_value=-(10**15), max_value=10**15)


@given(CENTS)
def test_a_token_is_exactly_its_cents(cents: int) -> None:
    token = cents_token(cents)
    assert JSON_NUMBER.fullmatch(token)
    assert Decimal(token) == Decimal(cents) / 100
    assert not token.endswith("0") or token.endswith(".0")  # shortest: no trailing zero but one


@given(st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1))
def test_a_token_is_what_python_writes_for_the_same_float(cents: int) -> None:
    # Amounts of at most 15 significant digits are exact as floats: the Django app (a FloatField
    # written by Python's json) wrote these very bytes for them.
    assert cents_token(cents) == repr(float(Decimal(cents) / 100))


@given(CENTS)
def test_a_decimal_of_whole_cents_is_written_as_its_cents(cents: int) -> None:
    for places in (Decimal(cents) / 100, (Decimal(cents) / 100).quantize(Decimal("0.01")), Decimal(cents).scaleb(-2)):
        assert decimal_token(places) == cents_token(cents)


@given(st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-(10**9), max_value=10**9))
def test_finer_decimals_are_written_exactly_too(value: Decimal) -> None:
    assert Decimal(decimal_token(value)) == value


@given(st.lists(CENTS, max_size=5))
def test_the_response_writer_puts_the_tokens_in_the_json(amounts: list[int]) -> None:
    body: dict[str, Any] = {"amounts": [Decimal(cents) / 100 for cents in amounts], "name": "Zoë"}
    text = json_text(body)
    assert text == '{"amounts":[' + ",".join(map(cents_token, amounts)) + '],"name":"Zoë"}'
    assert json.loads(text, parse_float=Decimal)["amounts"] == [Decimal(cents) / 100 for cents in amounts]


def test_the_famous_float_sums_are_not_what_is_written() -> None:
    assert json_text({"total": Decimal("0.1") + Decimal("0.2")}) == '{"total":0.3}'
    assert json_text([Decimal("1.64"), Decimal("16"), Decimal("0.05")]) == "[1.64,16.0,0.05]"


MONEY = TypeAdapter(MoneyInput)


@given(st.integers(min_value=0, max_value=10**15 - 1), st.sampled_from(["{}", " {} ", "{}\n"]), st.booleans())
def test_an_amount_is_read_from_a_number_or_a_decimal_string(cents: int, spacing: str, as_string: bool) -> None:
    text = cents_token(cents)
    sent: Any = spacing.format(text) if as_string else Decimal(text)  # the body parser reads numbers as Decimal
    assert MONEY.validate_python(sent) == Decimal(cents) / 100


@pytest.mark.parametrize("sent", ["1.005", "-1", "1e2", ".5", "1,5", "", "Infinity", True, [1], {"a": 1}, Decimal("1.005"), None])
def test_anything_else_is_not_an_amount(sent: Any) -> None:
    with pytest.raises(ValidationError):
        MONEY.validate_python(sent)
