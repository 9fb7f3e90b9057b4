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
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

FORMAT = "shop-local-dynamodb"
# Version 3 is a line per item, so that a store of a million items is read and written as a
# stream, never held whole in memory: a header line (the journal position and every table's
# definition), then runs of items, each run after a line `["items", table name]`, one line per item,
# and a last line `["end"]`.
# Versions 2 (one JSON document) and 1 (periodic snapshots, no journal) are still read.
VERSION = 3
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
            part = _key_part(item.get(attribute))
            if part is None:
                raise _fail(where, f"an item of table {self.definition['TableName']} has no valid key attribute {attribute}")
            key += part
        return tuple(key)

    def hash_value(self, item: dict[str, Any]) -> str | None:
        """The value of the item's hash key (a key's second element), or None if it has none valid."""
        part = _key_part(item.get(self.key_attributes[0]))
        return None if part is None else part[1]


def _key_part(value: Any) -> tuple[str, str] | None:
    """(type, value) of a key attribute's DynamoDB JSON, or None if it is not a valid key value."""
    kind, inner = next(iter(value.items())) if isinstance(value, dict) and len(value) == 1 else (None, None)
    return (kind, inner) if kind in _KEY_TYPES and isinstance(inner, str) else None


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
    with SnapshotReader(path) as reader:
        state = StoreState(journal=reader.journal)
        for definition in reader.definitions:
            state.tables[definition["TableName"]] = TableState(definition)
        for table_name, raw in reader.items():
            table = state.tables[table_name]
            item = parse_item(raw, str(path))
            table.items[table.key_of(item, str(path))] = item
    return state


def parse_item(raw: bytes, where: str) -> dict[str, Any]:
    try:
        item = orjson.loads(raw)
    except ValueError as error:
        raise _fail(where, f"an item is not JSON: {error}") from error
    if not isinstance(item, dict):
        raise _fail(where, "an item is not an object")
    return item


def item_line(item: dict[str, Any]) -> bytes:
    """An item as a snapshot's line holds it: the compact storage's bytes."""
    return orjson.dumps(item)


class SnapshotReader:
    """A snapshot read as a stream: `journal` and `definitions` first, then `items()`, each as
    (table name, the bytes of its JSON)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._file = path.open("rb")
            header = json.loads(self._file.readline())
        except (OSError, ValueError) as error:
            raise SnapshotError(f"cannot read {path}: {error}") from error
        if not isinstance(header, dict) or header.get("format") != FORMAT or header.get("version") not in (1, 2, VERSION):
            raise SnapshotError(f"{path} is not a version 2 snapshot of the local store, nor one of version 1 or {VERSION}")
        # Snapshots written since the checksum came carry a CRC32 of every line after the header
        # in their end line: their items need no check of each value as they load.
        self.checksummed = header.get("checksum") == _CHECKSUM
        self.journal = header.get("journal", 0)
        if not isinstance(self.journal, int) or self.journal < 0:
            raise _fail(str(path), "the snapshot has no valid journal position")
        self._whole: list[Any] | None = None
        if header["version"] == VERSION:
            definitions = header.get("tables")
            if not isinstance(definitions, list):
                raise _fail(str(path), "the snapshot has no table definitions")
            self.definitions = [check_definition(definition, str(path)) for definition in definitions]
        else:  # one JSON document: its tables, items and all, are in the header line
            if not isinstance(header.get("tables"), list):
                raise _fail(str(path), "the snapshot has no valid journal position or tables")
            self._whole = header["tables"]
            for entry in self._whole:
                if not isinstance(entry, dict) or not isinstance(entry.get("items"), list):
                    raise _fail(str(path), "a table is not an object with a list of items")
            self.definitions = [check_definition(entry.get("definition"), str(path)) for entry in self._whole]
        names = [definition["TableName"] for definition in self.definitions]
        if len(set(names)) != len(names):
            raise _fail(str(path), "a table is defined twice")

    def items(self) -> Iterator[tuple[str, bytes]]:
        if self._whole is not None:
            for entry in self._whole:
                for item in entry["items"]:
                    yield entry["definition"]["TableName"], item_line(item if isinstance(item, dict) else {})
            return
        table: str | None = None
        known = {definition["TableName"] for definition in self.definitions}
        crc = 0
        for line in self._file:
            if not line.endswith(b"\n"):
                break
            if line.startswith(b"["):
                marker = _parse_marker(line[:-1], str(self.path))
                if isinstance(marker, tuple):  # the end
                    if self._file.read(1):
                        raise _fail(str(self.path), "lines after the end")
                    if self.checksummed and marker[1] != crc:
                        raise _fail(str(self.path), "its content does not match its checksum (the file was changed or damaged)")
                    return
                if marker not in known:
                    raise _fail(str(self.path), f"items of an undefined table {marker!r}")
                table = marker
            elif table is None:
                raise _fail(str(self.path), "an item before any table")
            else:
                yield table, line[:-1]
            crc = zlib.crc32(line, crc)
        raise SnapshotError(f"cannot read {self.path}: it stops before its end line (cut short)")

    def __enter__(self) -> "SnapshotReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self._file.close()


def _parse_marker(line: bytes, where: str) -> str | tuple[str, int | None]:
    """A table's name, or (end, the checksum it carries if any)."""
    try:
        marker = json.loads(line)
    except ValueError as error:
        raise _fail(where, f"a damaged line: {error}") from error
    if marker == [_END]:
        return _END, None
    if isinstance(marker, list) and len(marker) == 2 and marker[0] == _END and type(marker[1]) is int:
        return _END, marker[1]
    if not (isinstance(marker, list) and len(marker) == 2 and marker[0] == "items" and isinstance(marker[1], str)):
        raise _fail(where, "a damaged table marker")
    return marker[1]


