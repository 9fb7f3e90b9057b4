"""Between the saved state (`snapshots`) and moto's live tables: a live table's definition and
items as the state holds them (JSON-safe: bytes as base64 text), and a state loaded into an empty
moto backend, fast enough for 100,000 items.
"""

import base64
from collections.abc import Iterable
from typing import Any

from shoplocal.store.snapshots import ATTRIBUTE_TYPES, Op, SnapshotError, StoreState


def to_json(value: Any) -> Any:
    """A typed value (or item) from moto as JSON-safe data: bytes become base64 text."""
    if isinstance(value, dict):
        return {name: to_json(inner) for name, inner in value.items()}
    if isinstance(value, list):
        return [to_json(inner) for inner in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def definition_of(table: Any) -> dict[str, Any]:
    """A moto table's definition, as CreateTable takes it (plus its TimeToLive)."""

    def index(index: Any) -> dict[str, Any]:
        return {"IndexName": index.name, "KeySchema": index.schema, "Projection": index.projection}

    return {
        "TableName": table.name,
        "KeySchema": table.schema,
        "AttributeDefinitions": table.attr,
        "GlobalSecondaryIndexes": [index(i) for i in table.global_indexes],
        "LocalSecondaryIndexes": [index(i) for i in table.indexes],
        "BillingMode": table.billing_mode or "PAY_PER_REQUEST",
        "TimeToLive": table.ttl,
    }


def image_of(backend: Any) -> list[Op]:
    """Every table of a live moto backend as changes that rebuild it from nothing (the caller
    holds the store's lock)."""
    ops: list[Op] = [["reset"]]
    for table in backend.tables.values():
        ops.append(["table", definition_of(table)])
        ops += (["put", table.name, to_json(item.to_json()["Attributes"])] for item in table.all_items())
    return ops


def restore(backend: Any, state: StoreState) -> int:
    """Create every table of `state` in an empty moto backend; return the number of items.
    Raises SnapshotError if moto refuses a definition or an item."""
    from shoplocal.store.moto_atomic import store_lock

    with store_lock():
        for table_state in state.tables.values():
            definition = table_state.definition
            try:
                table = backend.create_table(
                    name=definition["TableName"],
                    schema=definition["KeySchema"],
                    throughput=None,
                    attr=definition["AttributeDefinitions"],
                    global_indexes=definition["GlobalSecondaryIndexes"],
                    indexes=definition["LocalSecondaryIndexes"],
                    streams=None,
                    billing_mode=definition.get("BillingMode") or "PAY_PER_REQUEST",
                    sse_specification=None,
                    tags=[],
                    deletion_protection_enabled=False,
                    warm_throughput=None,
                )
                table.ttl = definition.get("TimeToLive")
                _insert_all(table, table_state.items.values())
            except Exception as error:  # moto's own checks, on data a file gave: a clear message, not a traceback
                raise SnapshotError(f"table {definition['TableName']} cannot be restored: {error}") from error
    return state.item_count


def _insert_all(table: Any, items: Iterable[dict[str, Any]]) -> None:
    """What moto's `put_item(item, overwrite=True)` does for each item, less its per-write
    checks (conditions, size limits recomputed per attribute: they were checked when the items
    were written), building moto's values directly and hashing each key once: 100,000 items
    took half a minute through `put_item`. Raises on a malformed value."""
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

    def typed(value: dict[str, Any]) -> DynamoType:
        """What DynamoType(value) builds, a few times faster."""
        ((kind, inner),) = value.items()
        if kind not in ATTRIBUTE_TYPES:
            raise ValueError(f"{kind!r} is not a DynamoDB type")
        result = DynamoType.__new__(DynamoType)
        result.type = kind
        if kind == "L":
            result.value = [typed(v) for v in inner]
        elif kind == "M":
            result.value = {name: typed(v) for name, v in inner.items()}
        elif kind == "B":
            result.value = base64.b64decode(inner)
        elif kind == "BS":
            result.value = [base64.b64decode(v) for v in inner]
        else:
            result.value = inner
        return result

    hash_name, range_name = table.hash_key_attr, table.range_key_attr
    partitions: dict[Any, Any] = {}  # (hash key type, value) -> (hash key, {range key: item} or item)
    for item in items:
        attributes = {name: typed(value) for name, value in item.items()}
        stored: Any = Item.__new__(Item)
        stored.hash_key, stored.attrs = attributes[hash_name], LimitedSizeDict()
        stored.range_key = attributes[range_name] if range_name else None
        dict.update(stored.attrs, attributes)
        if stored.hash_key.type != table.hash_key_type or (range_name and stored.range_key.type != table.range_key_type):
            raise ValueError("a key attribute has the wrong type")
        # Key attributes are never updated in place, so the item and its key can share them.
        partition = (stored.hash_key.type, stored.hash_key.value)
        if range_name:
            partitions.setdefault(partition, (stored.hash_key, {}))[1][stored.range_key] = stored
        else:
            partitions[partition] = (stored.hash_key, stored)
    for hash_key, content in partitions.values():
        if range_name:
            table.items[hash_key].update(content)
        else:
            table.items[hash_key] = content
