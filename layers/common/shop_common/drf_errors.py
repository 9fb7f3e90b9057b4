"""The Django app's validation messages (Django REST framework's), for the keys a client of that
app reads beside ours: `{"username": ["This field is required."]}`.

Validation here is pydantic's; each of its errors (a location, a type, the input, the bounds) is
put in DRF's words for the same problem, so the messages are the ones the Django app sent.
"""

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

Problem = Mapping[str, Any]  # one error of pydantic's `errors()`: loc, type, msg, input, ctx

REQUIRED = "This field is required."
NOT_NULL = "This field may not be null."
BLANK = "This field may not be blank."
NOT_A_STRING = "Not a valid string."
NOT_AN_INTEGER = "A valid integer is required."
NOT_A_NUMBER = "A valid number is required."

# Python's names for JSON's types, as DRF's messages print them ("received str").
_TYPE_NAMES: dict[type, str] = {
    str: "str",
    int: "int",
    bool: "bool",
    Decimal: "float",
    float: "float",
    list: "list",
    dict: "dict",
}


def type_name(value: Any) -> str:
    return "NoneType" if value is None else _TYPE_NAMES.get(type(value), type(value).__name__)


def _bound(problem: Problem, name: str) -> Any:
    return (problem.get("ctx") or {}).get(name)


def drf_message(problem: Problem) -> str:
    """DRF's message for the problem pydantic found (pydantic's own when DRF had none)."""
    kind = str(problem.get("type", ""))
    value = problem.get("input")
    if kind == "missing":
        return REQUIRED
    if value is None:
        return NOT_NULL
    if kind == "string_type":
        return NOT_A_STRING
    if kind == "string_too_short" and isinstance(value, str) and not value.strip():
        return BLANK
    if kind == "string_too_long":
        return f"Ensure this field has no more than {_bound(problem, 'max_length')} characters."
    if kind in ("too_long", "too_short") and isinstance(value, list):
        bound = _bound(problem, "max_length") if kind == "too_long" else _bound(problem, "min_length")
        comparison = "no more than" if kind == "too_long" else "at least"
        return f"Ensure this field has {comparison} {bound} elements."
    if kind.startswith("int_") or (kind == "value_error" and "integer" in str(problem.get("msg", ""))):
        return NOT_AN_INTEGER
    if kind.startswith("decimal_parsing") or kind == "decimal_type":
        return NOT_A_NUMBER
    if kind == "decimal_max_places":
        return f"Ensure that there are no more than {_bound(problem, 'decimal_places')} decimal places."
    if kind == "greater_than_equal":
        return f"Ensure this value is greater than or equal to {_bound(problem, 'ge')}."
    if kind == "less_than_equal":
        return f"Ensure this value is less than or equal to {_bound(problem, 'le')}."
    message = str(problem.get("msg", "Invalid value."))
    return message.removeprefix("Value error, ")


def field_lists(problems: Iterable[Problem], body: Any = None) -> dict[str, list[str]]:
    """DRF's body for a serializer of plain fields: one list of messages per field of the body,
    in the order the fields were judged (`body`, the request's, is not needed for that)."""
    lists: dict[str, list[str]] = {}
    for problem in problems:
        location = tuple(problem.get("loc", ()))
        if len(location) < 2 or location[0] != "body":
            continue
        message = drf_message(problem)
        field = lists.setdefault(str(location[1]), [])
        if message not in field:
            field.append(message)
    return lists
