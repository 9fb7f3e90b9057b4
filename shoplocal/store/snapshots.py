"""Snapshots of the embedded DynamoDB: every table's definition and items, in DynamoDB's typed
JSON, written atomically (temporary file, fsync, rename) so a crash never leaves half a file.
"""

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from shoplocal.store.moto_atomic import store_lock

FORMAT = "shop-local-dynamodb"
VERSION = 1


class SnapshotError(Exception):
    """The snapshot file cannot be read back (corrupt, or from another format version)."""


def _table_definition(table: Any) -> dict[str, Any]:
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


def capture(backend: Any) -> dict[str, Any]:
    """A consistent copy of every table (taken under the store's lock, so no request is half-applied)."""
    with store_lock():
        tables = [
            {"definition": _table_definition(table), "items": [item.to_json()["Attributes"] for item in table.all_items()]}
            for table in backend.tables.values()
        ]
    return {"format": FORMAT, "version": VERSION, "tables": tables}


def write(snapshot: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(snapshot, handle, separators=(",", ":"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read(path: Path) -> dict[str, Any]:
    try:
        snapshot: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise SnapshotError(f"cannot read {path}: {error}") from error
    if snapshot.get("format") != FORMAT or snapshot.get("version") != VERSION:
        raise SnapshotError(f"{path} is not a version {VERSION} snapshot of the local store")
    return snapshot


def restore(backend: Any, snapshot: dict[str, Any]) -> int:
    """Re-create every table of `snapshot` in an empty backend; return the number of items."""
    count = 0
    with store_lock():
        for table_snapshot in snapshot["tables"]:
            definition = table_snapshot["definition"]
            table = backend.create_table(
                name=definition["TableName"],
                schema=definition["KeySchema"],
                throughput=None,
                attr=definition["AttributeDefinitions"],
                global_indexes=definition["GlobalSecondaryIndexes"],
                indexes=definition["LocalSecondaryIndexes"],
                streams=None,
                billing_mode=definition["BillingMode"],
                sse_specification=None,
                tags=[],
                deletion_protection_enabled=False,
                warm_throughput=None,
            )
            table.ttl = definition["TimeToLive"]
            for item in table_snapshot["items"]:
                table.put_item(item, overwrite=True)
            count += len(table_snapshot["items"])
    return count
