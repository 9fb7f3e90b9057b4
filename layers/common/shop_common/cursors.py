"""Opaque page cursors: a one-letter tag and one or more integers, base64url-encoded.

A cursor only says where a page starts; the caller's own key is always applied on top, so a
tampered cursor can shift a window of the caller's own (or public) data, never widen it. Any
cursor that does not decode to a known tag and the expected count of integers is a 400, never
a 500.
"""

import base64
import binascii
from collections.abc import Collection

from shop_common.errors import InvalidRequest

_MAX_DIGITS = 16
_SEPARATOR = "."


def encode_cursor(tag: str, *numbers: int) -> str:
    text = tag + _SEPARATOR.join(str(number) for number in numbers)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, tags: str) -> tuple[str, int]:
    """(tag, id) of a cursor of one integer whose one-letter tag is one of `tags`."""
    tag, (item_id,) = decode_cursor_numbers(cursor, tags, counts=(1,))
    return tag, item_id


def decode_cursor_numbers(cursor: str, tags: str, counts: Collection[int]) -> tuple[str, tuple[int, ...]]:
    """(tag, numbers) of a cursor whose tag is one of `tags` and which holds `counts` integers."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    tag, fields = text[:1], text[1:].split(_SEPARATOR)
    # isdecimal() and isascii(): only the ten ASCII digits, which int() reads as they look.
    valid = all(field.isascii() and field.isdecimal() and len(field) <= _MAX_DIGITS for field in fields)
    if not tag or tag not in tags or not valid or len(fields) not in counts:
        raise InvalidRequest("Invalid cursor.", errors=[{"field": "cursor", "message": "Not a cursor this API issued."}])
    return tag, tuple(int(field) for field in fields)
