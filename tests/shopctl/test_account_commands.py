"""`shopctl deactivate-user`, `activate-user`, `delete-user` and `migrate`, in-process against the
test table, checked through the API as a customer sees them."""

import io
import json
import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from conftest import REGION, TABLE_NAME, bearer
from shopctl.cli import main
from shoplocal.gateway.invoke import LocalApi

# The CLI points boto3 at its store through the environment; do not let that leak.
pytestmark = pytest.mark.usefixtures("restore_environment")


def shopctl(*args: str) -> int:
    return main([*args, "--table", TABLE_NAME, "--region", REGION])


def sign_in(api: LocalApi, username: str, password: str) -> Any:
    return api.request("POST", "/api/auth", json_body={"username": username, "password": password})


def place_order(api: LocalApi, access: str, product_id: int) -> Any:
    body = {"parts": [{"product": product_id, "quantity_in_order": 1}]}
    return api.request("POST", "/api/order", json_body=body, headers=bearer(access))


def a_product(stock: int = 50) -> int:
    from shop_common.catalog import add_products
    from shop_common.models import NewProduct

    (product,) = add_products([NewProduct(name="Mug", price=Decimal("3.00"), quantity=stock)])
    return product.id


def items_in(partition: str) -> list[dict[str, Any]]:
    from shop_common.dynamo import client, from_attributes
    from shop_common.settings import table_name

    response = client().query(
        TableName=table_name(), KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": {"S": partition}}
    )
    return [from_attributes(item) for item in response["Items"]]


def no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", open(os.devnull))  # noqa: SIM115 - closed with the test


# --- deactivate-user / activate-user ----------------------------------------------------------


