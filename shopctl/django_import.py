"""`shopctl import-django`: the Django app's users, products and orders, moved into the table.

Reads the app's SQLite file or a `dumpdata` JSON file (`django_source`), plans what to write
(`django_plan`), then writes with the writers the API itself uses: accounts as sign-up writes
them (`new_accounts.account_writes`), products with their index keys, search words and counters
(`catalog.write_new_products`), orders with their id guards (`order_records.order_record_writes`),
each in transactions of at most 100 items; the id counters move past the largest imported ids.
Then it reads everything back by key and compares counts and sums with the file.

Re-running it changes nothing: an import item (`IMPORT#DJANGO`/`IMPORT`) records the digest of
the data imported (`DjangoData.fingerprint`) and whether the import finished. The same data
again: nothing to do; an interrupted import of it: the rest is written (what is there already
is skipped, each transaction having been all or nothing). A table that holds other products,
users or orders is refused unless --replace (every item deleted first).
"""

import argparse
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shopctl.django_plan import ImportPlan, plan_import
from shopctl.django_source import DjangoDataError, read_django_data
from shoplocal.template import put_layers_on_path

put_layers_on_path()
from shop_common import settings  # noqa: E402
from shop_common.catalog import CATALOG_PK, META_SK, reserve_ids, write_new_products  # noqa: E402
from shop_common.catalog_writes import read_items  # noqa: E402
from shop_common.dynamo import TransactionCancelled, client, from_attributes, to_attributes, transact_write  # noqa: E402
from shop_common.keys import (  # noqa: E402
    login_key,
    order_guard_key,
    order_sort_key,
    orders_partition,
    product_key,
    profile_key,
)
from shop_common.new_accounts import account_writes, reserve_user_ids  # noqa: E402 - importable only after the line above
from shop_common.order_records import order_record_writes  # noqa: E402

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

Progress = Callable[[int], None]
MARKER_KEY = {"PK": "IMPORT#DJANGO", "SK": "IMPORT"}
_TRANSACTION_ITEMS = 100  # DynamoDB's limit
_READ_TIMEOUT = 120.0  # seconds: see patient_client


class ImportFailed(Exception):
    """A write was refused part-way: the message says why; running the command again resumes."""


class TableState(Enum):
    EMPTY = "holds no products, users or orders"
    IMPORTED = "holds this data, imported"
    INTERRUPTED = "holds part of this data: an import of it was interrupted"
    OTHER = "already holds products, users or orders"


@dataclass(frozen=True)
class Marker:
    fingerprint: str
    status: str  # "started" or "complete"
    source: str
    started_at: str
    finished_at: str = ""


def read_marker() -> Marker | None:
    item = client().get_item(TableName=settings.table_name(), Key=to_attributes(MARKER_KEY), ConsistentRead=True).get("Item")
    if item is None:
        return None
    values = from_attributes(item)
    return Marker(*(str(values.get(name, "")) for name in ("fingerprint", "status", "source", "started_at", "finished_at")))


def _put_marker(marker: Marker) -> None:
    client().put_item(TableName=settings.table_name(), Item=to_attributes({**MARKER_KEY, **vars(marker)}))


def holds_shop_data() -> bool:
    """Whether any product, user or order is in the table: a Scan that stops at the first."""
    from shopctl.backup import scan_pages

    pages = scan_pages(
        ProjectionExpression="PK",
        FilterExpression="begins_with(PK, :product) OR begins_with(PK, :user) OR begins_with(PK, :orders)",
        ExpressionAttributeValues=to_attributes({":product": "PRODUCT#", ":user": "USER", ":orders": "ORDERS#"}),
    )
    return any(page for page in pages)


def table_state(fingerprint: str) -> tuple[TableState, Marker | None]:
    marker = read_marker()
    if marker is not None and marker.fingerprint == fingerprint:
        return (TableState.IMPORTED if marker.status == "complete" else TableState.INTERRUPTED), marker
    return (TableState.OTHER if holds_shop_data() else TableState.EMPTY), marker


