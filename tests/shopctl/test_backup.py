"""`shopctl export` and `import`: paged reads of a large table, counts people understand, and
backups without password hashes that say what they cannot restore and never lock users out
silently."""

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from conftest import IMAGES_BUCKET, TABLE_NAME
from shopctl_helpers import can_sign_in, listing, shopctl
from shoplocal.dynamodb_calls import CallRecorder
from shoplocal.gateway.invoke import LocalApi
from shoplocal.template import table_definition

pytestmark = pytest.mark.usefixtures("restore_environment")


@pytest.fixture
def second_table() -> Iterator[str]:
    from shop_common.dynamo import client

    client().create_table(TableName="shop-copy", **table_definition())
    yield "shop-copy"
    client().delete_table(TableName="shop-copy")


def _sign_in_and_order(api: LocalApi, username: str, password: str, quantity: int) -> None:
    token = api.request("POST", "/api/auth", json_body={"username": username, "password": password}).json()
    headers = {"Authorization": f"Bearer {token['access']}"}
    order = {"parts": [{"product": 1, "quantity_in_order": quantity}]}
    assert api.request("POST", "/api/order", json_body=order, headers=headers).status == 201


def _shop_with_orders(api: LocalApi, tmp_path: Path) -> None:
    """1 product, 2 users, 3 orders."""
    catalogue = tmp_path / "c.json"
    catalogue.write_text('[{"sku": "TP-1", "name": "Teapot", "price": "19.99", "quantity": 50}]')
    assert shopctl("load-products", str(catalogue)) == 0
    assert shopctl("create-user", "alice", "--password", "alice-password", "--email", "alice@example.com") == 0
    assert shopctl("create-user", "bob", "--password", "bob-password") == 0
    _sign_in_and_order(api, "alice", "alice-password", 1)
    _sign_in_and_order(api, "alice", "alice-password", 2)
    _sign_in_and_order(api, "bob", "bob-password", 3)


def _hashes(export: dict[str, Any]) -> list[str]:
    return [item["password_hash"]["S"] for item in export["items"]["users"] if "password_hash" in item]


# --- export ----------------------------------------------------------------------------------


