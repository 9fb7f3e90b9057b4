"""The embedded DynamoDB's journal: an append-only file of the changes each write request made,
in the order the store applied them, group-committed so a request's answer leaves only once its
record is on disk.

A record is one line: the CRC-32 of its JSON (8 hex digits), a space, the JSON list of the
request's changes (`snapshots.Op`), a newline. A crash can only tear the last record of the last
segment, which was never acknowledged: reading ignores such a tail, and refuses a damaged record
anywhere else. Segments are numbered files; a snapshot covers every segment before its number.
"""

import json
import logging
import os
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shoplocal.store.snapshots import SnapshotError, sync_folder

log = logging.getLogger("shoplocal.store")

SEGMENT_PREFIX = "dynamodb-journal."
# fdatasync is enough for an append-only file (its size is metadata it syncs); macOS has only fsync.
_sync_data: Callable[[int], None] = getattr(os, "fdatasync", os.fsync)


class JournalError(SnapshotError):
    """A journal segment holds a damaged record before its end."""


class JournalWriteError(RuntimeError):
    """The journal could not be written: the store no longer acknowledges requests."""


def encode(ops: list[Any]) -> bytes:
    payload = json.dumps(ops, separators=(",", ":")).encode()
    return b"%08x %s\n" % (zlib.crc32(payload), payload)


def _decode(line: bytes) -> Any:
    """The record a complete line holds, or None if the line is damaged."""
    checksum, _, payload = line.partition(b" ")
    if len(checksum) != 8 or checksum != b"%08x" % zlib.crc32(payload):
        return None
    try:
        return json.loads(payload)
    except ValueError:
        return None


@dataclass
class Segment:
    records: list[Any]
    valid_bytes: int  # where the records end: a torn tail starts here
    torn: bool


def segment_path(folder: Path, number: int) -> Path:
    return folder / f"{SEGMENT_PREFIX}{number:08d}"


def segments(folder: Path) -> list[tuple[int, Path]]:
    """The journal segments in `folder`, oldest first."""
    found = []
    for path in folder.glob(f"{SEGMENT_PREFIX}*"):
        suffix = path.name.removeprefix(SEGMENT_PREFIX)
        if suffix.isdigit():
            found.append((int(suffix), path))
    return sorted(found)


def read_segment(path: Path) -> Segment:
    """Every complete record of a segment. A damaged or partial record followed by no complete
    one is a torn tail (`torn`); one followed by a complete record is damage: JournalError."""
    records: list[Any] = []
    valid_bytes, torn = scan_segment(path, records.append)
    return Segment(records, valid_bytes, torn)


def scan_segment(path: Path, on_record: Callable[[Any], None]) -> tuple[int, bool]:
    """`read_segment`, handing each record to `on_record` as it is read rather than holding them
    all (a segment after an import can hold a hundred megabytes of records): returns where the
    records end and whether a torn tail follows."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise JournalError(f"cannot read {path}: {error}") from error
    position = 0
    while position < len(data):
        end = data.find(b"\n", position)
        record = _decode(data[position:end]) if end >= 0 else None
        if record is None:
            if any(_decode(line) is not None for line in data[position:].split(b"\n")[1:]):
                raise JournalError(f"{path}: the record at byte {position} is damaged, and complete records follow it")
            return position, True
        on_record(record)
        position = end + 1
    return position, False


def truncate(path: Path, length: int) -> None:
    """Cut a torn tail off a segment, durably."""
    with path.open("r+b") as handle:
        handle.truncate(length)
        handle.flush()
        os.fsync(handle.fileno())


class JournalWriter:
    """Appends records to segment `segment` (and the ones after it) in the order `append` is
    called (under the store's lock), writes and syncs them from one thread: one sync covers
    every record appended meanwhile (group commit).

    `wants_rotation(segment bytes)` is asked after each sync; when it says yes (or `rotate` is
    called) the current segment is closed and a new one started, and `rotated(new number)` is
    told: every segment before that number is complete and will not change.
    """

    def __init__(
        self,
        folder: Path,
        segment: int,
        wants_rotation: Callable[[int], bool],
        rotated: Callable[[int], None],
    ) -> None:
        self._folder = folder
        self._segment = segment
        self._wants_rotation = wants_rotation
        self._rotated = rotated
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)  # the writer waits here for records
        self._done = threading.Condition(self._lock)  # requests wait here for their record's sync
        self._pending: list[bytes] = []
        self._appended = 0  # number of the last record appended
        self._durable = 0  # number of the last record on disk
        self._rotation_wanted = False
        self._closing = False
        self._failure: Exception | None = None
        self._descriptor = self._open(segment)
        self._bytes = os.fstat(self._descriptor).st_size
        self._thread = threading.Thread(target=self._write_forever, name="dynamodb-journal", daemon=True)
        self._thread.start()

    @property
    def segment(self) -> int:
        return self._segment

    def _open(self, number: int) -> int:
        """Open a segment to append to: a new one, or the last one a previous run left (complete:
        its torn tail, if any, was cut off when it was read)."""
        descriptor = os.open(segment_path(self._folder, number), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        sync_folder(self._folder)
        return descriptor

    def append(self, record: bytes) -> int:
        """Queue a record; returns its number, to `wait` for."""
        with self._lock:
            self._pending.append(record)
            self._appended += 1
            self._work.notify()
            return self._appended

    def last_appended(self) -> int:
        return self._appended

    def is_durable(self, number: int) -> bool:
        return self._durable >= number

    def wait(self, number: int) -> None:
        """Return once record `number` (and so every record before it) is on disk."""
        with self._lock:
            while self._durable < number and self._failure is None:
                self._done.wait()
            if self._durable < number:
                raise JournalWriteError(f"the local store's journal cannot be written: {self._failure}")

    def rotate(self) -> int:
        """Close the current segment once everything appended so far is in it; return the new
        segment's number."""
        with self._lock:
            self._rotation_wanted = True
            self._work.notify()
            while self._rotation_wanted and self._failure is None:
                self._done.wait()
            if self._failure is not None:
                raise JournalWriteError(f"the local store's journal cannot be written: {self._failure}")
            return self._segment

    def close(self) -> None:
        """Write what is pending and stop."""
        with self._lock:
            self._closing = True
            self._work.notify()
        self._thread.join()
        os.close(self._descriptor)

    def _write_forever(self) -> None:
        try:
            while self._write_next_batch():
                pass
        except Exception as error:  # disk full, folder removed, ...: no request may wait for ever
            log.exception("cannot write the local store's journal in %s; requests now fail", self._folder)
            with self._lock:
                self._failure = error
                self._done.notify_all()

    def _write_next_batch(self) -> bool:
        with self._lock:
            while not self._pending and not self._rotation_wanted and not self._closing:
                self._work.wait()
            batch, self._pending = self._pending, []
            last, rotate, closing = self._appended, self._rotation_wanted, self._closing
        if batch:
            data = memoryview(b"".join(batch))
            while data:
                data = data[os.write(self._descriptor, data) :]
            _sync_data(self._descriptor)
            self._bytes += sum(len(record) for record in batch)
        rotate = rotate or (bool(batch) and self._wants_rotation(self._bytes))
        if rotate:
            # Records appended after `last` go into the new segment, after the old one: order kept.
            new = self._open(self._segment + 1)
            os.close(self._descriptor)
            self._descriptor, self._segment, self._bytes = new, self._segment + 1, 0
        with self._lock:
            self._durable = last
            if rotate:
                self._rotation_wanted = False
            self._done.notify_all()
        if rotate:
            self._rotated(self._segment)
        return not (closing and not batch)
