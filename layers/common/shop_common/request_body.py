"""Request bodies: JSON only, read once and bounded before any model sees them.

Every POST body is UTF-8 JSON of a few kilobytes at most. Whatever arrives instead (another
media type, another encoding, megabytes, deep nesting, integers of thousands of digits, NaN,
lone surrogates) is a 4xx naming the problem, and costs the function no more than reading the
bytes once: Python's parser would otherwise recurse until RecursionError, refuse huge integers
with ValueError, or hand on strings that cannot be encoded again, each a 500.
"""

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any

from shop_common.errors import InvalidRequest, ShopError
from shop_common.headers import header, with_header

# The largest valid body (an order of 200 parts) is about 12 KB; a password of 4,096 characters,
# each escaped as \uXXXX, about 25 KB.
MAX_BODY_BYTES = 64 * 1024
# Valid bodies nest three deep ({"parts": [{...}]}).
MAX_DEPTH = 32
# Far beyond any integer the API reads (ids are below 2**53: 16 digits), so that a body with a
# long number in a field the API ignores is still read, and far below Python's own limit (4,300
# digits, a ValueError), where reading a number starts to cost.
MAX_INTEGER_DIGITS = 1000

JSON_MEDIA_TYPE = "application/json"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class UnsupportedMediaType(ShopError):
    status_code = 415

    def __init__(self) -> None:
        super().__init__(f"Unsupported media type: send the body as {JSON_MEDIA_TYPE}.")


class PayloadTooLarge(ShopError):
    status_code = 413

    def __init__(self) -> None:
        super().__init__(f"Request body is larger than {MAX_BODY_BYTES // 1024} KiB.")


def _invalid(message: str) -> InvalidRequest:
    return InvalidRequest("Invalid request.", errors=[{"field": "body", "message": message}])


def _media_type_is_json(content_type: str) -> bool:
    """`application/json`, in any case, with no parameter but `charset=utf-8`."""
    media_type, *parameters = (part.strip().lower() for part in content_type.split(";"))
    if media_type != JSON_MEDIA_TYPE:
        return False
    return all(parameter.replace(" ", "") in ("", "charset=utf-8", 'charset="utf-8"') for parameter in parameters)


def _body_bytes(event: Mapping[str, Any]) -> bytes:
    body = event.get("body") or ""
    if not event.get("isBase64Encoded"):
        # Length in characters first: encoding megabytes only to measure them would cost as much.
        if len(body) > MAX_BODY_BYTES:
            raise PayloadTooLarge()
        return str(body).encode("utf-8", errors="surrogatepass")
    if len(body) > (MAX_BODY_BYTES * 4) // 3 + 4:
        raise PayloadTooLarge()
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as error:
        raise _invalid("Request body is not valid base64.") from error


def with_json_body(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """The event of a request that may carry a body, with that body as UTF-8 text and its media
    type as `application/json`; raises a 4xx `ShopError` for any other media type (415), a body
    over MAX_BODY_BYTES (413) or one that is not UTF-8 (400). Other methods pass unchanged."""
    method = str(event.get("requestContext", {}).get("http", {}).get("method", "")).upper()
    if method not in BODY_METHODS:
        return event
    content_type = (header(event.get("headers"), "Content-Type") or "").strip()
    if content_type and not _media_type_is_json(content_type):
        raise UnsupportedMediaType()
    raw = _body_bytes(event)
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge()
    try:
        text = raw.decode("utf-8")  # strict: no UTF-16, no Latin-1, no lone surrogates
    except UnicodeDecodeError as error:
        raise _invalid("Request body is not UTF-8 text.") from error
    return {
        **event,
        "headers": with_header(event.get("headers"), "Content-Type", JSON_MEDIA_TYPE),
        "body": text,
        "isBase64Encoded": False,
    }


def _check_depth(text: str) -> None:
    depth = 0
    for bracket in _BRACKET.finditer(_STRING.sub("", text)):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > MAX_DEPTH:
            raise _invalid(f"Request body nests deeper than {MAX_DEPTH} levels.")


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise _invalid(f"Request body has an integer of more than {MAX_INTEGER_DIGITS} digits.")
    return int(digits)


def _no_constant(name: str) -> Any:
    raise _invalid(f"{name} is not JSON.")


def _check_strings(value: Any) -> None:
    # `\ud800` escapes decode to lone surrogates, which no UTF-8 encoder (botocore's included)
    # accepts later. The walk is bounded: at most MAX_DEPTH deep over at most MAX_BODY_BYTES.
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as error:
                raise _invalid("Request body has a string that is not valid Unicode.") from error
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def parse_json(text: str) -> Any:
    """The JSON object of a body that `with_json_body` let through, within the limits above;
    raises InvalidRequest (400) for anything else (an array or a scalar included)."""
    _check_depth(text)
    try:
        value = json.loads(text, parse_int=_bounded_int, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise _invalid("Request body is not valid JSON.") from error
    if not isinstance(value, dict):
        # Every body of this API is an object; powertools would take a one-item array for its item.
        raise _invalid("Request body must be a JSON object.")
    _check_strings(value)
    return value
