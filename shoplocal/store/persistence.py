"""How the embedded DynamoDB keeps every acknowledged write: a journal of each write request's
changes, appended under the store's lock and synced before the request's answer leaves, replayed
over the last snapshot at start, and folded into a new snapshot by a child process once it has
grown to a quarter of the snapshot's size (so a restart reads at most about 1.25 times the data:
replaying a journal costs several times what loading a checksummed snapshot does).

A read also waits until every write it could have seen is on disk, so no answer, read or
write, ever shows data that a crash could take back.

The data folder holds `dynamodb.json` (the snapshot), `dynamodb-journal.NNNNNNNN` segments and
two lock files: one server per folder, and a starting server waits for a compaction left
running by a server that died.
"""

import contextlib
import functools
import gc
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shoplocal.store import compaction, journal, moto_state, snapshots
from shoplocal.store.changes import changes
from shoplocal.store.compaction import COMPACTION_LOCK_FILE, SNAPSHOT_FILE
from shoplocal.store.journal import JournalWriter
from shoplocal.store.write_requests import READ_ACTIONS

log = logging.getLogger("shoplocal.store")

LOCK_FILE = ".store.lock"
COMPACT_AT_LEAST_BYTES = 4 * 1024 * 1024  # below this a journal replays in a fraction of a second
JOURNAL_SHARE_OF_SNAPSHOT = 4  # compact once the journal reaches a quarter of the snapshot
_PROJECT_ROOT = Path(__file__).resolve().parents[2]


class DataInUseError(Exception):
    """Another local server is using the data folder."""


@dataclass(frozen=True)
class RestoredState:
    items: int
    seconds: float


