"""`shopctl export` / `shopctl import`: the whole table as a JSON file, for backups and for moving
data between stores (local to local, local to a deployed table and back).

Items are kept in DynamoDB's typed JSON, so numbers, sets and binary values round-trip exactly,
grouped by what they are so the file can be read. Password hashes are replaced by Django's
"unusable password" marker unless asked for: an export is often shared, a hash is a secret.
"""

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from shoplocal.template import put_code_on_path

put_code_on_path()
from shop_common import settings  # noqa: E402 - the layer is importable only after the line above
from shop_common.dynamo import client  # noqa: E402

FORMAT = "shop-export"
VERSION = 1
GROUPS = ("products", "users", "orders", "counters", "other")
UNUSABLE_PASSWORD = "!"  # noqa: S105 - Django's marker: the account exists, no password matches
_BATCH = 25  # BatchWriteItem's limit


class BackupError(Exception):
    """The file is not an export, or the target table is not in a state to import into."""


def group_of(item: dict[str, Any]) -> str:
    partition, sort = item["PK"]["S"], item["SK"]["S"]
    if partition.startswith("PRODUCT#"):
        return "products"
    if partition.startswith("ORDER#") or sort.startswith("ORDER#"):
        return "orders"
    if partition.startswith(("USER#", "USERNAME#", "EMAIL#")):
        return "users"
    if partition in ("CATALOG", "COUNTER"):
        return "counters"
    return "other"


def _all_items() -> Iterator[dict[str, Any]]:
    # A Scan is right here: an export reads everything, and never on a customer's request path.
    paginator = client().get_paginator("scan")
    for page in paginator.paginate(TableName=settings.table_name(), ConsistentRead=True):
        yield from page.get("Items", [])


def export_table(*, include_password_hashes: bool) -> dict[str, Any]:
    groups: dict[str, list[dict[str, Any]]] = {group: [] for group in GROUPS}
    for item in _all_items():
        if "password_hash" in item and not include_password_hashes:
            item = {**item, "password_hash": {"S": UNUSABLE_PASSWORD}}
        groups[group_of(item)].append(item)
    for items in groups.values():
        items.sort(key=lambda item: (item["PK"]["S"], item["SK"]["S"]))
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "table": settings.table_name(),
        "password_hashes": include_password_hashes,
        "counts": {group: len(items) for group, items in groups.items()},
        "items": groups,
    }


def items_of_export(text: str) -> list[dict[str, Any]]:
    """The items of an export file, checked enough that a wrong file is refused before any write."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise BackupError(f"not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}") from error
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise BackupError("not a shop export (made by `shopctl export`)")
    if document.get("version") != VERSION:
        raise BackupError(f"export version {document.get('version')!r} is not supported (expected {VERSION})")
    groups = document.get("items")
    if not isinstance(groups, dict):
        raise BackupError('the export has no "items"')
    items: list[dict[str, Any]] = []
    for group, group_items in groups.items():
        if not isinstance(group_items, list):
            raise BackupError(f'"items.{group}" must be a list')
        for position, item in enumerate(group_items, start=1):
            keys_ok = isinstance(item, dict) and all(isinstance(item.get(key), dict) and "S" in item[key] for key in ("PK", "SK"))
            if not keys_ok:
                raise BackupError(f"items.{group}[{position}] is not a table item with PK and SK")
            items.append(item)
    return items


def table_is_empty() -> bool:
    return not client().scan(TableName=settings.table_name(), Limit=1, ProjectionExpression="PK").get("Items")


def _write_batches(requests: list[dict[str, Any]], on_progress: Callable[[int], None]) -> None:
    for start in range(0, len(requests), _BATCH):
        pending: dict[str, Any] = {settings.table_name(): requests[start : start + _BATCH]}
        for attempt in range(10):
            unprocessed = client().batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not unprocessed:
                break
            pending = unprocessed
            time.sleep(min(0.05 * 2**attempt, 2.0))  # throttled: back off before the rest
        else:
            raise BackupError("DynamoDB kept throttling the writes; nothing after this batch was written")
        on_progress(len(requests[start : start + _BATCH]))


def delete_everything(on_progress: Callable[[int], None]) -> int:
    keys = [{"PK": item["PK"], "SK": item["SK"]} for item in _all_items()]
    _write_batches([{"DeleteRequest": {"Key": key}} for key in keys], on_progress)
    return len(keys)


def import_items(items: list[dict[str, Any]], on_progress: Callable[[int], None]) -> None:
    _write_batches([{"PutRequest": {"Item": item}} for item in items], on_progress)
