"""Opaque page cursors: a one-letter tag and an id, base64url-encoded.

A cursor only says where a page starts; the caller's own key is always applied on top, so a
tampered cursor can shift a window of the caller's own (or public) data, never widen it. Any
cursor that does not decode to a known tag and an id is a 400, never a 500.
"""

import base64
import binascii

from shop_common.errors import InvalidRequest

_MAX_DIGITS = 16


def encode_cursor(tag: str, item_id: int) -> str:
    return base64.urlsafe_b64encode(f"{tag}{item_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str, tags: str) -> tuple[str, int]:
    """(tag, id) of a cursor whose one-letter tag is one of `tags`."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    tag, digits = text[:1], text[1:]
    if not tag or tag not in tags or not digits.isdigit() or len(digits) > _MAX_DIGITS:
        raise InvalidRequest("Invalid cursor.", errors=[{"field": "cursor", "message": "Not a cursor this API issued."}])
    return tag, int(digits)
