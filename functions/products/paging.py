"""`page` and `limit` as the Django app read them (DRF's PageNumberPagination, page size 50, at
most 1,000), so its clients get the same pages for the same query strings:

- `limit`: an integer as Python's `int()` reads it (surrounding spaces, a sign); above 1,000 it
  is 1,000; `0`, negative, empty or not an integer: the default, 50.
- `page`: the same integers from 1 up, or `last`; `0`, negative, empty or not an integer is a
  404 `{"detail": "Invalid page."}`, as a page past the end is.

A parameter given twice counts with its last value, as Django's `QueryDict` reads it (API
Gateway joins repeated values with commas).
"""

from shop_common.errors import NotFound

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
LAST = "last"
# `int()` refuses more digits than this (a ValueError, as in DRF); checked first so that a long
# value costs nothing.
_MAX_DIGITS = 4300


def _last_value(value: str | list[str]) -> str:
    # A list: the parameter was repeated (powertools reads the raw query string); a string with
    # commas: API Gateway joined repeated values.
    text = value[-1] if isinstance(value, list) else value
    return text.rpartition(",")[2]


def _integer(text: str) -> int | None:
    if len(text) > _MAX_DIGITS:
        return None
    try:
        return int(text)
    except ValueError:
        return None


def page_size(limit: str | list[str] | None) -> int:
    """The page size a `limit` parameter asks for."""
    if limit is None:
        return DEFAULT_LIMIT
    number = _integer(_last_value(limit))
    if number is None or number <= 0:
        return DEFAULT_LIMIT
    return min(number, MAX_LIMIT)


def invalid_page() -> NotFound:
    return NotFound("Invalid page.", code="invalid_page")


def page_number(page: str | list[str] | None) -> int | None:
    """The page a `page` parameter asks for, from 1; None for `last`; raises the 404."""
    if page is None:
        return 1
    text = _last_value(page)
    if text == LAST:
        return None
    number = _integer(text)
    if number is None or number < 1:
        raise invalid_page()
    return number


def last_page(count: int, limit: int) -> int:
    """The number of the last page of `count` items (1 when there are none: an empty page 1)."""
    return max(1, -(-count // limit))
