"""`shopctl migrate`: bring a table written by an earlier version of the shop up to date.

1. Orders move from the user's partition (`USER#<id>` / `ORDER#<16 digits>`) to a partition of
   their own (`ORDERS#<id>`, same sort key), so the orders function's IAM policy can reach orders
   without reaching profiles (docs/data-model.md, "Key design and least privilege").
2. Profiles get `is_active`, copied from the login item (where sign-in always read it), because
   refresh and placing an order now read it from the profile, and a profile without it counts
   as inactive; and their place in the staff's user list (`GSI1PK = USERS`, `GSI1SK` = username).
3. Products get the keys of the price and stock-state indexes (GSI2, GSI3) and their search word
   items, and the catalogue counter `in_stock_count` counts them: one transaction per product,
   conditioned on the name and stock state it was read with (docs/data-model.md, "Filters,
   search and ordering"). Run it right after deploying: until a product is migrated, the
   filters and search do not show it.
4. Products get their place in the index of every product (`GSI4PK = PRODUCTS`, `GSI4SK` = the
   id, 12 digits), which page 1 and the listing's links read: one UpdateItem per product, on
   condition that it still exists. Until a product has it, page 1 and the links do not show it
   (typed page numbers do).
5. Accounts claim their case-folded username (`USERFOLD#<folded>`), which sign-up checks so that
   no new username differs from an existing one only in case; the profile records the folded
   form (`folded_username`). Case-only duplicates from before (Django apps older than 4.2
   allowed them) keep their usernames: the first account migrated keeps the claim.

Idempotent: each step only touches items still in the old form, and an interrupted run is
finished by running it again. `shopctl import` applies the same changes to an old export file.
"""

import argparse
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shoplocal.template import put_layers_on_path

put_layers_on_path()
from shop_common import settings  # noqa: E402
from shop_common.catalog import (  # noqa: E402
    all_products_keys,
    in_stock_count_update,
    product_from_item,
    product_item,
    word_puts,
)
from shop_common.dynamo import TransactionCancelled, client, from_attributes, to_attributes, transact_write  # noqa: E402
from shop_common.keys import directory_keys, folded_claim_key, folded_username, login_key  # noqa: E402 - importable only after the line above

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import ScanOutputTypeDef

_BATCH = 25  # BatchWriteItem's limit
# Items still in the old form: orders in a user's partition, profiles without `is_active`,
# products without the keys of the price and stock indexes or of the index of every product.
_OLD_FORM = (
    "begins_with(PK, :user) AND (begins_with(SK, :order)"
    " OR (SK = :profile AND (attribute_not_exists(is_active) OR attribute_not_exists(GSI1PK)"
    " OR attribute_not_exists(folded_username))))"
    " OR (begins_with(PK, :product) AND SK = :product_sk"
    " AND (attribute_not_exists(GSI3PK) OR attribute_not_exists(GSI4PK)))"
)
_OLD_FORM_VALUES = {":user": "USER#", ":order": "ORDER#", ":profile": "PROFILE", ":product": "PRODUCT#", ":product_sk": "PRODUCT"}

Item = dict[str, Any]


def is_old_order(item: Item) -> bool:
    return bool(item["PK"]["S"].startswith("USER#") and item["SK"]["S"].startswith("ORDER#"))


def is_old_profile(item: Item) -> bool:
    old = "is_active" not in item or "GSI1PK" not in item or "folded_username" not in item
    return bool(item["PK"]["S"].startswith("USER#") and item["SK"]["S"] == "PROFILE" and old)


def _is_product(item: Item) -> bool:
    return bool(item["PK"]["S"].startswith("PRODUCT#") and item["SK"]["S"] == "PRODUCT")


def is_old_product(item: Item) -> bool:
    return _is_product(item) and ("GSI3PK" not in item or "GSI4PK" not in item)


