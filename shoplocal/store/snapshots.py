"""The embedded DynamoDB's saved state: every table's definition and items, in DynamoDB's typed
JSON. A snapshot file holds the state up to a journal segment; the journal's records are
changes (`Op`s) applied to it. This module reads, checks, changes and writes that state as plain
data, apart from the live store, so compaction can work on files in another process.

A snapshot is written atomically (temporary file, fsync, rename, fsync of the folder), so a
crash never leaves half a file. Binary values (bytes in moto) are base64 text here
(`moto_state` converts between this state and moto's tables).
"""

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT = "shop-local-dynamodb"
VERSION = 2  # version 1 (periodic snapshots, no journal) is still read: it covers no journal segment
ATTRIBUTE_TYPES = frozenset({"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"})
_KEY_TYPES = frozenset({"S", "N", "B"})
_DEFINITION_FIELDS = ("TableName", "KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes", "LocalSecondaryIndexes")

# An Op is one change, as a JSON list: ["table", definition] (create, or redefine keeping the
# items), ["drop", table name], ["put", table name, item], ["delete", table name, key], ["reset"]
# (drop every table). One journal record is the list of Ops one write request caused.
Op = list[Any]


class SnapshotError(Exception):
    """The saved store (its snapshot or its journal) cannot be read back: corrupt, of the wrong
    shape, or from another format version."""


Key = tuple[str, ...]  # (type, value) of the hash key, then of the range key if any


@dataclass
class TableState:
    definition: dict[str, Any]
    items: dict[Key, dict[str, Any]] = field(default_factory=dict)

    @property
    def key_attributes(self) -> tuple[str, str | None]:
        schema = {entry["KeyType"]: entry["AttributeName"] for entry in self.definition["KeySchema"]}
        return schema["HASH"], schema.get("RANGE")

    def key_of(self, item: dict[str, Any], where: str) -> Key:
        """The item's key; SnapshotError if it has no valid key attributes."""
        key: list[str] = []
        for attribute in self.key_attributes:
            if attribute is None:
                continue
            value = item.get(attribute)
            kind, inner = next(iter(value.items())) if isinstance(value, dict) and len(value) == 1 else (None, None)
            if kind not in _KEY_TYPES or not isinstance(inner, str):
                raise _fail(where, f"an item of table {self.definition['TableName']} has no valid key attribute {attribute}")
            key += (kind, inner)
        return tuple(key)


@dataclass
class StoreState:
    """The data of every table, and the first journal segment not yet applied to it."""

    tables: dict[str, TableState] = field(default_factory=dict)
    journal: int = 0

    @property
    def item_count(self) -> int:
        return sum(len(table.items) for table in self.tables.values())


# ---- checking shapes (a file can hold any JSON) ----


def _fail(where: str, problem: str) -> SnapshotError:
    return SnapshotError(f"{where}: {problem}")


