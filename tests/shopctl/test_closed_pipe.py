"""`shopctl ... | head`: a reader that stops early ends the command quietly (exit 141, as a shell
reports SIGPIPE), without a traceback, and what was written stays written. The read end of the
pipe is closed before the command starts, so every write fails: no timing is involved."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from local_server import LocalServer, start_server
from shoplocal.template import PROJECT_ROOT


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    running = start_server(tmp_path_factory.mktemp("local") / "data")
    yield running
    assert running.stop() == 0


def into_a_closed_pipe(*args: str, db_port: int) -> subprocess.CompletedProcess[str]:
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [sys.executable, "-m", "shopctl.cli", *args],
            cwd=PROJECT_ROOT,
            env={**os.environ, "DB_PORT": str(db_port)},
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)


def assert_ended_quietly(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 141, result.stderr
    assert "Traceback" not in result.stderr
    assert "Exception ignored" not in result.stderr


def test_export_to_a_closed_pipe_ends_quietly(server: LocalServer) -> None:
    assert_ended_quietly(into_a_closed_pipe("export", "-", db_port=server.db_port))


def test_load_products_into_a_closed_pipe_ends_quietly_and_keeps_what_it_wrote(server: LocalServer, tmp_path: Path) -> None:
    catalogue = tmp_path / "catalogue.csv"
    catalogue.write_text("sku,name,price,quantity\nPIPE-1,Pipe cleaner,1.00,3\n")
    before = server.request("GET", "/api/products?limit=1").json()["count"]
    assert_ended_quietly(into_a_closed_pipe("load-products", str(catalogue), db_port=server.db_port))
    assert server.request("GET", "/api/products?limit=1").json()["count"] == before + 1
