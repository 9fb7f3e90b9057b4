"""GetItem and BatchGetItem answered from the compact storage's JSON, without building moto's
item objects.

A products page reads 51 items with one BatchGetItem; moto builds each item (an object per
attribute), projects it (building another) and converts it back to JSON for the answer, which
was most of the store's time for a page. These are moto's own request handlers, step for step
(the same checks, raising the same errors, through the same helpers), with one difference: an
item is read as the JSON dict its bytes hold and projected by picking its top-level attributes.
Anything else (nested projection paths, `AttributesToGet`, a table not kept compact) takes
moto's own path. Tests compare both answers on random items and projections.
"""

import functools
from typing import Any

import orjson

from shoplocal.store import compact_items

BATCH_GET_BYTES = 16 * 1024 * 1024  # BatchGetItem's answer limit, as moto counts it


def json_size(name: str, value: dict[str, Any]) -> int:
    """moto's `bytesize(name) + DynamoType(value).size()` for an attribute as stored (binary
    values as base64 text)."""
    return len(name.encode()) + _value_size(value)


def _value_size(value: dict[str, Any]) -> int:
    ((kind, inner),) = value.items()
    if kind == "N":
        return len(str(inner))
    if kind in ("SS", "NS", "BS"):
        return sum(_value_size({kind[0]: member}) for member in inner)
    if kind == "L":
        return sum(_value_size(member) for member in inner)
    if kind == "M":
        return sum(len(name.encode()) + _value_size(member) for name, member in inner.items())
    if kind in ("BOOL", "NULL") and isinstance(inner, bool):
        return 1
    if kind == "B":
        return len(_b64decode(inner))
    return len(inner.encode())


def _b64decode(text: str) -> bytes:
    import base64

    return base64.b64decode(text)


def _top_level(projection: list[list[str]]) -> list[str] | None:
    """The names of a projection of top-level attributes only; None for nested paths."""
    if not all(len(path) == 1 and not path[0].endswith("]") for path in projection):
        return None
    return [path[0] for path in projection]


class _MotoPath(Exception):
    """This request is moto's own to answer."""


def _stored(table: Any, hash_key: Any, range_key: Any) -> dict[str, Any] | None:
    """The item under a key as its JSON dict, or None. Raises _MotoPath for a table moto keeps."""
    compact = compact_items.of(table)
    if compact is None:
        raise _MotoPath
    if hash_key.type != compact.hash_type or (compact.range_attr and range_key.type != compact.range_type):
        return None
    key = compact.key_of(hash_key.cast_value, range_key.cast_value if compact.range_attr else None)
    stored = compact.data.get(key)
    if stored is None:
        return None
    if type(stored) is bytes:
        attributes: dict[str, Any] = orjson.loads(stored)
        return attributes
    return compact_items.json_of(stored)


def _projected(attributes: dict[str, Any], names: list[str] | None) -> dict[str, Any]:
    if names is None:
        return attributes
    return {name: attributes[name] for name in names if name in attributes}


def _get(handler: Any, table_name: str, key: dict[str, Any], projection: list[list[str]]) -> tuple[dict[str, Any] | None, bool]:
    """moto's backend `get_item` (its checks and errors), on the stored JSON: (item, found).
    Raises _MotoPath for projections of nested paths."""
    backend = handler.dynamodb_backend
    table = backend.get_table(table_name)
    hash_key, range_key = backend.get_keys_value(table, key)
    if table.has_range_key and not range_key:
        from moto.dynamodb.exceptions import MockValidationException

        raise MockValidationException("Table has a range key, but no range key was passed into get_item")
    names = _top_level(projection) if projection else None
    if projection and names is None:
        raise _MotoPath
    attributes = _stored(table, hash_key, range_key)
    if attributes is None:
        return None, False
    return _projected(attributes, names), True


def _result(kind: Any, result: dict[str, Any]) -> Any:
    """moto's DynamoResult of plain JSON (its constructor walks the result for moto's own value
    objects, which plain JSON has none of)."""
    from moto.core.responses import ActionResult

    answer = kind.__new__(kind)
    ActionResult.__init__(answer, result)
    return answer


