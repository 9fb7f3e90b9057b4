"""`make run DJANGO_DB=...`: the local server starts on the Django app's data, keeps it between
runs, and says clearly when it cannot use the file or the local data."""

import subprocess
import sys
from pathlib import Path

from django_app_data import DjangoShop, sample_shop, write_sqlite
from local_server import free_port, shopctl, start_server
from shoplocal.template import PROJECT_ROOT


def run_once(*args: str) -> subprocess.CompletedProcess[str]:
    """The local server for a start that must fail: it exits at once, with its message."""
    command = [sys.executable, "-m", "shoplocal.run", "--api-port", str(free_port()), "--db-port", str(free_port()), *args]
    return subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=False)


def test_the_local_server_starts_on_the_django_apps_data_and_keeps_it(tmp_path: Path) -> None:
    shop = sample_shop()
    db = write_sqlite(tmp_path / "db.sqlite3", shop)
    data = tmp_path / "data"
    first = start_server(data, "--django-db", str(db))
    try:
        log = first.log()
        assert "created the table; imported 3 users, 4 products (stock 100), 4 orders of 7 parts from db.sqlite3" in log
        assert "Users:      those of db.sqlite3, with their passwords from the Django app" in log
        assert "demo-password" not in log
        assert "note: skipped 1 order part whose order no longer exists" in log
        alice = first.sign_in("alice", "alice-old-password")
        assert [product["id"] for product in first.request("GET", "/api/products").json()["results"]] == [1, 2, 4, 10]
        placed = first.request("POST", "/api/order", {"parts": [{"product": 10, "quantity_in_order": 2}]}, alice)
        assert placed.status == 201
        again = shopctl("import-django", str(db), db_port=first.db_port)  # the CLI on the local store
        assert again.returncode == 0
        assert "the local store at http://127.0.0.1:" in again.stdout
        assert again.stdout.rstrip().endswith(": nothing to do")
    finally:
        assert first.stop() == 0

    # Started again with the same file: the data and the new order are kept, nothing is imported.
    second = start_server(data, "--django-db", str(db), api_port=first.api_port, db_port=first.db_port)
    try:
        assert "the data of db.sqlite3, imported before" in second.log()
        mine = second.request("GET", "/api/my-orders", headers=alice).json()
        assert [order["id"] for order in mine] == [placed.json()["id"], 11, 6, 5]
    finally:
        assert second.stop() == 0

    # Other Django data over it: refused, with the way to start from it.
    other = write_sqlite(tmp_path / "other.sqlite3", DjangoShop(**{**vars(shop), "products": shop.products[:2]}))
    refused = run_once("--data-dir", str(data), "--no-reload", "--django-db", str(other))
    assert refused.returncode == 1
    assert "the local data already holds other products, users or orders" in refused.stderr
    assert f"`make reset DJANGO_DB={other}` starts from it" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_a_file_that_is_not_django_data_stops_the_start_with_its_reason(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database")
    result = run_once("--data-dir", str(tmp_path / "data"), "--no-reload", "--django-db", str(notes))
    assert result.returncode == 1
    assert "is neither an SQLite database nor a dumpdata JSON file" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()  # nothing was started or created
