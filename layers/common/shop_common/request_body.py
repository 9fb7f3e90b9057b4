"""Request bodies: JSON (and, on the Django app's own POST routes, HTML forms), read once and
bounded before any model sees them.

Every POST body is UTF-8 JSON of a few kilobytes at most. Whatever arrives instead (another
media type, another encoding, megabytes, deep nesting, integers of thousands of digits, NaN,
lone surrogates) is a 4xx naming the problem, and costs the function no more than reading the
bytes once: Python's parser would otherwise recurse until RecursionError, refuse huge integers
with ValueError, or hand on strings that cannot be encoded again, each a 500. JSON numbers with
a fraction or an exponent are read as `Decimal`, never as floats, so an amount such as 19.99 is
exactly what the client wrote (shop_common.money).

The Django app (Django REST framework) also took `application/x-www-form-urlencoded` bodies on
its POST routes (sign-in, refresh, order), so those routes still do (a resolver's `form_paths`):
the form becomes the JSON object it stands for, and is judged as JSON would be. Lists of objects
use DRF's field names (`parts[0]product=5`), or the brackets most form encoders write
(`parts[0][product]=5`); a name given twice keeps its last value, as Django's `QueryDict` does.
"""

import base64
import binascii
import json
import re
from collections.abc import Collection, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

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
FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Items of a list a form may spell out (`parts[N]...`): as many as an order may list.
MAX_FORM_LIST_INDEX = 999
# Charsets a form body may name (Django decodes with the one named; UTF-8 by default).
_FORM_CHARSETS = {"utf-8": "utf-8", "utf8": "utf-8", "iso-8859-1": "latin-1", "latin-1": "latin-1", "latin1": "latin-1"}
# `parts[0]product`, `parts[0][product]`, `parts[0].product`
_FORM_LIST_ITEM = re.compile(r"^([^\[\]]+)\[(\d{1,3})\](?:\[([^\[\]]+)\]|\.?([^\[\]]+))$")

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class UnsupportedMediaType(ShopError):
    status_code = 415

    def __init__(self, form_too: bool = False) -> None:
        also = f" or {FORM_MEDIA_TYPE}" if form_too else ""
        super().__init__(f"Unsupported media type: send the body as {JSON_MEDIA_TYPE}{also}.")


class PayloadTooLarge(ShopError):
    status_code = 413

    def __init__(self) -> None:
        super().__init__(f"Request body is larger than {MAX_BODY_BYTES // 1024} KiB.")


def _invalid(message: str, detail: str = "Invalid request.", original: dict[str, Any] | None = None) -> InvalidRequest:
    return InvalidRequest(detail, errors=[{"field": "body", "message": message}], original=original)


def _media_type(content_type: str) -> tuple[str, str | None]:
    """The media type, lower-cased, and its charset (None when not given); a parameter other
    than the charset gives the charset "" (no charset this API reads)."""
    media_type, *parameters = (part.strip().lower() for part in content_type.split(";"))
    charset: str | None = None
    for parameter in parameters:
        name, _, value = parameter.replace(" ", "").partition("=")
        if not name:
            continue
        charset = value.strip('"') if name == "charset" and charset is None else ""
    return media_type, charset


def _media_type_is_json(content_type: str) -> bool:
    """`application/json`, in any case, with no parameter but `charset=utf-8`."""
    media_type, charset = _media_type(content_type)
    return media_type == JSON_MEDIA_TYPE and charset in (None, "utf-8")


def _form_charset(content_type: str) -> str | None:
    """The codec of a form body (`application/x-www-form-urlencoded`, UTF-8 unless it names
    Latin-1); None when the content type is not such a form."""
    media_type, charset = _media_type(content_type)
    if media_type != FORM_MEDIA_TYPE:
        return None
    return "utf-8" if charset is None else _FORM_CHARSETS.get(charset)


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


