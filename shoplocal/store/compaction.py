"""Compaction of the embedded DynamoDB's saved state, on files only: the last snapshot plus the
complete journal segments after it become a new snapshot, and those segments are deleted.

It runs in a child process (`python -m shoplocal.store.compaction FOLDER UPTO`), so it never
holds the store's lock nor competes with the server for the interpreter. Each step leaves a
consistent folder: the new snapshot replaces the old one by a rename, and it names the first
segment it does not cover, so segments it covers that are still there are simply ignored.
A compaction whose server died stops (removing its temporary file) rather than outlive it.
"""

import contextlib
import fcntl
import gc
import itertools
import os
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shoplocal.store import journal, snapshots
from shoplocal.store.journal import JournalError
from shoplocal.store.snapshots import SnapshotError, StoreState, TableState

SNAPSHOT_FILE = "dynamodb.json"
COMPACTION_LOCK_FILE = ".compaction.lock"  # held by whoever compacts; a starting server waits for it
_ORPHAN_CHECK_SECONDS = 0.05


@dataclass
class Merged:
    """The state saved in a folder as a stream: the snapshot's items with the journal's changes
    folded in, never all in memory (only the changes are)."""

    journal: int  # the first segment not folded in
    definitions: list[dict[str, Any]]
    # (table, the bytes of an item's JSON, the item if the merge parsed them), grouped by table
    items: Iterator[tuple[str, bytes, dict[str, Any] | None]]
    close: Callable[[], None]
    checked: bool  # every item's bytes are checked against a checksum as they are read


@dataclass
class _Changes:
    """What the journal records did, by table and key, in order."""

    definitions: dict[str, dict[str, Any]]  # every table there is now (snapshot's and journal's)
    from_snapshot: set[str]  # tables whose snapshot items still count (not dropped or reset since)
    # key -> the item's line (its JSON's bytes: a tenth of the memory of the parsed item), or None
    items: dict[str, dict[snapshots.Key, bytes | None]] = field(default_factory=dict)

    def apply(self, ops: Any, where: str) -> None:
        """One record (the checks of `snapshots.apply`, on the changes only)."""
        if not isinstance(ops, list):
            raise SnapshotError(f"{where}: a record is not a list of changes")
        for op in ops:
            kind = op[0] if isinstance(op, list) and op else None
            if kind == "table" and len(op) == 2:
                definition = snapshots.check_definition(op[1], where)
                self.definitions[definition["TableName"]] = definition  # keys never change
            elif kind == "drop" and len(op) == 2 and isinstance(op[1], str):
                self._forget(op[1])
            elif kind in ("put", "delete") and len(op) == 3:
                target = self.definitions.get(op[1]) if isinstance(op[1], str) else None
                if target is None:
                    raise SnapshotError(f"{where}: a change names a table that does not exist: {op[1]!r}")
                table = TableState(target)
                key = table.key_of(snapshots.check_item(op[2], table, where), where)
                self.items.setdefault(op[1], {})[key] = snapshots.item_line(op[2]) if kind == "put" else None
            elif kind == "reset" and len(op) == 1:
                for name in list(self.definitions):
                    self._forget(name)
            else:
                raise SnapshotError(f"{where}: unknown change {str(op)[:80]}")

    def _forget(self, name: str) -> None:
        self.definitions.pop(name, None)
        self.from_snapshot.discard(name)
        self.items.pop(name, None)


