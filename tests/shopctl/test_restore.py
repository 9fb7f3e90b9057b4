"""`shopctl restore-point-in-time` and `copy-table`: the runbook's path (docs/operations.md) from a
table changed by mistake back to the table as it was, read through the API afterwards."""

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from conftest import TABLE_NAME
from shopctl import restore
from shopctl_helpers import can_sign_in, listing, shopctl
from shoplocal.gateway.invoke import LocalApi

pytestmark = pytest.mark.usefixtures("restore_environment")
COPY = f"{TABLE_NAME}-restored-copy"


def items(table: str) -> dict[tuple[str, str], dict[str, Any]]:
    from shop_common.dynamo import client

    found: dict[tuple[str, str], dict[str, Any]] = {}
    for page in client().get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        found |= {(item["PK"]["S"], item["SK"]["S"]): item for item in page["Items"]}
    return found


@pytest.fixture
def restored_copy() -> Iterator[str]:
    yield COPY
    from shop_common.dynamo import client

    if COPY in client().list_tables()["TableNames"]:
        client().delete_table(TableName=COPY)


def _shop(tmp_path: Path) -> None:
    catalogue = tmp_path / "c.json"
    catalogue.write_text(
        '[{"sku": "TP-1", "name": "Teapot", "price": "19.99", "quantity_in_stock": 50},'
        ' {"sku": "CP-1", "name": "Cup", "price": "4.50", "quantity_in_stock": 9}]'
    )
    assert shopctl("load-products", str(catalogue)) == 0
    assert shopctl("create-user", "alice", "--password", "alice-password") == 0


def test_a_restore_copies_the_table_into_a_new_one_and_leaves_the_table_alone(
    api: LocalApi, tmp_path: Path, restored_copy: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _shop(tmp_path)
    before = items(TABLE_NAME)
    capsys.readouterr()
    assert shopctl("restore-point-in-time", "--to", "latest", "--into", restored_copy) == 0
    out, err = capsys.readouterr()
    assert out.strip().splitlines()[0] == restored_copy  # the name alone on stdout, for scripts
    assert f"{restored_copy} is ready" in err
    assert f"shopctl copy-table {restored_copy} --table {TABLE_NAME}" in err
    assert items(restored_copy) == before
    assert items(TABLE_NAME) == before


def test_copy_table_puts_the_table_back_exactly_as_the_copy_holds_it(
    api: LocalApi, tmp_path: Path, restored_copy: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _shop(tmp_path)
    assert shopctl("restore-point-in-time", "--to", "latest", "--into", restored_copy) == 0
    # The mistake: a product deleted, a new user, a price changed.
    from shop_common.dynamo import client

    client().delete_item(TableName=TABLE_NAME, Key={"PK": {"S": "PRODUCT#2"}, "SK": {"S": "PRODUCT"}})
    assert shopctl("create-user", "mallory", "--password", "mallory-password") == 0
    assert items(TABLE_NAME) != items(restored_copy)
    capsys.readouterr()

    assert shopctl("copy-table", restored_copy, "--yes") == 0
    err = capsys.readouterr().err
    assert items(TABLE_NAME) == items(restored_copy)
    assert "now holds 2 products, 1 user, 0 orders" in err
    assert "deleted 3 items that" in err  # mallory's login, profile and folded-username claim; the id counter is written back
    # Again: nothing left to change.
    assert shopctl("copy-table", restored_copy, "--yes") == 0
    assert "deleted 0 items" in capsys.readouterr().err
    assert [product["name"] for product in listing(api)["results"]] == ["Teapot", "Cup"]
    assert can_sign_in(api, "alice", "alice-password")
    assert not can_sign_in(api, "mallory", "mallory-password")


def test_copy_table_asks_first_and_refuses_itself_or_a_missing_source(
    api: LocalApi, tmp_path: Path, restored_copy: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _shop(tmp_path)
    before = items(TABLE_NAME)
    assert shopctl("restore-point-in-time", "--to", "latest", "--into", restored_copy) == 0
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal: no one to ask
    assert shopctl("copy-table", restored_copy) == 2
    assert "add --yes to confirm" in capsys.readouterr().err
    assert shopctl("copy-table", TABLE_NAME, "--yes") == 2
    assert "the table itself" in capsys.readouterr().err
    assert shopctl("copy-table", "no-such-table", "--yes") == 1
    assert "no table 'no-such-table'" in capsys.readouterr().err
    assert items(TABLE_NAME) == before


@pytest.mark.parametrize(
    ("text", "message"),
    [("yesterday", "is not a time"), ("2999-01-01T00:00:00Z", "in the future")],
)
def test_a_restore_time_must_be_a_past_time(text: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert shopctl("restore-point-in-time", "--to", text) == 2
    assert message in capsys.readouterr().err


def test_times_without_a_zone_are_utc_and_name_the_copy() -> None:
    when = restore.parse_time("2026-12-07T09:30:00")
    assert when == datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    assert restore.parse_time("2026-12-07T10:30:00+01:00") == when
    assert restore.parse_time("latest") is None
    assert restore.restored_name("shop-api-prod-ShopTable-1A2B", when) == "shop-api-prod-ShopTable-1A2B-restored-20261207T093000Z"


def test_waiting_for_the_restore_reports_its_status_until_the_table_is_active(monkeypatch: pytest.MonkeyPatch) -> None:
    statuses = iter(["CREATING", "CREATING", "ACTIVE"])

    class Tables:
        def describe_table(self, TableName: str) -> dict[str, Any]:
            return {"Table": {"TableStatus": next(statuses)}}

    monkeypatch.setattr(restore, "client", Tables)
    slept: list[float] = []
    stream = io.StringIO()
    restore.wait_until_active("t-restored", sleep=slept.append, stream=stream)
    assert slept == [restore.POLL_SECONDS, restore.POLL_SECONDS]
    assert stream.getvalue().count("waiting for t-restored: creating") == 2
