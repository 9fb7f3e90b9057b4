"""`shopctl`, run in-process against the test table (`--table`), and as a user runs it."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import REGION, TABLE_NAME
from local_server import free_port
from shopctl.cli import main
from shoplocal.gateway.invoke import LocalApi
from shoplocal.template import PROJECT_ROOT, table_definition

# The CLI points boto3 at its store through the environment; do not let that leak.
pytestmark = pytest.mark.usefixtures("restore_environment")


def shopctl(*args: str, table: str = TABLE_NAME) -> int:
    return main([*args, "--table", table, "--region", REGION])


def listing(api: LocalApi) -> dict[str, Any]:
    body: dict[str, Any] = api.request("GET", "/api/products", query_string="limit=100").json()
    return body


def can_sign_in(api: LocalApi, username: str, password: str) -> bool:
    reply = api.request("POST", "/api/auth", json_body={"username": username, "password": password})
    return bool(reply.status == 200)


# --- create-user ---------------------------------------------------------------------------


def test_create_user_makes_an_account_that_can_sign_in(api: LocalApi, capsys: pytest.CaptureFixture[str]) -> None:
    assert shopctl("create-user", "alice", "--password", "alice-password", "--staff") == 0
    assert "created staff user alice" in capsys.readouterr().out
    assert can_sign_in(api, "alice", "alice-password")


def test_create_user_refuses_a_taken_name_a_short_password_and_a_missing_one(
    api: LocalApi, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert shopctl("create-user", "bob", "--password", "bob-password") == 0
    assert shopctl("create-user", "bob", "--password", "other-password") == 1
    assert "already taken" in capsys.readouterr().err
    assert can_sign_in(api, "bob", "bob-password")
    assert shopctl("create-user", "carol", "--password", "short") == 2
    assert "at least 8 characters" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", open(os.devnull))  # noqa: SIM115 - closed with the test
    assert shopctl("create-user", "carol") == 2
    assert "no --password" in capsys.readouterr().err
    assert not can_sign_in(api, "carol", "short")


def test_create_user_prompts_twice_for_the_password(api: LocalApi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    answers = iter(["typed-password", "typed-password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    assert shopctl("create-user", "dave") == 0
    assert can_sign_in(api, "dave", "typed-password")
    mismatched = iter(["one-password", "another-password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(mismatched))
    assert shopctl("create-user", "erin") == 2
    assert not can_sign_in(api, "erin", "one-password")


# --- load-products -------------------------------------------------------------------------


def test_load_products_adds_the_good_rows_and_reports_the_bad_ones(
    api: LocalApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalogue = tmp_path / "catalogue.csv"
    catalogue.write_text(
        "name,description,price,quantity_in_stock\n"
        "Teapot,Blue,19.99,5\n"
        ",No name,1.00,1\n"
        "Mug,,abc,2\n"
        "Kettle,,30,-1\n"
        "Scarf,Wool,12.50,0\n"
    )
    assert shopctl("load-products", str(catalogue)) == 1
    output = capsys.readouterr()
    assert "row 2: name:" in output.err
    assert "row 3: price:" in output.err
    assert "row 4: quantity_in_stock:" in output.err
    assert "added 2 products (ids 1-2); 3 rows rejected" in output.out
    body = listing(api)
    assert body["count"] == 2
    assert [(p["id"], p["name"], p["price"], p["quantity_in_stock"]) for p in body["results"]] == [
        (1, "Teapot", "19.99", 5),
        (2, "Scarf", "12.50", 0),
    ]


def test_load_products_in_batches_keeps_ids_and_count_exact(api: LocalApi, tmp_path: Path) -> None:
    catalogue = tmp_path / "many.json"
    catalogue.write_text(json.dumps([{"name": f"Item {n}", "price": "1.00", "quantity_in_stock": n} for n in range(250)]))
    assert shopctl("load-products", str(catalogue)) == 0
    assert shopctl("load-products", str(catalogue)) == 0
    body = api.request("GET", "/api/products", query_string="page=5&limit=100").json()
    assert body["count"] == 500
    assert [p["id"] for p in body["results"]] == list(range(401, 501))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "no such file"),
        ("catalogue.txt", "name\n", "expected a .csv or .json file"),
        ("broken.json", "[{", "not valid JSON"),
        ("object.json", '{"name": "x"}', "must be a list of products"),
        ("header.csv", "title,cost\nTeapot,1\n", "missing: name, price, quantity_in_stock"),
    ],
)
def test_load_products_refuses_a_bad_file_with_a_message_and_writes_nothing(
    api: LocalApi, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: str | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    assert shopctl("load-products", str(path)) == 2
    assert message in capsys.readouterr().err
    assert listing(api)["count"] == 0


# --- seed-demo -----------------------------------------------------------------------------


def test_seed_demo_adds_the_demo_users_and_catalogue_once(api: LocalApi, capsys: pytest.CaptureFixture[str]) -> None:
    from shopctl.demo import DEMO_PRODUCT_COUNT, DEMO_USERS

    assert shopctl("seed-demo") == 0
    assert listing(api)["count"] == DEMO_PRODUCT_COUNT
    for user in DEMO_USERS:
        assert can_sign_in(api, user.username, user.password)
    assert shopctl("seed-demo") == 0
    assert "none (they exist)" in capsys.readouterr().out
    assert listing(api)["count"] == DEMO_PRODUCT_COUNT


def test_demo_catalogue_has_varied_prices_and_stocks_some_sold_out() -> None:
    from shopctl.demo import demo_products

    products = demo_products()
    assert len({p.name for p in products}) == len(products) == 200
    assert min(p.price for p in products) < 5 < 200 < max(p.price for p in products)
    sold_out = sum(p.quantity_in_stock == 0 for p in products)
    assert 10 <= sold_out <= 40
    assert demo_products() == products  # the same shop on every fresh start


# --- export / import -----------------------------------------------------------------------


@pytest.fixture
def second_table() -> Iterator[str]:
    from shop_common.dynamo import client

    client().create_table(TableName="shop-copy", **table_definition())
    yield "shop-copy"
    client().delete_table(TableName="shop-copy")


def _shop_with_an_order(api: LocalApi, tmp_path: Path) -> None:
    catalogue = tmp_path / "c.json"
    catalogue.write_text('[{"name": "Teapot", "price": "19.99", "quantity_in_stock": 5}]')
    assert shopctl("load-products", str(catalogue)) == 0
    assert shopctl("create-user", "alice", "--password", "alice-password") == 0
    token = api.request("POST", "/api/auth", json_body={"username": "alice", "password": "alice-password"}).json()
    headers = {"Authorization": f"Bearer {token['access']}"}
    order = api.request("POST", "/api/order", json_body={"parts": [{"product": 1, "quantity_in_order": 2}]}, headers=headers)
    assert order.status == 201


def test_export_leaves_password_hashes_out_unless_asked(api: LocalApi, tmp_path: Path) -> None:
    _shop_with_an_order(api, tmp_path)
    assert shopctl("export", str(tmp_path / "plain.json")) == 0
    plain = json.loads((tmp_path / "plain.json").read_text())
    assert plain["counts"]["products"] == 1
    assert plain["counts"]["orders"] >= 1
    hashes = [item["password_hash"]["S"] for item in plain["items"]["users"] if "password_hash" in item]
    assert hashes == ["!"]
    assert shopctl("export", str(tmp_path / "full.json"), "--include-password-hashes") == 0
    full = json.loads((tmp_path / "full.json").read_text())
    hashes = [item["password_hash"]["S"] for item in full["items"]["users"] if "password_hash" in item]
    assert hashes[0].startswith("pbkdf2_sha256$")
    assert (tmp_path / "full.json").stat().st_mode & 0o077 == 0


def test_import_copies_a_store_that_then_serves_the_same_data(api: LocalApi, tmp_path: Path, second_table: str) -> None:
    _shop_with_an_order(api, tmp_path)
    backup = tmp_path / "backup.json"
    assert shopctl("export", str(backup), "--include-password-hashes") == 0
    assert shopctl("import", str(backup), table=second_table) == 0
    copy = tmp_path / "copy.json"
    assert shopctl("export", str(copy), "--include-password-hashes", table=second_table) == 0
    assert json.loads(copy.read_text())["items"] == json.loads(backup.read_text())["items"]


def test_import_refuses_a_non_empty_table_unless_replacing(
    api: LocalApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _shop_with_an_order(api, tmp_path)
    backup = tmp_path / "backup.json"
    assert shopctl("export", str(backup)) == 0
    catalogue = tmp_path / "more.json"
    catalogue.write_text('[{"name": "Mug", "price": "5", "quantity_in_stock": 1}]')
    assert shopctl("load-products", str(catalogue)) == 0
    assert shopctl("import", str(backup)) == 2
    assert "not empty" in capsys.readouterr().err
    assert listing(api)["count"] == 2
    assert shopctl("import", str(backup), "--replace", "--yes") == 0
    assert [p["name"] for p in listing(api)["results"]] == ["Teapot"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not valid JSON"),
        ('{"format": "other"}', "not a shop export"),
        ('{"format": "shop-export", "version": 9}', "version 9"),
    ],
)
def test_import_refuses_a_file_that_is_not_an_export(
    api: LocalApi, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    assert shopctl("import", str(path)) == 2
    assert message in capsys.readouterr().err


# --- as a user runs it ---------------------------------------------------------------------


def run_shopctl(*args: str, **environment: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shopctl.cli", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_help_explains_every_command() -> None:
    result = run_shopctl("--help")
    assert result.returncode == 0
    for command in ("create-user", "load-products", "seed-demo", "export", "import", "--table", "--endpoint-url"):
        assert command in result.stdout


def test_without_a_running_store_it_says_how_to_start_one() -> None:
    result = run_shopctl("seed-demo", DB_PORT=str(free_port()))
    assert result.returncode == 1
    assert "no local store at http://127.0.0.1:" in result.stderr
    assert "make run" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_arguments_are_a_usage_error() -> None:
    result = run_shopctl("load-products")
    assert result.returncode == 2
    assert "the following arguments are required: file" in result.stderr


def test_endpoint_url_overrides_the_local_port_before_or_after_the_command() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    for args in (("--endpoint-url", url, "export", "-"), ("export", "-", "--endpoint-url", url)):
        result = run_shopctl(*args, DB_PORT="8000")
        assert result.returncode == 1
        assert f"no local store at {url}" in result.stderr
