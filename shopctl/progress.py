"""A progress bar on stderr for long CLI work: redrawn in place on a terminal, one summary line
when stderr is a file or a pipe (so logs stay readable)."""

import sys
import time
from typing import TextIO

_WIDTH = 30


class ProgressBar:
    def __init__(self, label: str, total: int, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = max(total, 0)
        self.done = 0
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty()
        self._started = time.perf_counter()

    def advance(self, count: int = 1) -> None:
        self.done += count
        # A total that was an estimate (DynamoDB's item count lags) grows rather than overflows.
        self.total = max(self.total, self.done)
        if self.interactive:
            self.stream.write("\r" + self._line())
            self.stream.flush()

    def _line(self) -> str:
        fraction = self.done / self.total if self.total else 1.0
        filled = round(fraction * _WIDTH)
        bar = "#" * filled + "-" * (_WIDTH - filled)
        return f"{self.label} [{bar}] {self.done}/{self.total} ({fraction:.0%})"

    def finish(self) -> None:
        seconds = time.perf_counter() - self._started
        end = "\r" if self.interactive else ""
        self.stream.write(f"{end}{self._line()} in {seconds:.1f} s\n")
        self.stream.flush()