def use_fast_reads() -> None:
    """Idempotent: answer GetItem and BatchGetItem from the stored JSON where they can be."""
    from moto.dynamodb.exceptions import KeyIsEmptyStringException, MockValidationException, ProvidedKeyDoesNotExist
    from moto.dynamodb.responses import DynamoHandler, DynamoResult, ProjectionExpressionParser, validate_attributes_used

    if getattr(DynamoHandler.get_item, "_fast", False):
        return
    original_get, original_batch = DynamoHandler.get_item, DynamoHandler.batch_get_item

    @functools.wraps(original_get)
    def get_item(self: Any) -> Any:
        # moto's checks, in moto's order (responses.DynamoHandler.get_item).
        name = self.body["TableName"]
        table = self.dynamodb_backend.get_table(name)
        key = self.body["Key"]
        empty_keys = [k for k, v in key.items() if not next(iter(v.values()))]
        if empty_keys:
            raise KeyIsEmptyStringException(empty_keys[0])
        projection_expression = self._get_projection_expression()
        attributes_to_get = self.body.get("AttributesToGet")
        if projection_expression and attributes_to_get:
            return original_get(self)
        expression_attribute_names = self.body.get("ExpressionAttributeNames")
        if (projection_expression is None and expression_attribute_names) or expression_attribute_names == {}:
            return original_get(self)
        if not all(k in table.attribute_keys for k in key):
            raise ProvidedKeyDoesNotExist
        parser = ProjectionExpressionParser(projection_expression, expression_attribute_names or {})
        projection = parser.parse()
        validate_attributes_used(expression_attribute_names or {}, parser.expr_attr_names_found, validation_error_prefix=False)
        try:
            item, found = _get(self, name, key, projection)
        except _MotoPath:
            return original_get(self)
        return _result(DynamoResult, {"Item": item} if found and item is not None else {})

    @functools.wraps(original_batch)
    def batch_get_item(self: Any) -> Any:
        # moto's checks, in moto's order (responses.DynamoHandler.batch_get_item).
        table_batches = self.body["RequestItems"]
        results: dict[str, Any] = {"ConsumedCapacity": [], "Responses": {}, "UnprocessedKeys": {}}
        for table_name, table_request in table_batches.items():
            if len(table_request["Keys"]) > 100:
                raise MockValidationException(
                    "1 validation error detected: Value at 'requestItems."
                    + table_name
                    + ".member.keys' failed to satisfy constraint: Member must have length less than or equal to 100"
                )
        if sum(len(request["Keys"]) for request in table_batches.values()) > 100:
            raise MockValidationException("Too many items requested for the BatchGetItem call")
        result_size = 0
        try:
            for table_name, table_request in table_batches.items():
                keys = table_request["Keys"]
                if self._contains_duplicates(keys):
                    raise MockValidationException("Provided list of item keys contains duplicates")
                if table_request.get("AttributesToGet"):
                    raise _MotoPath
                names = table_request.get("ExpressionAttributeNames", {})
                parser = ProjectionExpressionParser(table_request.get("ProjectionExpression"), names)
                projection = parser.parse()
                validate_attributes_used(names, parser.expr_attr_names_found, validation_error_prefix=False)
                found_items = results["Responses"][table_name] = []
                for key in keys:
                    item, found = _get(self, table_name, key, projection)
                    if not found or item is None:
                        continue
                    size = sum(json_size(attribute, value) for attribute, value in item.items())
                    if result_size + size > BATCH_GET_BYTES:
                        results["UnprocessedKeys"].setdefault(table_name, {"Keys": []})["Keys"].append(key)
                    else:
                        found_items.append(item)
                        result_size += size
                results["ConsumedCapacity"].append({"CapacityUnits": len(keys), "TableName": table_name})
        except _MotoPath:
            return original_batch(self)
        return _result(DynamoResult, results)

    get_item._fast = True  # type: ignore[attr-defined]
    DynamoHandler.get_item = get_item  # type: ignore[method-assign]
    DynamoHandler.batch_get_item = batch_get_item  # type: ignore[method-assign]
