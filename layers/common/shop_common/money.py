"""Money in JSON: exact decimals in, exact JSON numbers out, never a float in between.

The Django app stored prices as floats and wrote them as JSON numbers (`16.0`, `1.64`). The API
keeps every amount as whole cents (a `Decimal` with two places) and writes it as the JSON number
token of that exact value, in the style Python writes a float (`16.0`, `1.6`, `1.64`), so a
client of the Django app reads the same bytes, and `0.1 + 0.2` can never show up as
`0.30000000000000004`. Amounts come in as JSON numbers (the body parser reads them as
`Decimal`, not float) or as decimal strings (`"19.99"`, as this API wrote them before).
"""

import re
from decimal import Decimal
from typing import Annotated, Any

import orjson
from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

CENT = Decimal("0.01")
# Amounts below 10^13 units: 15 significant digits, exact in JSON parsers that read numbers as
# doubles (JavaScript's, Python's), so a client of the Django app reads exactly the amount.
MAX_UNITS_DIGITS = 13


def cents_token(cents: int) -> str:
    """The JSON number token of an amount of whole cents: 1600 -> "16.0", 160 -> "1.6",
    164 -> "1.64", 5 -> "0.05", -164 -> "-1.64" (integer arithmetic only)."""
    sign = "-" if cents < 0 else ""
    units, rest = divmod(abs(cents), 100)
    if rest == 0:
        return f"{sign}{units}.0"
    if rest % 10 == 0:
        return f"{sign}{units}.{rest // 10}"
    return f"{sign}{units}.{rest:02d}"


def decimal_token(value: Decimal) -> str:
    """The JSON number token of a finite decimal, exactly: whole cents as `cents_token` writes
    them; anything finer (a percentage of 12.345, say) with its own digits."""
    cents = value * 100
    if cents == cents.to_integral_value():
        return cents_token(int(cents))
    return format(value.normalize(), "f")


_SPACE = "[ \t\n\r]*"


def _amount_pattern(units_digits: int) -> str:
    return f"^{_SPACE}[0-9]{{1,{units_digits}}}(\\.[0-9]{{1,2}})?{_SPACE}$"


def amount_input(units_digits: int) -> BeforeValidator:
    """An amount as a client may send it: a JSON number (read as Decimal) or a decimal string
    as the OpenAPI document's pattern states it (digits, at most two places, spaces around);
    never a boolean, a list or an object. pydantic checks the places and bounds after this."""
    pattern = re.compile(_amount_pattern(units_digits))

    def read(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            raise PydanticCustomError("decimal_type", "A valid number is required.")
        if isinstance(value, float):  # only from callers in Python: the body parser makes Decimals
            return Decimal(repr(value))
        if isinstance(value, str):
            if not pattern.match(value):
                raise PydanticCustomError(
                    "decimal_type", 'A valid number is required (digits and a point, at most two places, such as "12.50").'
                )
            return Decimal(value.strip(" \t\n\r"))
        return value

    return BeforeValidator(read)


def amount_schema(units_digits: int, description: str) -> WithJsonSchema:
    """What the OpenAPI document says an amount sent by a client is."""
    return WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "exclusiveMaximum": 10**units_digits},
                {"type": "string", "pattern": _amount_pattern(units_digits)},
            ],
            "description": description,
        },
        mode="validation",
    )


def _two_places(value: Decimal) -> Decimal:
    return value.quantize(CENT)


WholeCents = AfterValidator(_two_places)  # 19.9 and "19.90" are the same amount

# An amount a client sends, such as `expected_total`: below 10^13, at most two places.
MoneyInput = Annotated[
    Decimal,
    Field(ge=0, max_digits=MAX_UNITS_DIGITS + 2, decimal_places=2),
    amount_input(MAX_UNITS_DIGITS),
    WholeCents,
    amount_schema(MAX_UNITS_DIGITS, 'An amount: a JSON number (19.99) or a decimal string ("19.99"), at most two places.'),
]


def money_json_schema(description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "number", "minimum": 0, "examples": [19.99]}
    if description:
        schema["description"] = description
    return schema


# An amount the API writes: a Decimal of whole cents, written as a JSON number (shop_common.api).
MoneyNumber = Annotated[
    Decimal,
    Field(ge=0),
    WholeCents,
    WithJsonSchema(money_json_schema()),
]


def _exact_number(value: Any) -> orjson.Fragment:
    if isinstance(value, Decimal):
        return orjson.Fragment(decimal_token(value))
    raise TypeError(f"{type(value).__name__} is not JSON")


def exact_json(body: Any) -> str:
    """JSON text (compact, UTF-8) in which every Decimal (money) is the JSON number of its exact
    value, never written through a float: API responses and published events alike."""
    return orjson.dumps(body, default=_exact_number).decode()