class Persistence:
    def __init__(self, folder: Path, backend: Callable[[], Any]) -> None:
        self.folder = folder
        self._backend = backend
        self._locks = contextlib.ExitStack()
        self._next_segment = 0
        self._snapshot_bytes = 0
        self._writer: JournalWriter | None = None
        self._compaction = threading.Condition()
        self._compact_upto = 0  # the segment the latest rotation started: compact everything before it
        self._compacted_upto = 0
        self._compactor: threading.Thread | None = None

    @property
    def snapshot_path(self) -> Path:
        return self.folder / SNAPSHOT_FILE

    def restore(self) -> RestoredState | None:
        """Take the folder, and load its snapshot and journal into the store, if there is a
        snapshot. Raises DataInUseError, or SnapshotError if the saved data is unreadable."""
        started = time.perf_counter()
        if not self._locks.enter_context(compaction.exclusive(self.folder, LOCK_FILE, wait=False)):
            self._locks.close()
            raise DataInUseError(f"another local server is using {self.folder}")
        with compaction.exclusive(self.folder, COMPACTION_LOCK_FILE, wait=True):
            pass  # a compaction left by a server that was killed has stopped
        for leftover in snapshots.temporary_files(self.folder, SNAPSHOT_FILE):
            leftover.unlink()
        if not self.snapshot_path.exists():
            # Never started, or the first start stopped before its demo data was saved: begin again.
            compaction.remove_covered_segments(self.folder, sys.maxsize)
            return None
        # The collector would walk every object created so far each time it runs: 4x the time.
        gc.disable()
        try:
            # Streamed: the snapshot's items go one by one into the store (with the journal's
            # changes, held in memory, folded in), never all of the file's data at once.
            stream = compaction.merged(self.folder, repair=True)
            try:
                items = moto_state.restore_stream(self._backend(), stream.definitions, stream.items, checked=stream.checked)
            finally:
                stream.close()
            covered = stream.journal
        finally:
            gc.enable()
            gc.freeze()  # and keep the restored items out of later collections: no pauses growing with the data
        remaining = [number for number, _ in journal.segments(self.folder)]  # those the snapshot does not cover
        self._compact_upto = self._compacted_upto = min(remaining, default=covered)
        self._next_segment = max(remaining, default=covered)  # go on appending to the last segment
        self._snapshot_bytes = self.snapshot_path.stat().st_size
        return RestoredState(items, time.perf_counter() - started)

    def start(self) -> None:
        """Journal every write from now on (appending to the last segment, if any)."""
        self._writer = JournalWriter(self.folder, self._next_segment, self._wants_rotation, self._rotated)
        if self._journal_bytes_since_snapshot() >= self._compaction_threshold():
            self._writer.rotate()

    def after_request(self, handler: Any) -> Callable[[], None] | None:
        """Under the store's lock, once moto has acted: journal what a write changed. Returns
        what must happen before the answer leaves: waiting for the records it depends on."""
        writer = self._writer
        if writer is None:
            return None
        action = handler._get_action() or ""
        if _is_read(action) or not hasattr(handler, _method_name(action)):
            number = writer.last_appended()
        else:
            ops = changes(action, handler.body, self._backend())
            number = writer.append(journal.encode(ops)) if ops else writer.last_appended()
        return None if writer.is_durable(number) else functools.partial(writer.wait, number)

    def checkpoint(self) -> None:
        """Make a snapshot of everything written so far (after the first start's demo data)."""
        assert self._writer is not None
        upto = self._writer.rotate()
        with self._compaction:
            while self._compacted_upto < upto and self._compactor is not None:
                self._compaction.wait()
        if self._compacted_upto < upto:
            raise OSError(f"could not save a snapshot in {self.folder} (see the log)")

    def close(self) -> None:
        """Write what is pending, let a running compaction finish, and let the folder go."""
        if self._writer is not None:
            self._writer.close()
        with self._compaction:
            self._compact_upto = self._compacted_upto  # no further compaction
            compactor = self._compactor
        if compactor is not None:
            compactor.join()
        self._locks.close()

    def _journal_bytes_since_snapshot(self) -> int:
        return sum(path.stat().st_size for number, path in journal.segments(self.folder) if number >= self._compacted_upto)

    def _compaction_threshold(self) -> int:
        return max(COMPACT_AT_LEAST_BYTES, self._snapshot_bytes // JOURNAL_SHARE_OF_SNAPSHOT)

    def _wants_rotation(self, segment_bytes: int) -> bool:
        return self._compactor is None and segment_bytes >= self._compaction_threshold()

    def _rotated(self, segment: int) -> None:
        with self._compaction:
            self._compact_upto = max(self._compact_upto, segment)
            if self._compactor is None:
                # The thread is handed its first compaction: read by the thread, a `close` that came
                # first would cancel it, and whether a start's compaction ran would be a race.
                self._compactor = threading.Thread(
                    target=self._compact_in_child, args=(self._compact_upto,), name="dynamodb-compaction", daemon=True
                )
                self._compactor.start()

    def _compact_in_child(self, upto: int) -> None:
        """Compact up to `upto`, then up to whatever was asked meanwhile (nothing after `close`)."""
        while True:
            command = [sys.executable, "-m", "shoplocal.store.compaction", str(self.folder), str(upto)]
            done = subprocess.run(command, cwd=_PROJECT_ROOT, capture_output=True, text=True, check=False)  # noqa: S603
            with self._compaction:
                if done.returncode != 0:
                    log.error("could not compact the local store's journal: %s", done.stderr.strip()[-2000:])
                    self._compact_upto = self._compacted_upto  # the journal keeps everything; retried at the next rotation
                else:
                    self._compacted_upto = upto
                    self._snapshot_bytes = self.snapshot_path.stat().st_size
                upto = self._compact_upto
                if upto <= self._compacted_upto:
                    self._compactor = None
                    self._compaction.notify_all()
                    return
                self._compaction.notify_all()


def _is_read(action: str) -> bool:
    return action in READ_ACTIONS or action.startswith(("Describe", "List", "Get"))


@functools.cache
def _method_name(action: str) -> str:
    from moto.core.utils import camelcase_to_underscores

    name: str = camelcase_to_underscores(action)
    return name