def check_definition(definition: Any, where: str) -> dict[str, Any]:
    if not isinstance(definition, dict):
        raise _fail(where, "a table definition is not an object")
    for name in _DEFINITION_FIELDS:
        if name not in definition:
            raise _fail(where, f"a table definition has no {name}")
    if not isinstance(definition["TableName"], str) or not definition["TableName"]:
        raise _fail(where, "a table has no name")
    schema = definition["KeySchema"]
    if not (
        isinstance(schema, list)
        and all(isinstance(e, dict) and isinstance(e.get("AttributeName"), str) for e in schema)
        and [e.get("KeyType") for e in schema] in (["HASH"], ["HASH", "RANGE"])
    ):
        raise _fail(where, f"table {definition['TableName']} has a malformed KeySchema")
    for name in ("AttributeDefinitions", "GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if not isinstance(definition[name], list) or not all(isinstance(e, dict) for e in definition[name]):
            raise _fail(where, f"table {definition['TableName']} has a malformed {name}")
    if not isinstance(definition.get("TimeToLive"), dict | None) or not isinstance(definition.get("BillingMode", ""), str):
        raise _fail(where, f"table {definition['TableName']} has a malformed TimeToLive or BillingMode")
    return definition


def check_item(item: Any, table: TableState, where: str) -> dict[str, Any]:
    """An item (or a key) whose attributes are typed values (nested values are moto's to check)."""
    if not isinstance(item, dict) or not all(
        isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ATTRIBUTE_TYPES for value in item.values()
    ):
        raise _fail(where, f"an item of table {table.definition['TableName']} is not DynamoDB typed JSON")
    return item


def _table(state: StoreState, name: Any, where: str) -> TableState:
    table = state.tables.get(name) if isinstance(name, str) else None
    if table is None:
        raise _fail(where, f"a change names a table that does not exist: {name!r}")
    return table


def apply(state: StoreState, ops: Any, where: str) -> None:
    """Apply one journal record's changes to `state`, checking their shape."""
    if not isinstance(ops, list):
        raise _fail(where, "a record is not a list of changes")
    for op in ops:
        kind = op[0] if isinstance(op, list) and op else None
        if kind == "table" and len(op) == 2:
            definition = check_definition(op[1], where)
            existing = state.tables.get(definition["TableName"])
            if existing is None:
                state.tables[definition["TableName"]] = TableState(definition)
            else:
                existing.definition = definition  # DynamoDB never changes a table's keys
        elif kind == "drop" and len(op) == 2 and isinstance(op[1], str):
            state.tables.pop(op[1], None)
        elif kind == "put" and len(op) == 3:
            table = _table(state, op[1], where)
            table.items[table.key_of(check_item(op[2], table, where), where)] = op[2]
        elif kind == "delete" and len(op) == 3:
            table = _table(state, op[1], where)
            table.items.pop(table.key_of(check_item(op[2], table, where), where), None)
        elif kind == "reset" and len(op) == 1:
            state.tables.clear()
        else:
            raise _fail(where, f"unknown change {str(op)[:80]}")


# ---- files ----


def read(path: Path) -> StoreState:
    """The state a snapshot file holds. Raises SnapshotError, naming the file, if it cannot."""
    try:
        snapshot = json.loads(path.read_bytes())
    except (OSError, ValueError) as error:
        raise SnapshotError(f"cannot read {path}: {error}") from error
    if not isinstance(snapshot, dict) or snapshot.get("format") != FORMAT or snapshot.get("version") not in (1, VERSION):
        raise SnapshotError(f"{path} is not a version {VERSION} snapshot of the local store")
    journal = snapshot.get("journal", 0)
    if not isinstance(journal, int) or journal < 0 or not isinstance(snapshot.get("tables"), list):
        raise _fail(str(path), "the snapshot has no valid journal position or tables")
    state = StoreState(journal=journal)
    for entry in snapshot["tables"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("items"), list):
            raise _fail(str(path), "a table is not an object with a list of items")
        table = TableState(check_definition(entry.get("definition"), str(path)))
        # Only the keys here (100,000 items must load in seconds); `restore` checks the rest.
        for item in entry["items"]:
            table.items[table.key_of(item if isinstance(item, dict) else {}, str(path))] = item
        state.tables[table.definition["TableName"]] = table
    return state


def write(state: StoreState, path: Path, *, created: list[Path] | None = None) -> None:
    snapshot = {
        "format": FORMAT,
        "version": VERSION,
        "journal": state.journal,
        "tables": [{"definition": table.definition, "items": list(table.items.values())} for table in state.tables.values()],
    }
    write_atomically(path, json.dumps(snapshot, separators=(",", ":")).encode(), created=created)


def temporary_files(folder: Path, name: str) -> list[Path]:
    """What an interrupted `write_atomically(folder / name)` can leave behind."""
    return sorted(folder.glob(f".{name}.*.tmp"))


def write_atomically(path: Path, content: bytes, *, created: list[Path] | None = None) -> None:
    """Replace `path` with `content`, all or nothing. `created`, if given, receives the
    temporary file's path first (so a watchdog can remove it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    if created is not None:
        created.append(Path(temporary))
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    sync_folder(path.parent)


def sync_folder(folder: Path) -> None:
    """Make a file's creation, rename or removal in `folder` durable."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
