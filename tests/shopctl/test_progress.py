"""The progress bar: redrawn in place on a terminal, one line in a log, never past 100 %."""

import io

from shopctl.progress import ProgressBar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_gets_one_line_with_the_total() -> None:
    log = io.StringIO()
    bar = ProgressBar("importing", 50, log)
    bar.advance(25)
    bar.advance(25)
    bar.finish()
    lines = log.getvalue().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"importing [{'#' * 30}] 50/50 (100%) in ")


def test_a_terminal_sees_each_step_redrawn_in_place() -> None:
    terminal = Terminal()
    bar = ProgressBar("deleting", 4, terminal)
    bar.advance(1)
    bar.advance(1)
    assert terminal.getvalue().split("\r")[1:] == [
        f"deleting [{'#' * 8}{'-' * 22}] 1/4 (25%)",
        f"deleting [{'#' * 15}{'-' * 15}] 2/4 (50%)",
    ]


def test_an_estimated_total_that_was_too_low_grows_instead_of_overflowing() -> None:
    log = io.StringIO()
    bar = ProgressBar("reading the table", 5, log)
    bar.advance(8)
    bar.finish()
    assert "8/8 (100%)" in log.getvalue()