def test_deactivate_user_refuses_sign_in_refresh_and_every_token_at_once_and_activate_lets_the_user_sign_in_again(
    api: LocalApi, new_user: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    user_id, username, password = new_user("alice")
    tokens = sign_in(api, username, password).json()
    product = a_product()
    assert shopctl("deactivate-user", "alice") == 0
    out = capsys.readouterr().out
    assert f"deactivated user alice (id {user_id})" in out
    assert "the tokens it holds stop working at their next request" in out
    assert sign_in(api, username, password).status == 401
    assert api.request("POST", "/api/refresh", json_body={"refresh": tokens["refresh"]}).status == 401
    assert place_order(api, tokens["access"], product).status == 401
    assert api.request("GET", "/api/my-orders", headers=bearer(tokens["access"])).status == 401
    assert shopctl("deactivate-user", "alice") == 0  # repeating it is harmless
    assert shopctl("activate-user", "alice") == 0
    assert "activated user alice" in capsys.readouterr().out
    # The tokens from before stay revoked; signing in again gives working ones.
    assert api.request("POST", "/api/refresh", json_body={"refresh": tokens["refresh"]}).status == 401
    assert place_order(api, tokens["access"], product).status == 401
    fresh = sign_in(api, username, password).json()
    assert api.request("POST", "/api/refresh", json_body={"refresh": fresh["refresh"]}).status == 200
    assert place_order(api, fresh["access"], product).status == 201


# --- set-password --------------------------------------------------------------------------


def test_set_password_lets_the_user_sign_in_with_it_and_signs_out_every_refresh_token(
    api: LocalApi, new_user: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    user_id, username, old_password = new_user("dora")
    tokens = sign_in(api, username, old_password).json()
    monkeypatch.setattr(sys, "stdin", io.StringIO("a brand new password\n"))
    assert shopctl("set-password", "dora", "--password-stdin") == 0
    assert f"set a new password for user dora (id {user_id})" in capsys.readouterr().out
    assert sign_in(api, username, old_password).status == 401
    assert sign_in(api, username, "a brand new password").status == 200
    assert api.request("POST", "/api/refresh", json_body={"refresh": tokens["refresh"]}).status == 401


def test_set_password_works_on_a_deactivated_account_which_stays_deactivated(
    api: LocalApi, new_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, username, _ = new_user("erin")
    assert shopctl("deactivate-user", "erin") == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("another new password\n"))
    assert shopctl("set-password", "erin", "--password-stdin") == 0
    assert sign_in(api, username, "another new password").status == 401
    assert shopctl("activate-user", "erin") == 0
    assert sign_in(api, username, "another new password").status == 200


def test_set_password_refuses_a_short_password_and_changes_nothing(
    api: LocalApi, new_user: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, username, password = new_user("finn")
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert shopctl("set-password", "finn", "--password-stdin") == 2
    assert "at least 8 characters" in capsys.readouterr().err
    assert sign_in(api, username, password).status == 200


@pytest.mark.parametrize("command", ["deactivate-user", "activate-user", "delete-user", "set-password"])
def test_an_unknown_username_is_a_clear_error(new_user: Any, command: str, capsys: pytest.CaptureFixture[str]) -> None:
    new_user("alice")
    extra = {"delete-user": ("--yes",), "set-password": ("--password", "long enough password")}.get(command, ())
    arguments = (command, "ALICE", *extra)
    assert shopctl(*arguments) == 1
    assert "no user named 'ALICE'" in capsys.readouterr().err


# --- delete-user ------------------------------------------------------------------------------


def test_delete_user_keeps_the_orders_as_records_by_default(
    api: LocalApi, new_user: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    user_id, username, password = new_user("bob", email="Bob@Example.com")
    tokens = sign_in(api, username, password).json()
    product = a_product()
    placed = [place_order(api, tokens["access"], product).json()["id"] for _ in range(2)]
    assert shopctl("delete-user", "bob", "--yes") == 0
    assert f"deleted user bob (id {user_id}); kept its 2 orders under its user id" in capsys.readouterr().out
    assert items_in("USERNAME#bob") == []
    assert items_in(f"USER#{user_id}") == []
    assert items_in("EMAIL#bob@example.com") == []
    assert sorted(item["id"] for item in items_in(f"ORDERS#{user_id}")) == sorted(placed)
    assert api.request("POST", "/api/refresh", json_body={"refresh": tokens["refresh"]}).status == 401
    assert place_order(api, tokens["access"], product).status == 401
    # The name and the email are free again; the new account has a new id and none of the orders.
    new_id, _, new_password = new_user("bob", email="bob@example.com")
    assert new_id != user_id
    access = sign_in(api, "bob", new_password).json()["access"]
    assert api.request("GET", "/api/my-orders", headers=bearer(access)).json() == []


def test_delete_user_with_delete_orders_removes_the_orders_and_their_id_guards(
    api: LocalApi, new_user: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    user_id, username, password = new_user("carol")
    access = sign_in(api, username, password).json()["access"]
    product = a_product()
    placed = [place_order(api, access, product).json()["id"] for _ in range(3)]
    other_id, other_name, other_password = new_user("dave")
    kept = place_order(api, sign_in(api, other_name, other_password).json()["access"], product).json()["id"]
    assert shopctl("delete-user", "carol", "--delete-orders", "--yes") == 0
    assert "deleted its 3 orders" in capsys.readouterr().out
    assert items_in(f"ORDERS#{user_id}") == []
    for order_id in placed:
        assert items_in(f"ORDER#{order_id}") == []
    assert [item["id"] for item in items_in(f"ORDERS#{other_id}")] == [kept]
    assert items_in(f"ORDER#{kept}") != []


def test_delete_user_never_frees_an_email_claimed_by_someone_else(new_user: Any) -> None:
    from shop_common.dynamo import client
    from shop_common.settings import table_name

    user_id, _, _ = new_user("erin", email="shared@example.com")
    other_id, _, _ = new_user("frank")
    claim = {"PK": {"S": "EMAIL#shared@example.com"}, "SK": {"S": "EMAIL"}}
    client().update_item(
        TableName=table_name(),
        Key=claim,
        UpdateExpression="SET user_id = :other",
        ExpressionAttributeValues={":other": {"N": str(other_id)}},
    )
    assert shopctl("delete-user", "erin", "--yes") == 1
    assert items_in("EMAIL#shared@example.com")[0]["user_id"] == other_id
    assert items_in(f"USER#{user_id}") != []  # all or nothing: the profile is still there


def test_delete_user_asks_first_and_refuses_without_a_terminal(
    api: LocalApi, new_user: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    user_id, username, password = new_user("gina")
    no_terminal(monkeypatch)
    assert shopctl("delete-user", "gina") == 2
    err = capsys.readouterr().err
    assert "add --yes to confirm" in err
    assert "its 0 orders are kept as records" in err
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    prompts: list[str] = []
    answers = iter(["n", "y"])

    def answer(prompt: str) -> str:
        prompts.append(prompt)
        return next(answers)

    monkeypatch.setattr("builtins.input", answer)
    assert shopctl("delete-user", "gina") == 1
    assert sign_in(api, username, password).status == 200  # "n": nothing changed
    assert shopctl("delete-user", "gina", "--delete-orders") == 0
    assert "its 0 orders are deleted too" in prompts[1]
    assert items_in(f"USER#{user_id}") == []


def test_help_lists_the_account_commands() -> None:
    from shopctl.cli import build_parser

    text = build_parser().format_help()
    for command in ("deactivate-user", "activate-user", "delete-user", "set-password", "migrate"):
        assert command in text


# --- migrate: a table written by the earlier key design ---------------------------------------


def old_form_table(new_user: Any) -> dict[str, Any]:
    """Rewrite a fresh table's accounts and orders as the earlier version left them: orders under
    USER#<id>, `is_active` only on the login item."""
    from shop_common.dynamo import client, to_attributes
    from shop_common.settings import table_name

    table = table_name()
    active_id, _, _ = new_user("active", "active-password")
    inactive_id, _, _ = new_user("inactive", "inactive-password")
    orders: list[int] = []
    for user_id in (active_id, active_id, inactive_id):
        order_id = 1_000_000 + len(orders)
        item = {"PK": f"USER#{user_id}", "SK": f"ORDER#{order_id:016d}", "id": order_id, "user": user_id}
        item |= {
            "created": "2025-01-01T00:00:00.000000Z",
            "parts": [{"product": 1, "quantity_in_order": 1, "product_name": "Mug"}],
        }
        client().put_item(TableName=table, Item=to_attributes(item))
        orders.append(order_id)
    for user_id, username in ((active_id, "active"), (inactive_id, "inactive")):
        client().update_item(
            TableName=table,
            Key=to_attributes({"PK": f"USER#{user_id}", "SK": "PROFILE"}),
            UpdateExpression="REMOVE is_active, GSI1PK, GSI1SK, folded_username",
        )
        client().delete_item(TableName=table, Key=to_attributes({"PK": f"USERFOLD#{username}", "SK": "USERFOLD"}))
    client().update_item(
        TableName=table,
        Key=to_attributes({"PK": "USERNAME#active", "SK": "USERNAME"}),
        UpdateExpression="REMOVE is_active",  # the earlier code read a missing flag as active
    )
    client().update_item(
        TableName=table,
        Key=to_attributes({"PK": "USERNAME#inactive", "SK": "USERNAME"}),
        UpdateExpression="SET is_active = :no",
        ExpressionAttributeValues=to_attributes({":no": False}),
    )
    return {"active": active_id, "inactive": inactive_id, "orders": orders}


def test_migrate_moves_orders_and_copies_the_active_flag_and_is_idempotent(
    api: LocalApi, new_user: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    old = old_form_table(new_user)
    assert shopctl("migrate") == 0
    captured = capsys.readouterr()
    assert "moved 3 orders to their own partitions; updated 2 profiles (is_active, user list, folded username)" in captured.out
    assert "migrating [" in captured.err  # the progress bar
    assert [item["id"] for item in items_in(f"ORDERS#{old['active']}")] == old["orders"][:2]
    assert [item["id"] for item in items_in(f"ORDERS#{old['inactive']}")] == old["orders"][2:]
    assert [item["SK"] for item in items_in(f"USER#{old['active']}")] == ["PROFILE"]
    assert items_in(f"USER#{old['active']}")[0]["is_active"] is True
    assert items_in(f"USER#{old['inactive']}")[0]["is_active"] is False
    assert {key: items_in(f"USER#{old['active']}")[0][key] for key in ("GSI1PK", "GSI1SK")} == {
        "GSI1PK": "USERS",
        "GSI1SK": "active",
    }
    tokens = sign_in(api, "active", "active-password").json()
    assert api.request("POST", "/api/refresh", json_body={"refresh": tokens["refresh"]}).status == 200
    listed = api.request("GET", "/api/my-orders", headers=bearer(tokens["access"])).json()
    assert [order["id"] for order in listed] == old["orders"][1::-1]
    assert shopctl("migrate") == 0
    assert "nothing to migrate" in capsys.readouterr().out


def test_migrate_claims_folded_usernames_and_case_only_duplicates_from_before_keep_theirs(api: LocalApi, new_user: Any) -> None:
    """Django apps before 4.2 let `admin` and `Admin` both sign up: after the migration both
    still sign in, one of them holds the folded claim, and no third `ADMIN` can sign up."""
    from shop_common.dynamo import client, to_attributes
    from shop_common.settings import table_name

    table = table_name()
    lower_id, _, _ = new_user("admin", "lower-password")
    client().delete_item(TableName=table, Key=to_attributes({"PK": "USERFOLD#admin", "SK": "USERFOLD"}))
    upper_id, _, _ = new_user("Admin", "upper-password")  # as the earlier version let it
    client().delete_item(TableName=table, Key=to_attributes({"PK": "USERFOLD#admin", "SK": "USERFOLD"}))
    for user_id in (lower_id, upper_id):
        client().update_item(
            TableName=table,
            Key=to_attributes({"PK": f"USER#{user_id}", "SK": "PROFILE"}),
            UpdateExpression="REMOVE folded_username",
        )
    assert shopctl("migrate") == 0
    (claim,) = items_in("USERFOLD#admin")
    assert claim["user_id"] in (lower_id, upper_id)
    assert {items_in(f"USER#{user_id}")[0]["folded_username"] for user_id in (lower_id, upper_id)} == {"admin"}
    assert sign_in(api, "admin", "lower-password").status == sign_in(api, "Admin", "upper-password").status == 200
    taken = api.request("POST", "/api/register", json_body={"username": "ADMIN", "password": "a fine passphrase"})
    assert taken.json()["errors"] == [{"field": "username", "message": "A user with that username already exists."}]
    holder, other = ("admin", "Admin") if claim["user_id"] == lower_id else ("Admin", "admin")
    assert shopctl("delete-user", other, "--yes") == 0
    assert items_in("USERFOLD#admin") == [claim]  # another account's claim is never freed
    assert shopctl("delete-user", holder, "--yes") == 0
    assert items_in("USERFOLD#admin") == []
    assert api.request("POST", "/api/register", json_body={"username": "ADMIN", "password": "a fine passphrase"}).status == 201


def test_migrate_finishes_an_interrupted_run(api: LocalApi, new_user: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Interrupted after writing the new copies, before deleting the old: the rerun completes."""
    from shopctl import migrations

    old = old_form_table(new_user)
    real_write = migrations._write
    writes: list[int] = []

    def interrupted(requests: list[dict[str, Any]]) -> None:
        writes.append(1)
        if len(writes) == 2:  # the deletes of the first page
            raise KeyboardInterrupt
        real_write(requests)

    monkeypatch.setattr(migrations, "_write", interrupted)
    assert shopctl("migrate") == 130
    monkeypatch.setattr(migrations, "_write", real_write)
    assert shopctl("migrate") == 0
    assert [item["id"] for item in items_in(f"ORDERS#{old['active']}")] == old["orders"][:2]
    assert [item["SK"] for item in items_in(f"USER#{old['active']}")] == ["PROFILE"]


def test_an_export_written_before_the_migration_imports_in_the_current_form(api: LocalApi, new_user: Any, tmp_path: Path) -> None:
    old = old_form_table(new_user)
    backup = tmp_path / "old.json"
    assert shopctl("export", str(backup), "--include-password-hashes") == 0
    assert any(
        item["PK"]["S"].startswith("USER#") and item["SK"]["S"].startswith("ORDER#")
        for item in json.loads(backup.read_text())["items"]["orders"]
    )
    assert shopctl("import", str(backup), "--replace", "--yes") == 0
    assert [item["id"] for item in items_in(f"ORDERS#{old['active']}")] == old["orders"][:2]
    assert items_in(f"USER#{old['inactive']}")[0]["is_active"] is False
    tokens = sign_in(api, "active", "active-password").json()
    assert api.request("POST", "/api/refresh", json_body={"refresh": tokens["refresh"]}).status == 200


def test_an_export_taken_halfway_through_a_migration_keeps_one_copy_of_each_order() -> None:
    from shopctl.migrations import upgrade_items

    old = {"PK": {"S": "USER#7"}, "SK": {"S": "ORDER#0000000000000001"}, "id": {"N": "1"}}
    new = {**old, "PK": {"S": "ORDERS#7"}}
    assert upgrade_items([old]) == [new]
    assert upgrade_items([old, new]) == [new]
    assert upgrade_items([new]) == [new]
