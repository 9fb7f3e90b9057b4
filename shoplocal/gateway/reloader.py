"""Notice code changes: a thread compares the modification times of the functions' and the
layer's Python files and of the template, and calls back when any changed."""

import threading
from collections.abc import Callable, Iterable
from pathlib import Path


def _modification_times(folders: Iterable[Path], files: Iterable[Path]) -> dict[Path, int]:
    times = {}
    for path in [*files, *(source for folder in folders for source in folder.rglob("*.py"))]:
        try:
            times[path] = path.stat().st_mtime_ns
        except OSError:
            continue  # removed between listing and reading: the next look sees it gone
    return times


class CodeWatcher:
    def __init__(
        self,
        folders: Callable[[], Iterable[Path]],
        files: Iterable[Path],
        on_change: Callable[[list[Path]], None],
        interval: float = 0.5,
    ) -> None:
        self._folders = folders  # asked afresh each time: a template change can add folders
        self._files = list(files)
        self._on_change = on_change
        self._interval = interval
        self._stop = threading.Event()
        self._known: dict[Path, int] = {}
        self._thread = threading.Thread(target=self._watch, name="code-watcher", daemon=True)

    def start(self) -> None:
        # The baseline is taken here, not in the thread: a change made right after start()
        # returns is then always noticed, however late the thread gets to run.
        self._known = _modification_times(self._folders(), self._files)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        known = self._known
        while not self._stop.wait(self._interval):
            current = _modification_times(self._folders(), self._files)
            changed = sorted(path for path in known.keys() | current.keys() if known.get(path) != current.get(path))
            known = current
            if changed:
                self._on_change(changed)
