"""`shopctl migrate`: bring a table written by an earlier version of the shop up to date.

1. Orders move from the user's partition (`USER#<id>` / `ORDER#<16 digits>`) to a partition of
   their own (`ORDERS#<id>`, same sort key), so the orders function's IAM policy can reach orders
   without reaching profiles (docs/data-model.md, "Key design and least privilege").
2. Profiles get `is_active`, copied from the login item (where sign-in always read it), because
   refresh and placing an order now read it from the profile, and a profile without it counts
   as inactive; and their place in the staff's user list (`GSI1PK = USERS`, `GSI1SK` = username).

Idempotent: each step only touches items still in the old form, and an interrupted run is
finished by running it again. `shopctl import` applies the same changes to an old export file.
"""

import argparse
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from shoplocal.template import put_code_on_path

put_code_on_path()
from accounts import directory_keys, login_key  # noqa: E402 - importable only after the line above
from shop_common import settings  # noqa: E402
from shop_common.dynamo import client, from_attributes, to_attributes  # noqa: E402

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import ScanOutputTypeDef

_BATCH = 25  # BatchWriteItem's limit
# Items still in the old form: orders in a user's partition, profiles without `is_active`.
_OLD_FORM = (
    "begins_with(PK, :user) AND (begins_with(SK, :order)"
    " OR (SK = :profile AND (attribute_not_exists(is_active) OR attribute_not_exists(GSI1PK))))"
)
_OLD_FORM_VALUES = {":user": "USER#", ":order": "ORDER#", ":profile": "PROFILE"}

Item = dict[str, Any]


def is_old_order(item: Item) -> bool:
    return bool(item["PK"]["S"].startswith("USER#") and item["SK"]["S"].startswith("ORDER#"))


def is_old_profile(item: Item) -> bool:
    old = "is_active" not in item or "GSI1PK" not in item
    return bool(item["PK"]["S"].startswith("USER#") and item["SK"]["S"] == "PROFILE" and old)


def moved_order(item: Item) -> Item:
    """The order under its new partition key, every other attribute unchanged."""
    user_id = item["PK"]["S"].removeprefix("USER#")
    return {**item, "PK": {"S": f"ORDERS#{user_id}"}}


def _login_is_active(login: Item | None) -> bool:
    # The earlier code treated a login without the flag as active; no login at all: inactive.
    return login is not None and bool(from_attributes(login).get("is_active", True))


def upgrade_items(items: list[Item]) -> list[Item]:
    """The items of an export file in the current form (the file itself is not changed)."""
    logins = {item["user_id"].get("N"): item for item in items if item["PK"]["S"].startswith("USERNAME#") and "user_id" in item}
    keys = {(item["PK"]["S"], item["SK"]["S"]) for item in items}
    upgraded = []
    for item in items:
        if is_old_order(item):
            item = moved_order(item)
            if (item["PK"]["S"], item["SK"]["S"]) in keys:
                continue  # exported halfway through a migration: the new copy is in the file too
        elif is_old_profile(item):
            user_id = item["PK"]["S"].removeprefix("USER#")
            item = {
                "is_active": {"BOOL": _login_is_active(logins.get(user_id))},
                **item,
                **to_attributes(directory_keys(str(item["username"]["S"]))),
            }
        upgraded.append(item)
    return upgraded


def _old_form_pages(select_count: bool) -> "Iterator[ScanOutputTypeDef]":
    # A Scan is right here: a one-off administrative pass over the whole table.
    arguments: dict[str, Any] = {
        "TableName": settings.table_name(),
        "FilterExpression": _OLD_FORM,
        "ExpressionAttributeValues": to_attributes(_OLD_FORM_VALUES),
        "ConsistentRead": True,
    }
    if select_count:
        arguments["Select"] = "COUNT"
    yield from client().get_paginator("scan").paginate(**arguments)


def count_old_items() -> int:
    return sum(int(page.get("Count", 0)) for page in _old_form_pages(select_count=True))


def _write(requests: list[dict[str, Any]]) -> None:
    for start in range(0, len(requests), _BATCH):
        pending: dict[str, Any] = {settings.table_name(): requests[start : start + _BATCH]}
        while pending:
            pending = dict(client().batch_write_item(RequestItems=pending).get("UnprocessedItems") or {})


def _flag_profile(profile: Item) -> None:
    user_id = int(from_attributes(profile)["id"])
    username = str(from_attributes(profile)["username"])
    login = (
        client()
        .get_item(TableName=settings.table_name(), Key=to_attributes(login_key(username)), ConsistentRead=True)
        .get("Item")
    )
    if login is not None and int(from_attributes(login)["user_id"]) != user_id:
        login = None  # the username now belongs to someone else
    client().update_item(
        TableName=settings.table_name(),
        Key={"PK": profile["PK"], "SK": profile["SK"]},
        UpdateExpression="SET is_active = if_not_exists(is_active, :active), GSI1PK = :list, GSI1SK = :username",
        ConditionExpression="attribute_exists(PK)",
        ExpressionAttributeValues=to_attributes(
            {":active": _login_is_active(login), ":list": directory_keys(username)["GSI1PK"], ":username": username}
        ),
    )


def migrate(on_progress: Callable[[int], None]) -> tuple[int, int]:
    """Move old orders and flag old profiles; return (orders moved, profiles flagged).

    Each order is written under its new key before the old copy is deleted, so an interruption
    leaves at worst a duplicate in the old place, which the next run moves (overwriting the
    identical new copy) and deletes.
    """
    moved = flagged = 0
    for page in _old_form_pages(select_count=False):
        items: list[Item] = list(page.get("Items", []))
        orders = [item for item in items if is_old_order(item)]
        _write([{"PutRequest": {"Item": moved_order(order)}} for order in orders])
        _write([{"DeleteRequest": {"Key": {"PK": order["PK"], "SK": order["SK"]}}} for order in orders])
        moved += len(orders)
        on_progress(len(orders))
        for profile in (item for item in items if is_old_profile(item)):
            _flag_profile(profile)
            flagged += 1
            on_progress(1)
    return moved, flagged


# --- the command ------------------------------------------------------------------------------


def add_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]", common: argparse.ArgumentParser) -> None:
    command = commands.add_parser(
        "migrate",
        parents=[common],
        help="update a table written by an earlier version (orders' keys, profiles' is_active); safe to repeat",
    )
    command.set_defaults(run=_migrate_command)


def _migrate_command(args: argparse.Namespace) -> int:
    from shopctl.cli import EXIT_OK
    from shopctl.progress import ProgressBar

    total = count_old_items()
    if not total:
        print("nothing to migrate: the table is up to date")
        return EXIT_OK
    bar = ProgressBar("migrating", total, sys.stderr)
    moved, flagged = migrate(bar.advance)
    bar.finish()
    print(f"moved {moved} orders to their own partitions; updated {flagged} profiles (is_active, user list)")
    return EXIT_OK