def _route_path(event: Mapping[str, Any]) -> str:
    return str(event.get("routeKey", "")).partition(" ")[2]


def _form_object(text: str) -> dict[str, Any]:
    """A form body as the JSON object it stands for: `a=1&b=2` -> {"a": "1", "b": "2"}, lists
    of objects from `parts[0]product=5&parts[0]quantity_in_order=2` (or `parts[0][product]`),
    in the order of their indexes (gaps closed, as DRF's `parse_html_list` does)."""
    values: dict[str, Any] = {}
    lists: dict[str, dict[int, dict[str, str]]] = {}
    for name, value in parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_BODY_BYTES // 2):
        item = _FORM_LIST_ITEM.match(name)
        if item is None:
            values[name] = value  # the last value of a repeated name, as QueryDict.get
            continue
        list_name, index, key = item.group(1), int(item.group(2)), item.group(3) or item.group(4)
        lists.setdefault(list_name, {}).setdefault(index, {})[key] = value
    for list_name, items in lists.items():
        values.setdefault(list_name, [items[index] for index in sorted(items)])
    return values


def _form_as_json(raw: bytes, codec: str) -> str:
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError as error:
        raise _invalid("Request body is not UTF-8 text.") from error
    try:
        values = _form_object(text)
    except ValueError as error:  # parse_qsl: more fields than a body of this size could hold
        raise _invalid("Request body is not a valid form.") from error
    return json.dumps(values)


def with_json_body(event: Mapping[str, Any], form_paths: Collection[str] = ()) -> Mapping[str, Any]:
    """The event of a request that may carry a body, with that body as UTF-8 JSON text and its
    media type as `application/json` (a form body, on a route of `form_paths`, as the JSON
    object it stands for); raises a 4xx `ShopError` for any other media type (415), a body over
    MAX_BODY_BYTES (413) or one that is not UTF-8 (400). Other methods pass unchanged."""
    method = str(event.get("requestContext", {}).get("http", {}).get("method", "")).upper()
    if method not in BODY_METHODS:
        return event
    content_type = (header(event.get("headers"), "Content-Type") or "").strip()
    form_codec = _form_charset(content_type) if content_type and _route_path(event) in form_paths else None
    if content_type and form_codec is None and not _media_type_is_json(content_type):
        raise UnsupportedMediaType(form_too=_route_path(event) in form_paths)
    raw = _body_bytes(event)
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge()
    if not raw and _route_path(event) in form_paths:
        text = "{}"  # the Django app's routes: no body is no fields (DRF's empty data), each named missing
    elif form_codec is not None:
        text = _form_as_json(raw, form_codec)
    else:
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


# What Django REST framework called JSON's types, in its messages about a body of another type.
_PYTHON_TYPE_NAMES = {list: "list", str: "str", int: "int", Decimal: "float", bool: "bool"}


def _not_an_object(value: Any) -> InvalidRequest:
    # The Django app's own key and words, besides ours (DRF: "No data provided" for `null`).
    if value is None:
        words = "No data provided"
    else:
        words = f"Invalid data. Expected a dictionary, but got {_PYTHON_TYPE_NAMES.get(type(value), 'value')}."
    return _invalid("Request body must be a JSON object.", original={"non_field_errors": [words]})


def parse_json(text: str) -> Any:
    """The JSON object of a body that `with_json_body` let through, within the limits above;
    raises InvalidRequest (400) for anything else (an array or a scalar included). Numbers with
    a fraction or an exponent come back as `Decimal`."""
    _check_depth(text)
    try:
        value = json.loads(text, parse_int=_bounded_int, parse_float=Decimal, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        # The detail in the Django app's words ("JSON parse error - Expecting value: ...").
        raise _invalid("Request body is not valid JSON.", detail=f"JSON parse error - {error}") from error
    if not isinstance(value, dict):
        # Every body of this API is an object; powertools would take a one-item array for its item.
        raise _not_an_object(value)
    _check_strings(value)
    return value
