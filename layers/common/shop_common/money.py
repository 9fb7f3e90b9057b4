"""Money in JSON: exact decimals in, exact JSON numbers out, never a float in between.

The Django app stored prices as floats and wrote them as JSON numbers (`16.0`, `1.64`). The API
keeps every amount as whole cents (a `Decimal` with two places) and writes it as the JSON number
token of that exact value, in the style Python writes a float (`16.0`, `1.6`, `1.64`), so a
client of the Django app reads the same bytes, and `0.1 + 0.2` can never show up as
`0.30000000000000004`. Amounts come in as JSON numbers (the body parser reads them as
`Decimal`, not float) or as decimal strings (`"19.99"`, as this API wrote them before).
"""

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema

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


def _decimal_input(value: Any) -> Any:
    """An amount as a client may send it: a JSON number (read as Decimal) or a decimal string
    (surrounding spaces allowed); never a boolean, a list or an object. pydantic checks the
    places and bounds after this."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError("must be a decimal number or a string of one")
    if isinstance(value, float):  # only from callers in Python: the body parser makes Decimals
        value = repr(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            parsed = Decimal(text)
        except InvalidOperation:
            raise ValueError("must be a decimal number or a string of one") from None
        if not parsed.is_finite() or "_" in text:
            raise ValueError("must be a decimal number or a string of one")
        return parsed
    return value


def _two_places(value: Decimal) -> Decimal:
    return value.quantize(CENT)


DecimalInput = BeforeValidator(_decimal_input)

# An amount a client sends: a JSON number or a decimal string, at most two places, >= 0.
MoneyInput = Annotated[
    Decimal,
    Field(ge=0, max_digits=MAX_UNITS_DIGITS + 2, decimal_places=2),
    DecimalInput,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": 10**MAX_UNITS_DIGITS},
                {"type": "string", "pattern": r"^\s*\d{1,13}(\.\d{1,2})?\s*$"},
            ],
            "description": "An amount: a JSON number (19.99) or a decimal string (\"19.99\"), at most two places.",
        }
    ),
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
    AfterValidator(_two_places),
    WithJsonSchema(money_json_schema()),
]