# --- writing ---------------------------------------------------------------------------------


def _existing(keys: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(item["PK"]["S"], item["SK"]["S"]) for item in read_items(keys)}


def _missing[T](values: Sequence[T], key: Callable[[T], dict[str, Any]]) -> list[T]:
    """The values whose item (`key`: its typed key) is not in the table yet: an interrupted
    import's remainder."""
    keys = [key(value) for value in values]
    present = _existing(keys)
    return [value for value, typed in zip(values, keys, strict=True) if (typed["PK"]["S"], typed["SK"]["S"]) not in present]


def _transact_groups(groups: "Sequence[list[TransactWriteItemTypeDef]]", on_progress: Progress, what: str) -> None:
    """Write groups of writes (one account, one order) in transactions of at most 100 items,
    each group whole in one transaction; progress counts groups."""
    batch: list[TransactWriteItemTypeDef] = []
    in_batch = 0

    def flush() -> None:
        try:
            transact_write(batch)
        except TransactionCancelled as cancelled:
            codes = ", ".join(sorted(set(cancelled.codes) - {"None"}))
            raise ImportFailed(f"writing {what} was refused ({codes}): the table changed during the import") from cancelled
        on_progress(in_batch)

    for group in groups:
        if len(batch) + len(group) > _TRANSACTION_ITEMS:
            flush()
            batch, in_batch = [], 0
        batch += group
        in_batch += 1
    if batch:
        flush()


def write_import(plan: ImportPlan, source: str, *, resume: bool, on_progress: Progress) -> int:
    """Write the plan; return how many users, products and orders were already there (0 unless
    `resume`). The import item says "started" until `finish_import`."""
    marker = read_marker() if resume else None
    if marker is None:
        marker = Marker(plan.fingerprint, "started", source, datetime.now(UTC).isoformat(timespec="seconds"))
        _put_marker(marker)
    if plan.accounts:
        reserve_user_ids(plan.last_user_id)
    if plan.products:
        reserve_ids(plan.last_product_id)
    accounts, products, orders = plan.accounts, plan.products, plan.orders
    if resume:
        accounts = _missing(accounts, lambda account: to_attributes(profile_key(account.user_id)))
        products = _missing(products, lambda product: product_key(product.id))
        orders = _missing(orders, lambda order: order_guard_key(order.id))
    already = len(plan.accounts) - len(accounts) + len(plan.products) - len(products) + len(plan.orders) - len(orders)
    on_progress(already)
    _transact_groups([account_writes(account) for account in accounts], on_progress, "users")
    try:
        write_new_products(products, on_progress)
    except TransactionCancelled as cancelled:
        raise ImportFailed("writing products was refused: the table changed during the import") from cancelled
    _transact_groups([order_record_writes(order) for order in orders], on_progress, "orders")
    return already


@contextmanager
def patient_client() -> Iterator[None]:
    """For the block, the writes wait for their answer as long as `backup`'s do (120 s), not
    the functions' 5 s: a transaction answered late by a busy local store was sent again by the
    client's retries and cancelled by its own first attempt's writes (ConditionalCheckFailed,
    "the table changed during the import")."""
    from shop_common import dynamo

    functions_timeout, dynamo.READ_TIMEOUT = dynamo.READ_TIMEOUT, _READ_TIMEOUT
    dynamo.forget_client()
    try:
        yield
    finally:
        dynamo.READ_TIMEOUT = functions_timeout
        dynamo.forget_client()


def finish_import(plan: ImportPlan) -> None:
    marker = read_marker()
    if marker is not None and marker.fingerprint == plan.fingerprint:
        _put_marker(
            Marker(**{**vars(marker), "status": "complete", "finished_at": datetime.now(UTC).isoformat(timespec="seconds")})
        )


