"""Between the saved state (`snapshots`) and moto's live tables: a live table's definition and
items as the state holds them (JSON-safe: bytes as base64 text), and a state loaded into an empty
moto backend, fast enough for 100,000 items.
"""

import base64
import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from shoplocal.store import compact_items, partition_index
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
        compact = compact_items.of(table)
        if compact is None:
            ops += (["put", table.name, to_json(item.to_json()["Attributes"])] for item in table.all_items())
            continue
        compact_items.settle_all(changed=True)
        ops += (["put", table.name, json.loads(stored)] for stored in compact.data.values())
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
    were written): each item goes into the table's compact storage as the bytes of its JSON, and
    into the sorted partitions of its indexes. 100,000 items took half a minute through
    `put_item`. Raises on a malformed value."""
    compact = compact_items.install(table)
    hash_name, range_name = table.hash_key_attr, table.range_key_attr
    hash_type, range_type = table.hash_key_type, table.range_key_type
    indexes = partition_index.IndexBuild(table)
    for item in items:
        hash_value = _key_value(item[hash_name], hash_type)
        range_value = _key_value(item[range_name], range_type) if range_name else None
        for name, value in item.items():
            if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in ATTRIBUTE_TYPES:
                raise ValueError(f"attribute {name} is not a DynamoDB value")
        compact.load(hash_value, range_value, json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode())
        indexes.add(item, (hash_value, range_value))
    compact.finish_load()
    indexes.finish()


def _key_value(value: Any, kind: str | None) -> Any:
    """A key attribute's value as moto's DynamoType casts it; ValueError if of the wrong type."""
    ((found, inner),) = value.items()
    if found != kind:
        raise ValueError("a key attribute has the wrong type")
    if kind == "N":
        return Decimal(inner)
    if kind == "B":
        return base64.b64decode(inner)
    return inner
