"""An order's errors in the Django app's keys, added beside ours (`detail`, `code`, `errors`), so
a client of that app reads what it always read (docs in ../shared's record of the app, mirrored
in the README):

- parts empty, missing or null: `{"parts": "Order must contain at least one product in 'parts' field"}`
- parts not a list: `{"order_part": {"non_field_errors": ["Expected a list of items but got type \"str\"."]}}`
- a bad part: `{"order_part": [{}, {"product": ["Invalid pk \"9\" - object does not exist."]}]}`, one
  object per part (`{}` for a good one; a part that is not an object: its `non_field_errors`)
- short stock: `{"order_part": "Not enough product in stock to complete the order", "product_id": "5"}`
- a limit of the whole order (distinct products, what it may cost), ours:
  `{"order_part": {"non_field_errors": ["An order may hold at most 50 distinct products."]}}`
"""

from collections.abc import Mapping, Sequence
from typing import Any

from shop_common.drf_errors import NOT_NULL, REQUIRED, Problem, drf_message, type_name

EMPTY_PARTS = "Order must contain at least one product in 'parts' field"
SHORT_STOCK = "Not enough product in stock to complete the order"


def _unknown_product(value: Any) -> str:
    return f'Invalid pk "{value}" - object does not exist.'


def _product_message(problem: Problem) -> str:
    """DRF's PrimaryKeyRelatedField, in its words."""
    kind, value = str(problem.get("type", "")), problem.get("input")
    if kind == "missing":
        return REQUIRED
    if value is None:
        return NOT_NULL
    if kind in ("greater_than_equal", "less_than_equal"):
        return _unknown_product(value)
    return f"Incorrect type. Expected pk value, received {type_name(value)}."


def _part_count(body: Any) -> int:
    parts = body.get("parts") if isinstance(body, Mapping) else None
    return len(parts) if isinstance(parts, list) else 0


def order_errors(problems: Sequence[Problem], body: Any) -> dict[str, Any]:
    """The Django app's keys for the validation problems of an order's (or a quote's) body."""
    whole: dict[str, Any] = {}
    per_part: dict[int, Any] = {}
    for problem in problems:
        location = tuple(problem.get("loc", ()))[1:]  # after "body"
        if not location:
            continue
        if location[0] == "parts" and len(location) == 1:
            value = problem.get("input")
            kind = str(problem.get("type", ""))
            if kind == "missing" or not value:
                return {"parts": EMPTY_PARTS}
            if isinstance(value, list):  # too many parts
                return {"order_part": {"non_field_errors": [drf_message(problem)]}}
            return {"order_part": {"non_field_errors": [f'Expected a list of items but got type "{type_name(value)}".']}}
        if location[0] == "parts" and isinstance(location[1], int):
            index = location[1]
            if len(location) == 2:  # the part itself is not an object
                value = problem.get("input")
                not_an_object = f"Invalid data. Expected a dictionary, but got {type_name(value)}."
                per_part[index] = [NOT_NULL] if value is None else {"non_field_errors": [not_an_object]}
                continue
            field = str(location[2])
            message = _product_message(problem) if field == "product" else drf_message(problem)
            part = per_part.setdefault(index, {})
            if isinstance(part, dict):
                part.setdefault(field, []).append(message)
            continue
        whole.setdefault(str(location[0]), []).append(drf_message(problem))
    if per_part:
        whole["order_part"] = [per_part.get(index, {}) for index in range(max(_part_count(body), max(per_part) + 1))]
    return whole


def unknown_products(product_ids: Sequence[int], unknown: set[int]) -> dict[str, Any]:
    """The bad parts, one object per part of the request (`{}` for a good one)."""
    return {"order_part": [{"product": [_unknown_product(pid)]} if pid in unknown else {} for pid in product_ids]}


def short_stock(product_id: int) -> dict[str, Any]:
    """The first part (in the request's order) whose product lacks stock."""
    return {"order_part": SHORT_STOCK, "product_id": str(product_id)}


def order_limit(message: str) -> dict[str, Any]:
    """A limit of the whole order, as DRF words an error of no one field."""
    return {"order_part": {"non_field_errors": [message]}}