_END = "end"  # the last line, `["end", crc]`: a file cut short at a line's end is noticed
_CHECKSUM = "crc32"


def write(state: StoreState, path: Path, *, created: list[Path] | None = None) -> None:
    definitions = [table.definition for table in state.tables.values()]

    def items() -> Iterator[tuple[str, bytes]]:
        for table in state.tables.values():
            for item in table.items.values():
                yield table.definition["TableName"], item_line(item)

    write_stream(state.journal, definitions, items(), path, created=created)


def write_stream(
    journal: int,
    definitions: list[dict[str, Any]],
    items: Iterable[tuple[str, bytes]],
    path: Path,
    *,
    created: list[Path] | None = None,
) -> None:
    """A version 3 snapshot of these tables and items, written atomically (a table's marker
    line comes before each run of its items)."""
    header = {"format": FORMAT, "version": VERSION, "journal": journal, "tables": definitions, "checksum": _CHECKSUM}

    def lines() -> Iterator[bytes]:
        yield json.dumps(header, separators=(",", ":")).encode() + b"\n"
        current = None
        crc = 0
        for table_name, raw in items:
            if table_name != current:
                current = table_name
                marker = json.dumps(["items", table_name]).encode() + b"\n"
                crc = zlib.crc32(marker, crc)
                yield marker
            line = raw + b"\n"
            crc = zlib.crc32(line, crc)
            yield line
        yield json.dumps([_END, crc]).encode() + b"\n"

    write_atomically(path, lines(), created=created)


def temporary_files(folder: Path, name: str) -> list[Path]:
    """What an interrupted `write_atomically(folder / name)` can leave behind."""
    return sorted(folder.glob(f".{name}.*.tmp"))


def write_atomically(path: Path, content: bytes | Iterable[bytes], *, created: list[Path] | None = None) -> None:
    """Replace `path` with `content` (bytes, or chunks of them), all or nothing. `created`, if
    given, receives the temporary file's path first (so a watchdog can remove it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    if created is not None:
        created.append(Path(temporary))
    try:
        with os.fdopen(descriptor, "wb") as handle:
            if isinstance(content, bytes):
                handle.write(content)
            else:
                handle.writelines(content)
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