def listed_product(item: Item) -> Item:
    """The product with its place in the index of every product (GSI4)."""
    product_id = int(item["PK"]["S"].removeprefix("PRODUCT#"))
    return {**item, **to_attributes(all_products_keys(product_id))}


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
    claims: list[Item] = []
    for item in items:
        if is_old_order(item):
            item = moved_order(item)
            if (item["PK"]["S"], item["SK"]["S"]) in keys:
                continue  # exported halfway through a migration: the new copy is in the file too
        elif _is_product(item) and "GSI4PK" not in item:
            item = listed_product(item)
        elif is_old_profile(item):
            user_id = item["PK"]["S"].removeprefix("USER#")
            username = str(item["username"]["S"])
            item = {
                "is_active": {"BOOL": _login_is_active(logins.get(user_id))},
                **item,
                **to_attributes({**directory_keys(username), "folded_username": folded_username(username)}),
            }
            claim = folded_claim_key(username)
            if (claim["PK"], claim["SK"]) not in keys:  # the first account with this fold claims it
                keys.add((claim["PK"], claim["SK"]))
                claims.append(to_attributes({**claim, "user_id": int(user_id)}))
        upgraded.append(item)
    return upgraded + claims


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
    try:  # the folded username's claim, unless an account with the same fold holds it already
        client().put_item(
            TableName=settings.table_name(),
            Item=to_attributes({**folded_claim_key(username), "user_id": user_id}),
            ConditionExpression="attribute_not_exists(PK)",
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
    client().update_item(
        TableName=settings.table_name(),
        Key={"PK": profile["PK"], "SK": profile["SK"]},
        UpdateExpression="SET is_active = if_not_exists(is_active, :active), GSI1PK = :list, GSI1SK = :username, "
        "folded_username = :folded",
        ConditionExpression="attribute_exists(PK)",
        ExpressionAttributeValues=to_attributes(
            {
                ":active": _login_is_active(login),
                ":list": directory_keys(username)["GSI1PK"],
                ":username": username,
                ":folded": folded_username(username),
            }
        ),
    )


def _index_product(item: Item) -> None:
    """Give an old product its index keys and word items, and count it if in stock: one
    transaction, on condition that it is still unindexed, with the name and stock state read."""
    product = product_from_item(item)
    keys = product_item(product)
    in_stock = product.quantity > 0
    update: Any = {
        "Update": {
            "TableName": settings.table_name(),
            "Key": {"PK": item["PK"], "SK": item["SK"]},
            "UpdateExpression": "SET GSI2PK = :gsi2pk, GSI2SK = :gsi2sk, GSI3PK = :gsi3pk, GSI3SK = :gsi3sk,"
            " GSI4PK = :gsi4pk, GSI4SK = :gsi4sk",
            "ConditionExpression": "attribute_not_exists(GSI3PK) AND #name = :name AND "
            + ("quantity_in_stock > :zero" if in_stock else "quantity_in_stock = :zero"),
            "ExpressionAttributeNames": {"#name": "name"},
            "ExpressionAttributeValues": {
                **{f":{name.lower()}": keys[name] for name in ("GSI2PK", "GSI2SK", "GSI3PK", "GSI3SK", "GSI4PK", "GSI4SK")},
                **to_attributes({":name": product.name, ":zero": 0}),
            },
        }
    }
    writes = [update, *word_puts(product)] + ([in_stock_count_update(+1)] if in_stock else [])
    try:
        transact_write(writes)
    except TransactionCancelled:
        # Changed since the scan (an order, an edit, already indexed): read it again and retry.
        fresh = client().get_item(TableName=settings.table_name(), Key={"PK": item["PK"], "SK": item["SK"]}, ConsistentRead=True)
        if "Item" in fresh:
            _migrate_product(fresh["Item"])


def _list_product(item: Item) -> None:
    """Give a product indexed by price and stock its place in the index of every product: its
    keys derive from its id alone, so setting them again is harmless; a product deleted since
    the scan is left deleted."""
    keys = listed_product(item)
    try:
        client().update_item(
            TableName=settings.table_name(),
            Key={"PK": item["PK"], "SK": item["SK"]},
            UpdateExpression="SET GSI4PK = :gsi4pk, GSI4SK = :gsi4sk",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues={":gsi4pk": keys["GSI4PK"], ":gsi4sk": keys["GSI4SK"]},
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise


def _migrate_product(item: Item) -> None:
    if "GSI3PK" not in item:
        _index_product(item)  # sets the keys of every index
    elif "GSI4PK" not in item:
        _list_product(item)


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
        for product in (item for item in items if is_old_product(item)):
            _migrate_product(product)
            on_progress(1)
    return moved, flagged


# --- the command ------------------------------------------------------------------------------


def add_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]", common: argparse.ArgumentParser) -> None:
    command = commands.add_parser(
        "migrate",
        parents=[common],
        help="update a table written by an earlier version (orders, profiles, usernames' case-folded claims, "
        "products' indexes); safe to repeat",
    )
    command.set_defaults(run=_migrate_command)


def _migrate_command(args: argparse.Namespace) -> int:
    from shopctl.command_line import EXIT_OK
    from shopctl.progress import ProgressBar

    total = count_old_items()
    if not total:
        print("nothing to migrate: the table is up to date")
        return EXIT_OK
    bar = ProgressBar("migrating", total, sys.stderr)
    moved, flagged = migrate(bar.advance)
    bar.finish()
    print(f"moved {moved} orders to their own partitions; updated {flagged} profiles (is_active, user list, folded username)")
    return EXIT_OK