def merged(folder: Path, *, upto: int | None = None, repair: bool = False) -> Merged:
    """The state saved in `folder`: its snapshot (or nothing) with the journal segments after it
    applied (those before `upto`, if given), as a stream. A torn tail is allowed only at the end
    of the last segment read; `repair` cuts it off and deletes the segments the snapshot already
    covers (a compaction stopped before it could). Raises SnapshotError (also while streaming)."""
    snapshot = folder / SNAPSHOT_FILE
    reader = snapshots.SnapshotReader(snapshot) if snapshot.exists() else None
    try:
        start = reader.journal if reader else 0
        definitions = {d["TableName"]: d for d in reader.definitions} if reader else {}
        changes = _Changes(dict(definitions), set(definitions))
        if repair:
            remove_covered_segments(folder, start)
        position = start
        found = [(n, path) for n, path in journal.segments(folder) if n >= start and (upto is None or n < upto)]
        for index, (number, path) in enumerate(found):
            if number != position:
                raise JournalError(f"{journal.segment_path(folder, position)} is missing (the journal goes on at {path.name})")
            counter = itertools.count(1)

            def apply(record: Any, path: Path = path, counter: Iterator[int] = counter) -> None:
                changes.apply(record, f"{path}, record {next(counter)}")

            valid_bytes, torn = journal.scan_segment(path, apply)
            if torn:
                if index != len(found) - 1 or upto is not None:
                    raise JournalError(f"{path}: the last record is damaged, and later segments follow it")
                if repair:
                    journal.truncate(path, valid_bytes)
            position = number + 1
        if upto is not None and position < upto:
            raise JournalError(f"{journal.segment_path(folder, position)} is missing")
    except BaseException:
        if reader:
            reader.__exit__()
        raise

    def items() -> Iterator[tuple[str, bytes, dict[str, Any] | None]]:
        where = str(snapshot)
        pending = changes.items
        tables: dict[str, tuple[TableState, set[str]]] = {}
        if reader:
            for table_name, raw in reader.items():
                if table_name not in changes.from_snapshot:
                    continue
                changed = pending.get(table_name)
                if not changed:
                    yield table_name, raw, None
                    continue
                # The journal changed some of this table's items: each is parsed (and handed on
                # parsed, so that a restore does not parse it again), and its whole key is worked
                # out only if its hash key is one the journal changed (a key's second element).
                if table_name not in tables:
                    tables[table_name] = (TableState(changes.definitions[table_name]), {key[1] for key in changed})
                table, changed_hashes = tables[table_name]
                item = snapshots.parse_item(raw, where)
                if table.hash_value(item) not in changed_hashes or table.key_of(item, where) not in changed:
                    yield table_name, raw, item
                # else the journal's version (or its deletion) comes after this table
        for table_name in changes.definitions:
            for line in (pending.get(table_name) or {}).values():
                if line is not None:
                    yield table_name, line, None

    # The journal's records carry checksums; a snapshot does since the checksum came.
    checked = reader is None or reader.checksummed
    return Merged(position, list(changes.definitions.values()), items(), reader.__exit__ if reader else lambda: None, checked)


def load(folder: Path, *, upto: int | None = None, repair: bool = False) -> StoreState:
    """The state saved in `folder` (see `merged`), whole, as plain data."""
    stream = merged(folder, upto=upto, repair=repair)
    try:
        state = StoreState(journal=stream.journal)
        for definition in stream.definitions:
            state.tables[definition["TableName"]] = TableState(definition)
        for table_name, raw, parsed in stream.items:
            table = state.tables[table_name]
            item = snapshots.parse_item(raw, table_name) if parsed is None else parsed
            table.items[table.key_of(item, table_name)] = item
    finally:
        stream.close()
    return state


def compact(folder: Path, upto: int, created: list[Path] | None = None) -> bool:
    """Fold every segment before `upto` into the snapshot; False if it already covers them.
    Streams: it holds the journal's changes in memory, not the store."""
    snapshot = folder / SNAPSHOT_FILE
    if snapshot.exists() and not any(number < upto for number, _ in journal.segments(folder)):
        return False
    stream = merged(folder, upto=upto)
    try:
        lines = ((table_name, raw) for table_name, raw, _ in stream.items)
        snapshots.write_stream(stream.journal, stream.definitions, lines, snapshot, created=created)
    finally:
        stream.close()
    remove_covered_segments(folder, upto)
    return True


def remove_covered_segments(folder: Path, upto: int) -> None:
    for number, path in journal.segments(folder):
        if number < upto:
            path.unlink(missing_ok=True)
    snapshots.sync_folder(folder)


@contextlib.contextmanager
def exclusive(folder: Path, name: str, *, wait: bool) -> Iterator[bool]:
    """Hold an advisory lock on `folder/name` (released when the process ends, however it ends);
    yields False if `wait` is False and someone else holds it."""
    folder.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(folder / name, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(descriptor)


def _stop_if_orphaned(parent: int, created: list[Path]) -> None:
    stopped = threading.Event()
    while not stopped.wait(_ORPHAN_CHECK_SECONDS):
        if os.getppid() != parent:
            for path in created:
                path.unlink(missing_ok=True)
            os._exit(3)


def main(argv: list[str]) -> int:
    gc.disable()  # a short-lived process building one large object tree: collections would only slow it
    folder, upto = Path(argv[0]), int(argv[1])
    created: list[Path] = []
    threading.Thread(target=_stop_if_orphaned, args=(os.getppid(), created), daemon=True).start()
    with exclusive(folder, COMPACTION_LOCK_FILE, wait=True):
        try:
            compact(folder, upto, created)
        except (SnapshotError, OSError) as error:
            print(f"compaction of {folder} failed: {error}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