# --- the check -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    what: str
    expected: int | Decimal
    found: int | Decimal

    @property
    def ok(self) -> bool:
        return self.expected == self.found


def check_import(plan: ImportPlan) -> list[Check]:
    """Read back by key what the import wrote, and compare counts and sums with the file."""
    profiles = read_items([to_attributes(profile_key(account.user_id)) for account in plan.accounts])
    logins = {
        item["PK"]["S"]: from_attributes(item)
        for item in read_items([to_attributes(login_key(a.username)) for a in plan.accounts])
    }
    kept = sum(
        1
        for account in plan.accounts
        if logins.get(login_key(account.username)["PK"], {}).get("password_hash") == account.password_hash
    )
    products = [from_attributes(item) for item in read_items([product_key(product.id) for product in plan.products])]
    meta = from_attributes(next(iter(read_items([to_attributes({"PK": CATALOG_PK, "SK": META_SK})])), {}))
    order_keys = [to_attributes({"PK": orders_partition(o.user), "SK": order_sort_key(o.id)}) for o in plan.orders]
    orders = [from_attributes(item) for item in read_items(order_keys)]
    parts = [part for order in orders for part in order.get("parts", [])]
    return [
        Check("users", len(plan.accounts), len(profiles)),
        Check("password hashes kept", len(plan.accounts), kept),
        Check("products", len(plan.products), len(products)),
        Check("catalogue count", len(plan.products), int(meta.get("product_count", 0))),
        Check("products in stock", sum(p.quantity > 0 for p in plan.products), int(meta.get("in_stock_count", 0))),
        Check("units in stock", plan.stock, sum(int(product["quantity_in_stock"]) for product in products)),
        Check("sum of prices", plan.price_total, sum((Decimal(product["price"]) for product in products), Decimal("0.00"))),
        Check("orders", len(plan.orders), len(orders)),
        Check("order parts", plan.parts, len(parts)),
        Check("units ordered", plan.units_ordered, sum(int(part["quantity_in_order"]) for part in parts)),
    ]


# --- the command -----------------------------------------------------------------------------


def add_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]", common: argparse.ArgumentParser) -> None:
    command = commands.add_parser(
        "import-django",
        parents=[common],
        help="move the Django app's users, products and orders into the table (safe to repeat)",
        description="Import the Django app's data: its SQLite file (db.sqlite3, read-only), or for a PostgreSQL or "
        "MySQL deployment the output of `python manage.py dumpdata auth.user assignment_orders --indent 2`. "
        "Users keep their ids, flags, date joined and password hashes (they sign in with their passwords); "
        "products their ids, names, stock and prices (rounded half to even to cents); orders their ids, "
        "owners, dates and parts. Order parts whose order is gone are reported and skipped. Product and user "
        "ids continue after the largest imported. Afterwards, everything is read back and checked against "
        "the file. Running it again changes nothing (an interrupted import is finished). A table that holds "
        "other products, users or orders is refused unless --replace.",
        epilog="exit status: 0 imported, or nothing to do; 1 rows the shop cannot store (nothing written), "
        "a failed write or check; 2 not such a file, or a table holding other data without --replace (nothing written)",
    )
    command.add_argument("file", type=Path, help="the Django app's db.sqlite3, or a dumpdata JSON file")
    command.add_argument(
        "--dry-run", action="store_true", help="read the file and the table, say what would be done, write nothing"
    )
    command.add_argument("--replace", action="store_true", help="delete everything in the table first (asks unless --yes)")
    command.add_argument("--yes", action="store_true", help="do not ask before --replace deletes")
    command.set_defaults(run=_import_command)


def read_plan(path: Path) -> ImportPlan:
    """The file read and planned; DjangoDataError when it is not such a file."""
    return plan_import(read_django_data(path))


