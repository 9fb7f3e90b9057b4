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
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from shoplocal.store import journal, snapshots
from shoplocal.store.journal import JournalError
from shoplocal.store.snapshots import SnapshotError, StoreState

SNAPSHOT_FILE = "dynamodb.json"
COMPACTION_LOCK_FILE = ".compaction.lock"  # held by whoever compacts; a starting server waits for it
_ORPHAN_CHECK_SECONDS = 0.05


def load(folder: Path, *, upto: int | None = None, repair: bool = False) -> StoreState:
    """The state saved in `folder`: its snapshot (or nothing) with the journal segments after it
    applied (those before `upto`, if given). A torn tail is allowed only at the end of the last
    segment read; `repair` cuts it off and deletes the segments the snapshot already covers (a
    compaction stopped before it could). Raises SnapshotError."""
    snapshot = folder / SNAPSHOT_FILE
    state = snapshots.read(snapshot) if snapshot.exists() else StoreState()
    if repair:
        remove_covered_segments(folder, state.journal)
    found = [(n, path) for n, path in journal.segments(folder) if n >= state.journal and (upto is None or n < upto)]
    for index, (number, path) in enumerate(found):
        if number != state.journal:
            raise JournalError(f"{journal.segment_path(folder, state.journal)} is missing (the journal goes on at {path.name})")
        segment = journal.read_segment(path)
        if segment.torn:
            if index != len(found) - 1 or upto is not None:
                raise JournalError(f"{path}: the last record is damaged, and later segments follow it")
            if repair:
                journal.truncate(path, segment.valid_bytes)
        for position, record in enumerate(segment.records, start=1):
            snapshots.apply(state, record, f"{path}, record {position}")
        state.journal = number + 1
    if upto is not None and state.journal < upto:
        raise JournalError(f"{journal.segment_path(folder, state.journal)} is missing")
    return state


def compact(folder: Path, upto: int, created: list[Path] | None = None) -> bool:
    """Fold every segment before `upto` into the snapshot; False if it already covers them."""
    snapshot = folder / SNAPSHOT_FILE
    if snapshot.exists() and not any(number < upto for number, _ in journal.segments(folder)):
        return False
    state = load(folder, upto=upto)
    snapshots.write(state, snapshot, created=created)
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
