"""`shopctl deactivate-user`, `activate-user` and `delete-user`.

A deactivated account keeps its data but loses access: sign-in, refresh and every signed-in
request are refused from the next request on (they read the profile). `is_active` is written
on the login and the profile item in one transaction (see shop_common/new_accounts.py), and a
deactivation moves both to the next token generation, so tokens issued before stay revoked
after a reactivation.

Deleting an account removes its login, profile and email claim, so its tokens stop working as
for a deactivated one. Its orders are kept by default: they are the shop's sales records, under
`ORDERS#<user id>`, and user ids are never reused, so no later account can see them.
`--delete-orders` deletes them too (and their id guards); stock is not given back either way.
"""

import argparse
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shoplocal.template import put_layers_on_path

put_layers_on_path()
from shop_common import settings  # noqa: E402
from shop_common.dynamo import TransactionCancelled, client, from_attributes, to_attributes, transact_write  # noqa: E402
from shop_common.keys import (  # noqa: E402 - importable only after the line above  # noqa: E402
    folded_claim_key,
    login_key,
    order_guard_key,
    orders_partition,
    profile_key,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import QueryOutputTypeDef, TransactWriteItemTypeDef

_BATCH = 25  # BatchWriteItem's limit


class AccountNotFound(Exception):
    """No login item for that username (or it changed while we worked)."""


@dataclass(frozen=True)
class Account:
    user_id: int
    username: str
    email: str


def find_account(username: str) -> Account:
    table = settings.table_name()
    login = client().get_item(TableName=table, Key=to_attributes(login_key(username)), ConsistentRead=True).get("Item")
    if login is None:
        raise AccountNotFound(f"no user named {username!r}")
    user_id = int(from_attributes(login)["user_id"])
    profile = client().get_item(TableName=table, Key=to_attributes(profile_key(user_id)), ConsistentRead=True).get("Item")
    email = str(from_attributes(profile).get("email", "")) if profile else ""
    return Account(user_id, username, email)


def _transact(writes: "list[TransactWriteItemTypeDef]", username: str) -> None:
    try:
        transact_write(writes)
    except TransactionCancelled as cancelled:
        raise AccountNotFound(f"user {username!r} changed or vanished meanwhile; nothing was written") from cancelled


def set_active(username: str, active: bool) -> Account:
    """Set `is_active` on the login and the profile item together (deactivating: with the next
    token generation, which revokes every token issued before); return the account."""
    account = find_account(username)
    table = settings.table_name()
    values: dict[str, bool | int]
    if active:
        update, values = "SET is_active = :active", {":active": True}
    else:
        update, values = "SET is_active = :active ADD token_generation :one", {":active": False, ":one": 1}
    writes: list[TransactWriteItemTypeDef] = [
        {
            "Update": {
                "TableName": table,
                "Key": to_attributes(key),
                "UpdateExpression": update,
                "ConditionExpression": "attribute_exists(PK)",
                "ExpressionAttributeValues": to_attributes(values),
            }
        }
        for key in (login_key(username), profile_key(account.user_id))
    ]
    _transact(writes, username)
    return account


def _orders_pages(user_id: int, **query: Any) -> "Iterator[QueryOutputTypeDef]":
    """The pages of a Query of the user's orders partition, with `query`'s extra parameters."""
    paginator = client().get_paginator("query")
    yield from paginator.paginate(
        TableName=settings.table_name(),
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues=to_attributes({":pk": orders_partition(user_id)}),
        **query,
    )


def order_count(user_id: int) -> int:
    return sum(int(page.get("Count", 0)) for page in _orders_pages(user_id, Select="COUNT"))


def _order_keys(user_id: int) -> Iterator[dict[str, Any]]:
    """The keys of the user's orders and of their id guards."""
    for page in _orders_pages(user_id, ProjectionExpression="PK, SK, id", ConsistentRead=True):
        for item in page.get("Items", []):
            yield {"PK": item["PK"], "SK": item["SK"]}
            yield order_guard_key(int(from_attributes(item)["id"]))


def _delete_keys(keys: list[dict[str, Any]]) -> None:
    for start in range(0, len(keys), _BATCH):
        pending: dict[str, Any] = {
            settings.table_name(): [{"DeleteRequest": {"Key": key}} for key in keys[start : start + _BATCH]]
        }
        while pending:
            pending = dict(client().batch_write_item(RequestItems=pending).get("UnprocessedItems") or {})


def delete_account(username: str, *, delete_orders: bool) -> tuple[Account, int]:
    """Delete the account's items (and its orders if asked); return it and the orders deleted.

    The account is deactivated first, so no order can be placed while its orders are deleted,
    and its login item goes last, so an interrupted run can simply be repeated.
    """
    account = set_active(username, False)
    deleted_orders = 0
    if delete_orders:
        keys = list(_order_keys(account.user_id))
        _delete_keys(keys)
        deleted_orders = len(keys) // 2
    table = settings.table_name()
    writes: list[TransactWriteItemTypeDef] = [
        {"Delete": {"TableName": table, "Key": to_attributes(profile_key(account.user_id))}}
    ]
    if account.email:
        writes.append(
            {
                "Delete": {
                    "TableName": table,
                    "Key": to_attributes({"PK": f"EMAIL#{account.email.lower()}", "SK": "EMAIL"}),
                    # Only this user's claim: never free an address another account holds.
                    "ConditionExpression": "attribute_not_exists(PK) OR user_id = :id",
                    "ExpressionAttributeValues": to_attributes({":id": account.user_id}),
                }
            }
        )
    folded = to_attributes(folded_claim_key(username))
    claim = client().get_item(TableName=table, Key=folded, ConsistentRead=True).get("Item")
    if claim is not None and int(from_attributes(claim)["user_id"]) == account.user_id:
        # Only this user's claim: an account from before the claims may share the folded username.
        writes.append(
            {
                "Delete": {
                    "TableName": table,
                    "Key": folded,
                    "ConditionExpression": "user_id = :id",
                    "ExpressionAttributeValues": to_attributes({":id": account.user_id}),
                }
            }
        )
    writes.append(
        {
            "Delete": {
                "TableName": table,
                "Key": to_attributes(login_key(username)),
                "ConditionExpression": "user_id = :id",
                "ExpressionAttributeValues": to_attributes({":id": account.user_id}),
            }
        }
    )
    _transact(writes, username)
    return account, deleted_orders


# --- the commands -----------------------------------------------------------------------------


def set_password(username: str, password: str) -> Account:
    """Give the account a new password and sign out every refresh token it holds (the same
    change as `POST /api/me/password`, without the current password)."""
    from shop_common.password_store import password_hash_of, save_password
    from shop_common.passwords import hash_password
    from shop_common.profiles import AccountChanged, read_profile

    account = find_account(username)
    profile = read_profile(account.user_id)
    old_hash = password_hash_of(username, account.user_id)
    if profile is None or old_hash is None:
        raise AccountNotFound(f"user {username!r} changed or vanished meanwhile; nothing was written")
    try:
        save_password(profile, old_hash, hash_password(password))
    except AccountChanged as error:
        raise AccountNotFound(f"user {username!r} changed meanwhile; nothing was written, try again") from error
    return account


def add_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]", common: argparse.ArgumentParser) -> None:
    reset = commands.add_parser(
        "set-password",
        parents=[common],
        help="give an account a new password (prompts for it); its refresh tokens stop working",
        description="Set a user's password, e.g. for a user restored from an export without password hashes. "
        "The password is prompted for twice, unechoed; in scripts, pipe it in with --password-stdin. "
        "Every refresh token the user holds stops working (other devices sign in again).",
    )
    reset.add_argument("username")
    password = reset.add_mutually_exclusive_group()
    password.add_argument("--password", help="the password (visible to other users of this machine: prefer the prompt)")
    password.add_argument("--password-stdin", action="store_true", help="read the password from the first line of standard input")
    reset.set_defaults(run=_set_password_command)
    for name, active, verb in (("deactivate-user", False, "deactivate"), ("activate-user", True, "reactivate")):
        command = commands.add_parser(
            name,
            parents=[common],
            help=f"{verb} an account ({'sign-in, refresh and orders refused at once' if not active else 'undo deactivate-user'})",
        )
        command.add_argument("username")
        command.set_defaults(run=_set_active_command, active=active)
    delete = commands.add_parser(
        "delete-user",
        parents=[common],
        help="delete an account; its orders are kept as records unless --delete-orders (asks unless --yes)",
    )
    delete.add_argument("username")
    delete.add_argument("--delete-orders", action="store_true", help="delete the user's orders too (stock is not given back)")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    delete.set_defaults(run=_delete_command)