def _import_command(args: argparse.Namespace) -> int:
    from shopctl.backup import delete_items, estimated_item_count, read_keys_and_logins
    from shopctl.command_line import EXIT_FAILED, EXIT_OK, CommandError, confirm_replace
    from shopctl.progress import ProgressBar

    try:
        plan = read_plan(args.file)
    except DjangoDataError as error:
        raise CommandError(f"{error}; nothing was written") from error
    print(f"read {args.file.name} ({plan.data.kind}): {plan.data.describe()}")
    for message in plan.rejected:
        print(f"{args.file.name}: {message}", file=sys.stderr)
    if plan.rejected:
        raise CommandError(
            f"{len(plan.rejected):,} rows cannot be stored in this shop, so nothing was written: fix them in the Django app "
            "(or the file) and run the command again",
            EXIT_FAILED,
        )
    for note in plan.notes:
        print(f"note: {note}")
    state, marker = table_state(plan.fingerprint)
    if args.dry_run:
        print(_dry_run_report(plan, state, marker, args))
        return EXIT_OK
    if state is TableState.IMPORTED and not args.replace:
        print(f"{args.where} {state.value} on {marker.finished_at if marker else '?'}: nothing to do")
        return EXIT_OK
    if state is TableState.OTHER and not args.replace:
        raise CommandError(
            f"{args.where} {state.value}: import into an empty table, or add --replace to delete everything in it first"
        )
    if args.replace and state is not TableState.EMPTY:
        bar = ProgressBar("reading the table", estimated_item_count())
        keys = read_keys_and_logins(bar.advance).keys
        bar.finish()
        confirm_replace(args, len(keys))
        bar = ProgressBar("deleting", len(keys))
        delete_items(keys, bar.advance)
        bar.finish()
        state = TableState.EMPTY
    started = time.perf_counter()
    bar = ProgressBar("importing", len(plan.accounts) + len(plan.products) + len(plan.orders))
    try:
        with patient_client():
            already = write_import(plan, args.file.name, resume=state is TableState.INTERRUPTED, on_progress=bar.advance)
    except ImportFailed as error:
        raise CommandError(f"{error}; run the command again to finish the import", EXIT_FAILED) from error
    bar.finish()
    checks = check_import(plan)
    resumed = f" ({already:,} were there from an interrupted run)" if already else ""
    print(f"imported {plan.describe()} into {args.where} in {time.perf_counter() - started:.1f} s{resumed}")
    print(_check_report(checks))
    if not all(check.ok for check in checks):
        raise CommandError("the table does not hold what the file does (above); run the command again to finish", EXIT_FAILED)
    finish_import(plan)
    print(f"new product ids start at {plan.last_product_id + 1:,}, new user ids at {plan.last_user_id + 1:,}")
    return EXIT_OK


def _check_report(checks: list[Check]) -> str:
    width = max(len(check.what) for check in checks)
    lines = ["check (read back from the table):"]
    for check in checks:
        verdict = "ok" if check.ok else f"DIFFERS: the file has {check.expected:,}"
        lines.append(f"  {check.what:<{width}}  {check.found:>14,}  {verdict}")
    return "\n".join(lines)


def _dry_run_report(plan: ImportPlan, state: TableState, marker: Marker | None, args: argparse.Namespace) -> str:
    next_ids = f"product ids would continue from {plan.last_product_id + 1:,}, user ids from {plan.last_user_id + 1:,}"
    what = f"{plan.describe()}; {next_ids}"
    if state is TableState.IMPORTED and not args.replace:
        return f"dry run: {args.where} {state.value} on {marker.finished_at if marker else '?'}: nothing to do"
    if state is TableState.OTHER and not args.replace:
        return f"dry run: {args.where} {state.value}: the import would be refused without --replace ({what})"
    if args.replace and state is not TableState.EMPTY:
        return f"dry run: would delete everything in {args.where} ({state.value}), then import {what}"
    if state is TableState.INTERRUPTED:
        return f"dry run: {args.where} {state.value}: would write what is missing of {what}"
    return f"dry run: would import {what} into {args.where}; nothing was written"
