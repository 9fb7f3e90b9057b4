"""What a DynamoDB write request changed, read from the store just after moto applied it (under
the store's lock): the after-image of every item it names, or of every table it names.

Recording results rather than requests makes a replay exact whatever moto would decide on a
second run (conditions, partial batches, cancelled transactions all simply record the items as
they are). A write the store cannot attribute to items or tables (PartiQL, backups restored into
a table, ...) records every table in full: correct, and costly only for those rare requests.
"""

from typing import Any

import orjson

from shoplocal.store import compact_items
from shoplocal.store.moto_state import definition_of, image_of, to_json
from shoplocal.store.snapshots import Op
from shoplocal.store.write_requests import named_items

# Changes to what the store does not save (tags and backups were never part of a snapshot).
_UNSAVED_ACTIONS = frozenset({"TagResource", "UntagResource", "CreateBackup", "DeleteBackup", "UpdateContinuousBackups"})
_TABLE_ACTIONS = frozenset({"CreateTable", "UpdateTable", "UpdateTimeToLive", "DeleteTable"})


def changes(action: str, request: Any, backend: Any) -> list[Op]:
    """The changes a (non-read) request made, as journal ops; [] if it cannot have changed data."""
    if action in _UNSAVED_ACTIONS:
        return []
    try:
        if action in _TABLE_ACTIONS:
            name = request["TableName"]
            table = backend.tables.get(name)
            return [["table", definition_of(table)]] if table is not None else [["drop", name]]
        named = named_items(action, request)
        if named is not None:
            ops: list[Op] = []
            for table_name, key in named:
                op = _after_image(backend, table_name, key)
                if op is not None and op not in ops:
                    ops.append(op)
            return ops
    except (KeyError, TypeError, AttributeError, ValueError):  # a malformed request: record everything, to be sure
        pass
    return image_of(backend)


def _after_image(backend: Any, table_name: str, key: dict[str, Any]) -> Op | None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    table = backend.tables.get(table_name)
    if table is None or table.hash_key_attr not in key or (table.range_key_attr and table.range_key_attr not in key):
        return None  # the request failed before changing anything
    hash_key = DynamoType(key[table.hash_key_attr])
    range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
    compact = compact_items.of(table)
    if compact is not None:  # the item's bytes, as the request left them: no moto object built
        stored = compact.data.get(compact.key_of(hash_key.cast_value, range_key.cast_value if range_key else None))
        if type(stored) is bytes:
            return ["put", table_name, orjson.loads(stored)]
    item = table.get_item(hash_key, range_key)
    if item is not None:
        return ["put", table_name, to_json(item.to_json()["Attributes"])]
    key_only = {table.hash_key_attr: key[table.hash_key_attr]}
    if table.range_key_attr:
        key_only[table.range_key_attr] = key[table.range_key_attr]
    return ["delete", table_name, to_json(key_only)]
