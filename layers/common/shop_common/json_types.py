"""JSON's own types for request bodies, with Django REST framework's messages.

pydantic's lax mode converts: "5", "05" or "5_0" and true become integers, "yes" and "on" become
true, "1e2" becomes the decimal 1E+2 (and is written back so), a number becomes a date. A JSON
API takes each value in its JSON type. Each validator runs before pydantic's own and comes after
the field's bounds in `Annotated`, so the bounds stay JSON Schema's `minimum`/`maximum` in the
OpenAPI document.
"""

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError

# A decimal written out: digits, an optional fraction, no exponent, no spaces.
_PLAIN_DECIMAL = re.compile(r"-?\d+(\.\d+)?")


# A request's JSON gives int and float; Decimal is a number read back from DynamoDB (a model that
# validates stored items too, as offers' terms do).
def _json_integer(value: Any) -> Any:
    # JSON Schema's `integer`: a JSON number without a fraction (1, 1.0); pydantic refuses 1.5.
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise PydanticCustomError("int_type", "A valid integer is required.")
    return value


def _json_decimal(value: Any) -> Any:
    # A JSON number, or a string of a decimal as the API writes them ("19.99").
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise PydanticCustomError("decimal_type", "A valid number is required.")
    if isinstance(value, str) and not _PLAIN_DECIMAL.fullmatch(value):
        raise PydanticCustomError("decimal_type", 'A valid number is required (digits and a point, such as "12.50").')
    return value


def _plain(value: Decimal) -> Decimal:
    """1E+2 (from the JSON number 1e2) as 100: what the API writes back is written out."""
    return Decimal(format(value, "f"))


def _json_boolean(value: Any) -> Any:
    if not isinstance(value, bool):
        raise PydanticCustomError("bool_type", "Must be a valid boolean.")
    return value


def _json_datetime(value: Any) -> Any:
    # ISO 8601 text (or a datetime, from Python); pydantic would read a number as seconds since 1970.
    if not isinstance(value, str | datetime):
        raise PydanticCustomError("datetime_type", 'A date and time as text is required, such as "2026-01-01T00:00:00Z".')
    return value


JsonInteger = BeforeValidator(_json_integer)
JsonDecimal = BeforeValidator(_json_decimal)
PlainDecimal = AfterValidator(_plain)
JsonBoolean = BeforeValidator(_json_boolean)
JsonDateTime = BeforeValidator(_json_datetime)
