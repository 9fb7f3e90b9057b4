"""`make help` is the first thing a new developer reads: it must show real values. `make reset`
asks before it deletes."""

import os
import shutil
import subprocess
from pathlib import Path

from shoplocal.template import PROJECT_ROOT


def make_help(*assignments: str) -> str:
    make = shutil.which("make")
    assert make is not None
    result = subprocess.run(
        [make, "--no-print-directory", "help", *assignments],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def test_help_shows_the_ports_not_make_variables() -> None:
    text = make_help()
    assert "$(" not in text
    assert "http://127.0.0.1:3000" in text
    assert "port 8000" in text


def test_help_shows_ports_given_on_the_command_line() -> None:
    text = make_help("API_PORT=3001", "DB_PORT=8001")
    assert "http://127.0.0.1:3001" in text
    assert "port 8001" in text


def test_make_reset_asks_before_deleting_the_local_data_and_force_does_not(tmp_path: Path) -> None:
    """Without a terminal to ask on and without FORCE=1, nothing is deleted and nothing starts."""
    make = shutil.which("make")
    assert make is not None
    data = tmp_path / "data"
    data.mkdir()
    (data / "kept").write_text("local data")
    environment = {**os.environ, "SHOP_DATA_DIR": str(data)}
    result = subprocess.run(
        [make, "--no-print-directory", "reset", "API_PORT=3799", "DB_PORT=8799"],
        cwd=PROJECT_ROOT,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode != 0
    assert f"make reset deletes the local data ({data}): run it on a terminal to confirm, or with FORCE=1" in result.stderr
    assert (data / "kept").read_text() == "local data"
    planned = subprocess.run(
        [make, "--no-print-directory", "-n", "reset", "FORCE=1"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "shoplocal.run --reset" in planned.stdout