def test_export_counts_products_users_and_orders_and_warns_what_it_cannot_restore(
    api: LocalApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _shop_with_orders(api, tmp_path)
    capsys.readouterr()
    assert shopctl("export", str(tmp_path / "plain.json")) == 0
    err = capsys.readouterr().err
    export = json.loads((tmp_path / "plain.json").read_text())
    counts = export["counts"]
    assert (counts["products"], counts["users"], counts["orders"]) == (1, 2, 3)
    assert counts["items"] == sum(len(items) for items in export["items"].values())
    assert f"exported 1 product, 2 users, 3 orders ({counts['items']} items)" in err
    assert "WARNING: password hashes were left out: restoring this file cannot restore the sign-ins of its 2 users" in err
    assert export["password_hashes"] is False
    assert _hashes(export) == ["!", "!"]
    assert {item["PK"]["S"] for item in export["items"]["products"]} >= {"PRODUCT#1", "SKU#TP-1"}


def test_a_full_export_keeps_hashes_in_a_file_only_its_owner_can_read(
    api: LocalApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _shop_with_orders(api, tmp_path)
    capsys.readouterr()
    full = tmp_path / "full.json"
    assert shopctl("export", str(full), "--include-password-hashes") == 0
    assert "WARNING" not in capsys.readouterr().err
    assert all(hash_.startswith("pbkdf2_sha256$") for hash_ in _hashes(json.loads(full.read_text())))
    assert full.stat().st_mode & 0o077 == 0
    assert not list(tmp_path.glob(".*partial"))


def test_a_failed_export_leaves_the_previous_file_in_place(
    api: LocalApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backup = tmp_path / "backup.json"
    backup.write_text("the previous backup")
    assert shopctl("export", str(tmp_path / "missing-folder" / "backup.json")) == 1
    assert "cannot write" in capsys.readouterr().err
    assert backup.read_text() == "the previous backup"


def test_export_and_import_page_through_thousands_of_items_with_progress(
    api: LocalApi, tmp_path: Path, second_table: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from shop_common.catalog import add_products
    from shop_common.models import NewProduct
    from shopctl import backup

    add_products([NewProduct(name=f"P{n}", price=Decimal("1.50"), quantity=n) for n in range(2_000)])
    assert shopctl("create-user", "alice", "--password", "alice-password") == 0
    monkeypatch.setattr(backup, "SCAN_PAGE_ITEMS", 100)  # DynamoDB pages at 1 MB; force many small pages
    recorder = CallRecorder()
    recorder.attach(backup.client())
    capsys.readouterr()
    exported = tmp_path / "big.json"
    assert shopctl("export", str(exported), "--include-password-hashes") == 0
    scans = [call for call in recorder.calls if call.operation == "Scan"]
    assert len(scans) >= 20
    assert all(call.items_read <= 100 for call in scans)
    err = capsys.readouterr().err
    items = json.loads(exported.read_text())["counts"]["items"]
    assert f"reading the table [{'#' * 30}] {items}/{items} (100%)" in err
    assert "exported 2,000 products, 1 user, 0 orders" in err

    assert shopctl("import", str(exported), table=second_table) == 0
    out, err = capsys.readouterr()
    assert f"importing [{'#' * 30}] {items}/{items}" in err
    assert f"imported 2,000 products, 1 user, 0 orders ({items:,} items)" in out
    copy = tmp_path / "copy.json"
    assert shopctl("export", str(copy), "--include-password-hashes", table=second_table) == 0
    assert json.loads(copy.read_text())["items"] == json.loads(exported.read_text())["items"]

    recorder.clear()
    assert shopctl("import", str(exported), "--replace", "--yes", table=second_table) == 0
    assert f"deleting [{'#' * 30}] {items}/{items}" in capsys.readouterr().err
    assert sum(call.operation == "Scan" for call in recorder.calls) >= 20


def test_whole_table_work_waits_long_enough_for_a_page_of_a_large_table() -> None:
    from shop_common import dynamo
    from shopctl.backup import client

    config: Any = client().meta.config
    assert config.read_timeout >= 60 > dynamo.READ_TIMEOUT  # the functions': 5 s, well inside a Lambda's 10 s
    assert config.retries["total_max_attempts"] >= 5


# --- import: sign-ins are never lost silently -----------------------------------------------


def test_import_copies_a_full_backup_that_then_serves_the_same_data(api: LocalApi, tmp_path: Path, second_table: str) -> None:
    _shop_with_orders(api, tmp_path)
    backup = tmp_path / "backup.json"
    assert shopctl("export", str(backup), "--include-password-hashes") == 0
    assert shopctl("import", str(backup), table=second_table) == 0
    copy = tmp_path / "copy.json"
    assert shopctl("export", str(copy), "--include-password-hashes", table=second_table) == 0
    assert json.loads(copy.read_text())["items"] == json.loads(backup.read_text())["items"]


def _product_with_a_photo(api: LocalApi, tmp_path: Path) -> tuple[int, str, bytes]:
    """A product whose accepted photo's file is in the images bucket: (id, the file's key, its bytes)."""
    import boto3

    from shop_common import settings
    from shop_common.dynamo import client, to_attributes
    from shop_common.keys import product_key
    from shopctl.demo import demo_photo

    _shop_with_orders(api, tmp_path)
    key, content = "products/1/0123456789abcdef-89abcdef.png", demo_photo(7)
    boto3.client("s3").put_object(Bucket=IMAGES_BUCKET, Key=key, Body=content, ContentType="image/png")
    image = {"id": "0123456789abcdef", "key": key, "alt": "A teapot", "width": 320, "height": 240}
    client().update_item(
        TableName=settings.table_name(),
        Key=product_key(1),
        UpdateExpression="SET images = :images",
        ExpressionAttributeValues=to_attributes({":images": [image]}),
    )
    return 1, key, content


def _bucket_keys() -> list[str]:
    import boto3

    return [entry["Key"] for entry in boto3.client("s3").list_objects_v2(Bucket=IMAGES_BUCKET).get("Contents", [])]


@pytest.fixture
def empty_images_bucket() -> Iterator[None]:
    import boto3

    def empty() -> None:
        for key in _bucket_keys():
            boto3.client("s3").delete_object(Bucket=IMAGES_BUCKET, Key=key)

    empty()
    yield
    empty()


@pytest.mark.usefixtures("empty_images_bucket")
def test_a_full_backup_keeps_the_photo_files_and_restores_them(
    api: LocalApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import boto3

    product_id, key, content = _product_with_a_photo(api, tmp_path)
    backup = tmp_path / "backup.json"
    assert shopctl("export", str(backup), "--include-password-hashes", "--bucket", IMAGES_BUCKET) == 0
    assert "and 1 photo file from" in capsys.readouterr().err
    boto3.client("s3").delete_object(Bucket=IMAGES_BUCKET, Key=key)  # the data is lost (a `make reset`, say)
    assert shopctl("import", str(backup), "--replace", "--yes", "--bucket", IMAGES_BUCKET) == 0
    assert "and 1 photo file into" in capsys.readouterr().out
    restored = boto3.client("s3").get_object(Bucket=IMAGES_BUCKET, Key=key)
    assert (restored["Body"].read(), restored["ContentType"]) == (content, "image/png")
    shown = api.request("GET", f"/api/products/{product_id}").json()
    assert [image["url"].rpartition("/")[2] for image in shown["images"]] == [key.rpartition("/")[2]]


@pytest.mark.usefixtures("empty_images_bucket")
def test_a_backup_without_the_photo_files_says_so_at_export_and_at_import(
    api: LocalApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _product_with_a_photo(api, tmp_path)
    backup = tmp_path / "backup.json"
    assert shopctl("export", str(backup), "--include-password-hashes") == 0  # --table, no --bucket
    error = capsys.readouterr().err
    assert "WARNING: the files of 1 photo are not in this export" in error
    assert "--bucket" in error
    assert "files" not in json.loads(backup.read_text())
    assert shopctl("import", str(backup), "--replace", "--yes", "--bucket", IMAGES_BUCKET) == 0
    assert "has no photo files: 1 photo of its products will not be served" in capsys.readouterr().err


def test_replacing_from_a_backup_without_hashes_keeps_every_users_password(
    api: LocalApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _shop_with_orders(api, tmp_path)
    backup = tmp_path / "backup.json"
    assert shopctl("export", str(backup)) == 0
    catalogue = tmp_path / "more.json"
    catalogue.write_text('[{"name": "Mug", "price": "5", "quantity": 1}]')
    assert shopctl("load-products", str(catalogue)) == 0
    capsys.readouterr()
    assert shopctl("import", str(backup), "--replace", "--yes") == 0
    out, err = capsys.readouterr()
    assert "imported 1 product, 2 users, 3 orders" in out
    assert "kept the table's password for 2 users the file has no hash for: alice, bob" in err
    assert "WARNING" not in err
    assert [p["name"] for p in listing(api)["results"]] == ["Teapot"]
    assert can_sign_in(api, "alice", "alice-password")
    assert can_sign_in(api, "bob", "bob-password")


def test_an_import_that_would_lock_users_out_is_refused_unless_allowed(
    api: LocalApi, tmp_path: Path, second_table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from shop_common.dynamo import client

    _shop_with_orders(api, tmp_path)
    backup = tmp_path / "backup.json"
    assert shopctl("export", str(backup)) == 0
    capsys.readouterr()
    assert shopctl("import", str(backup), table=second_table) == 1
    err = capsys.readouterr().err
    assert "has no password hash for 2 users (alice, bob)" in err
    assert "Nothing changed" in err
    assert not client().scan(TableName=second_table)["Items"]

    assert shopctl("import", str(backup), "--allow-locked-out-users", table=second_table) == 0
    assert "WARNING: 2 users cannot sign in (no password hash in the file or the table): alice, bob" in capsys.readouterr().err
    login = client().get_item(TableName=second_table, Key={"PK": {"S": "USERNAME#alice"}, "SK": {"S": "USERNAME"}})
    assert login["Item"]["password_hash"]["S"] == "!"


def test_a_hash_is_kept_only_for_the_same_user(
    api: LocalApi, tmp_path: Path, second_table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A same-named account with another id in the target is another person: no password for them."""
    _shop_with_orders(api, tmp_path)
    backup = tmp_path / "backup.json"
    assert shopctl("export", str(backup)) == 0
    assert shopctl("create-user", "someone", "--password", "someone-password", table=second_table) == 0
    assert shopctl("create-user", "alice", "--password", "other-alice-password", table=second_table) == 0  # id 2, not 1
    capsys.readouterr()
    assert shopctl("import", str(backup), "--replace", "--yes", table=second_table) == 1
    assert "has no password hash for 2 users (alice, bob)" in capsys.readouterr().err


def test_import_refuses_a_non_empty_table_unless_replacing(
    api: LocalApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _shop_with_orders(api, tmp_path)
    backup = tmp_path / "backup.json"
    assert shopctl("export", str(backup), "--include-password-hashes") == 0
    assert shopctl("import", str(backup)) == 1  # the table's state, not the arguments (2)
    assert "not empty" in capsys.readouterr().err
    assert shopctl("import", str(backup), "--replace") == 2  # no terminal to confirm on
    assert "add --yes to confirm" in capsys.readouterr().err
    assert listing(api)["count"] == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not valid JSON"),
        ("[" * 100_000, "not valid JSON"),
        ('{"format": "other"}', "not a shop export"),
        ('["format", "shop-export"]', "not a shop export"),
        ('{"format": "shop-export", "version": 9}', "version 9"),
        ('{"format": "shop-export", "version": 1, "items": []}', 'no "items"'),
        ('{"format": "shop-export", "version": 1, "items": {"products": [{"PK": {"N": "1"}}]}}', "not a table item"),
        (
            '{"format": "shop-export", "version": 1, "items": {"a": [{"PK": {"S": "X"}, "SK": {"S": "Y"}}], '
            '"b": [{"PK": {"S": "X"}, "SK": {"S": "Y"}}]}}',
            "repeats the key PK=X, SK=Y",
        ),
    ],
)
def test_import_refuses_a_file_that_is_not_an_export(
    api: LocalApi, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    from shop_common.dynamo import client

    path = tmp_path / "bad.json"
    path.write_text(content)
    assert shopctl("import", str(path)) == 2
    assert message in capsys.readouterr().err
    assert not client().scan(TableName=TABLE_NAME)["Items"]


def test_export_to_standard_output_keeps_the_summary_on_standard_error(
    api: LocalApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _shop_with_orders(api, tmp_path)
    capsys.readouterr()
    assert shopctl("export", "-") == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["counts"]["orders"] == 3
    assert "exported 1 product, 2 users, 3 orders" in err
