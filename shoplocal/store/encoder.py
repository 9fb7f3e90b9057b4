"""A direct JSON encoder for moto's DynamoDB item responses.

moto serialises every response by walking the botocore shape of each attribute of each item
(~45 ms for a page of 50 products, 75 % of a listing's time in the store). The item-carrying
responses (GetItem, Query, Scan, ...) are already plain DynamoDB JSON by then, except binary
values, which are raw bytes that the wire carries as base64. This encodes them in one
`json.dumps`. Anything else in a result (a timestamp, say) goes back to moto's serialiser, so a
response is never encoded differently; tests compare both on random items.
"""

import base64
import functools
import json
from typing import Any

# The operations whose results are items: the hot paths, and the only ones encoded here.
ITEM_OPERATIONS = frozenset(
    {"BatchGetItem", "DeleteItem", "GetItem", "PutItem", "Query", "Scan", "TransactGetItems", "UpdateItem"}
)
CONTENT_TYPE = "application/x-amz-json-1.0"


class _NotPlainJson(Exception):
    """The result holds a value this encoder does not know; moto's serialiser takes it."""


def _binary_as_base64(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    raise _NotPlainJson(type(value).__name__)


def encode(result: Any) -> str:
    """DynamoDB JSON for an item-carrying result. Raises _NotPlainJson when it holds a value
    other than JSON's own types and bytes, or a null (the serialiser leaves nulls out)."""
    text = json.dumps(result, default=_binary_as_base64, ensure_ascii=True)
    if "null" in text and _holds_none(result):
        raise _NotPlainJson("None")
    return text


def _holds_none(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, dict):
        return any(_holds_none(member) for member in value.values())
    if isinstance(value, list):
        return any(_holds_none(member) for member in value)
    return False


def use_direct_encoder() -> None:
    """Idempotent: encode moto's item responses directly (see the module's docstring)."""
    from moto.dynamodb.responses import DynamoResult

    if getattr(DynamoResult.execute_result, "_direct", False):
        return
    original = DynamoResult.execute_result

    @functools.wraps(original)
    def execute_result(self: Any, context: Any) -> Any:
        if context.operation_model.name in ITEM_OPERATIONS:
            try:
                return 200, {"Content-Type": CONTENT_TYPE}, encode(self.result)
            except _NotPlainJson:
                pass
        return original(self, context)

    execute_result._direct = True  # type: ignore[attr-defined]
    DynamoResult.execute_result = execute_result  # type: ignore[method-assign]