def _set_password_command(args: argparse.Namespace) -> int:
    from shopctl.command_line import EXIT_FAILED, EXIT_OK, CommandError, new_password

    password = new_password(args)
    try:
        account = set_password(args.username, password)
    except AccountNotFound as error:
        raise CommandError(str(error), EXIT_FAILED) from error
    print(f"set a new password for user {account.username} (id {account.user_id}); its refresh tokens no longer work")
    return EXIT_OK


def _set_active_command(args: argparse.Namespace) -> int:
    from shopctl.command_line import EXIT_FAILED, EXIT_OK, CommandError

    try:
        account = set_active(args.username, args.active)
    except AccountNotFound as error:
        raise CommandError(str(error), EXIT_FAILED) from error
    if args.active:
        print(f"activated user {account.username} (id {account.user_id}): it can sign in again")
    else:
        print(
            f"deactivated user {account.username} (id {account.user_id}): sign-in and refresh are refused, "
            "and the tokens it holds stop working at their next request"
        )
    return EXIT_OK


def _delete_command(args: argparse.Namespace) -> int:
    from shopctl.command_line import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CommandError

    try:
        account = find_account(args.username)
    except AccountNotFound as error:
        raise CommandError(str(error), EXIT_FAILED) from error
    orders = order_count(account.user_id)
    fate = "deleted too" if args.delete_orders else "kept as records under its user id (--delete-orders deletes them)"
    claims = "login, profile, email and username claims"
    plan = f"delete user {account.username} (id {account.user_id}): {claims}; its {orders} orders are {fate}"
    if not args.yes:
        if not sys.stdin.isatty():
            raise CommandError(f"would {plan}; add --yes to confirm", EXIT_USAGE)
        if input(f"{plan[0].upper()}{plan[1:]}. Go ahead? [y/N] ").strip().lower() not in ("y", "yes"):
            raise CommandError("nothing changed", EXIT_FAILED)
    try:
        _, deleted = delete_account(args.username, delete_orders=args.delete_orders)
    except AccountNotFound as error:
        raise CommandError(str(error), EXIT_FAILED) from error
    kept = f"deleted its {deleted} orders" if args.delete_orders else f"kept its {orders} orders under its user id"
    print(f"deleted user {account.username} (id {account.user_id}); {kept}")
    return EXIT_OK
