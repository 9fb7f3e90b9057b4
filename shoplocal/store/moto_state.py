"""Between the saved state (`snapshots`) and moto's live tables: a live table's definition and
items as the state holds them (JSON-safe: bytes as base64 text), and a state loaded into an empty
moto backend, fast enough for 100,000 items.
"""

import base64
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import orjson

from shoplocal.store import compact_items, partition_index
from shoplocal.store.snapshots import Op, SnapshotError, StoreState, item_line


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
        ops += (["put", table.name, orjson.loads(stored)] for stored in compact.data.values())
    return ops


def restore(backend: Any, state: StoreState) -> int:
    """Create every table of `state` in an empty moto backend; return the number of items.
    Raises SnapshotError if moto refuses a definition or an item."""
    definitions = [table.definition for table in state.tables.values()]
    lines = ((name, item_line(item), item) for name, table in state.tables.items() for item in table.items.values())
    return restore_stream(backend, definitions, lines)


def restore_stream(
    backend: Any,
    definitions: list[dict[str, Any]],
    items: Iterable[tuple[str, bytes, dict[str, Any] | None]],
    *,
    checked: bool = False,
) -> int:
    """Create these tables in an empty moto backend and load the items (each the bytes of its
    JSON, as a snapshot's line holds it, and the item parsed from them if the caller has it)
    straight into their compact storage and indexes, one at a time; return the number of items.
    Raises SnapshotError if moto refuses a definition or an item. `checked`: the items come from
    files whose checksums are verified as they are read (a snapshot that carries one, the
    journal's records), so each value is not checked again."""
    from shoplocal.store.moto_atomic import store_lock

    count = 0
    with store_lock():
        loaders: dict[str, _Loader] = {}
        for definition in definitions:
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
            except Exception as error:  # moto's own checks, on data a file gave: a clear message, not a traceback
                raise SnapshotError(f"table {definition['TableName']} cannot be restored: {error}") from error
            loaders[definition["TableName"]] = _Loader(table, check_values=not checked)
        for table_name, raw, parsed in items:
            try:
                loaders[table_name].add(raw, parsed)
            except Exception as error:
                raise SnapshotError(f"table {table_name} cannot be restored: {error}") from error
            count += 1
        for loader in loaders.values():
            loader.finish()
    return count


class _Loader:
    """What moto's `put_item(item, overwrite=True)` does for each item, less its per-write
    checks (conditions, size limits: they were checked when the items were written): each item
    goes into the table's compact storage as the bytes of its JSON, as read, and into the
    sorted partitions of its indexes. 100,000 items took half a minute through `put_item`."""

    def __init__(self, table: Any, *, check_values: bool = True) -> None:
        self.check_values = check_values
        self.compact = compact_items.install(table)
        self.hash_name, self.range_name = table.hash_key_attr, table.range_key_attr
        self.hash_type, self.range_type = table.hash_key_type, table.range_key_type
        self.indexes = partition_index.IndexBuild(table)

    def add(self, raw: bytes, item: dict[str, Any] | None = None) -> None:
        if item is None:
            item = orjson.loads(raw)
        hash_value = _key_value(item[self.hash_name], self.hash_type)
        range_value = _key_value(item[self.range_name], self.range_type) if self.range_name else None
        if self.check_values:
            for name, value in item.items():
                if not _is_value(value):
                    raise ValueError(f"attribute {name} is not a DynamoDB value")
        self.compact.load(hash_value, range_value, raw)
        self.indexes.add(item, (hash_value, range_value))

    def finish(self) -> None:
        self.compact.finish_load()
        self.indexes.finish()


_SCALARS = {"S": str, "N": str, "B": str, "BOOL": bool}


def _is_value(value: Any) -> bool:
    """Whether JSON is a DynamoDB value moto can hold (checked as the items load, so that a
    damaged snapshot stops the start rather than fail a request later)."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    ((kind, inner),) = value.items()
    scalar = _SCALARS.get(kind)
    if scalar is not None:
        return isinstance(inner, scalar)
    if kind in ("SS", "NS", "BS"):
        return isinstance(inner, list) and all(isinstance(member, str) for member in inner)
    if kind == "L":
        return isinstance(inner, list) and all(_is_value(member) for member in inner)
    if kind == "M":
        return isinstance(inner, dict) and all(_is_value(member) for member in inner.values())
    return kind == "NULL" and inner is True


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
