"""`shopctl export` / `shopctl import`: the whole table as a JSON file, for backups and for moving
data between stores (local to local, local to a deployed table and back).

Items are kept in DynamoDB's typed JSON, so numbers, sets and binary values round-trip exactly,
grouped by what they are so the file can be read. Password hashes are replaced by Django's
"unusable password" marker unless asked for: an export is often shared, a hash is a secret.
Such a file cannot restore sign-ins, so the export says so, and an import keeps the target
table's own hash of each user it already holds (same username and id) and refuses, unless told
otherwise, to write users that could not sign in.

The table is read with a paged Scan (right here: an export reads everything, and never on a
customer's request path) and written with BatchWriteItem, 25 items a call, so the work of each
call stays small whatever the table's size. This work has a client of its own: a page of a large
table on a busy local store can take longer than the functions' 5 s read timeout, and reading a
page again is harmless.
"""

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from shoplocal.template import put_layers_on_path

put_layers_on_path()
from shop_common import settings  # noqa: E402
from shop_common.passwords import ALGORITHM  # noqa: E402 - the layer is importable only after the line above

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

FORMAT = "shop-export"
VERSION = 1
GROUPS = ("products", "users", "orders", "counters", "other")
UNUSABLE_PASSWORD = "!"  # noqa: S105 - Django's marker: the account exists, no password matches
_BATCH = 25  # BatchWriteItem's limit
# Items per Scan page; None leaves the page to DynamoDB (1 MB). Tests set it low to cross pages.
SCAN_PAGE_ITEMS: int | None = None

Progress = Callable[[int], None]
_WHOLE_TABLE_CONFIG = Config(connect_timeout=5, read_timeout=120, retries={"mode": "standard", "max_attempts": 8})


@cache
def client() -> "DynamoDBClient":
    """The client for whole-table reads and writes (created once the CLI has chosen the store)."""
    return boto3.client("dynamodb", config=_WHOLE_TABLE_CONFIG)


class BackupError(Exception):
    """The file is not an export, or the target table is not in a state to import into."""


def group_of(item: dict[str, Any]) -> str:
    partition, sort = item["PK"]["S"], item["SK"]["S"]
    if partition.startswith(("PRODUCT#", "SKU#")):
        return "products"
    if partition.startswith("ORDER") or sort.startswith("ORDER"):
        return "orders"
    if partition.startswith(("USER#", "USERNAME#", "USERFOLD#", "EMAIL#")):
        return "users"
    if partition in ("CATALOG", "COUNTER"):
        return "counters"
    return "other"


def is_login(item: dict[str, Any]) -> bool:
    """The item a user signs in with: one per user, holding the password hash."""
    return bool(item["PK"]["S"].startswith("USERNAME#"))


def can_sign_in(login: dict[str, Any]) -> bool:
    return bool(login.get("password_hash", {}).get("S", "").startswith(f"{ALGORITHM}$"))


def _username(login: dict[str, Any]) -> str:
    return str(login["PK"]["S"].removeprefix("USERNAME#"))


@dataclass(frozen=True)
class Counts:
    """What a set of items holds, in the units people count: products, users, orders."""

    products: int
    users: int
    orders: int
    items: int
    users_who_cannot_sign_in: int

    @classmethod
    def of(cls, items: list[dict[str, Any]]) -> "Counts":
        logins = [item for item in items if is_login(item)]
        return cls(
            products=sum(item["PK"]["S"].startswith("PRODUCT#") for item in items),
            users=len(logins),
            orders=sum(group_of(item) == "orders" and "parts" in item for item in items),
            items=len(items),
            users_who_cannot_sign_in=sum(not can_sign_in(login) for login in logins),
        )

    def describe(self) -> str:
        def counted(count: int, noun: str) -> str:
            return f"{count:,} {noun}{'' if count == 1 else 's'}"

        entities = f"{counted(self.products, 'product')}, {counted(self.users, 'user')}, {counted(self.orders, 'order')}"
        return f"{entities} ({counted(self.items, 'item')})"


def estimated_item_count() -> int:
    """The table's item count as DynamoDB reports it (refreshed about every six hours in AWS,
    exact on the local store): enough for a progress bar, one cheap call."""
    return int(client().describe_table(TableName=settings.table_name())["Table"].get("ItemCount", 0))


def scan_pages(**options: Any) -> Iterator[list[dict[str, Any]]]:
    """The table page by page, following LastEvaluatedKey (TableName= reads another table)."""
    request: dict[str, Any] = {"TableName": settings.table_name(), "ConsistentRead": True, **options}
    if SCAN_PAGE_ITEMS is not None:
        request["Limit"] = SCAN_PAGE_ITEMS
    while True:
        response = client().scan(**request)
        yield response.get("Items", [])
        if "LastEvaluatedKey" not in response:
            return
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def export_table(*, include_password_hashes: bool, on_progress: Progress) -> dict[str, Any]:
    groups: dict[str, list[dict[str, Any]]] = {group: [] for group in GROUPS}
    for page in scan_pages():
        for item in page:
            if "password_hash" in item and not include_password_hashes:
                item = {**item, "password_hash": {"S": UNUSABLE_PASSWORD}}
            groups[group_of(item)].append(item)
        on_progress(len(page))
    for items in groups.values():
        items.sort(key=lambda item: (item["PK"]["S"], item["SK"]["S"]))
    counts = Counts.of([item for items in groups.values() for item in items])
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "table": settings.table_name(),
        "password_hashes": include_password_hashes,
        "counts": vars(counts),
        "items": groups,
    }


def read_export(text: str) -> tuple[list[dict[str, Any]], "dict[str, tuple[bytes, str]] | None"]:
    """The items of an export file and its photo files (None: it has none), checked enough
    that a wrong file is refused before any write."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise BackupError(f"not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}") from error
    except RecursionError as error:
        raise BackupError("not valid JSON: nested too deeply") from error
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise BackupError("not a shop export (made by `shopctl export`)")
    if document.get("version") != VERSION:
        raise BackupError(f"export version {document.get('version')!r} is not supported (expected {VERSION})")
    groups = document.get("items")
    if not isinstance(groups, dict):
        raise BackupError('the export has no "items"')
    items: list[dict[str, Any]] = []
    keys: set[tuple[str, str]] = set()
    for group, group_items in groups.items():
        if not isinstance(group_items, list):
            raise BackupError(f'"items.{group}" must be a list')
        for position, item in enumerate(group_items, start=1):
            keys_ok = isinstance(item, dict) and all(
                isinstance(item.get(key), dict) and isinstance(item[key].get("S"), str) for key in ("PK", "SK")
            )
            if not keys_ok:
                raise BackupError(f"items.{group}[{position}] is not a table item with PK and SK")
            key = (item["PK"]["S"], item["SK"]["S"])
            if key in keys:
                raise BackupError(f"items.{group}[{position}] repeats the key PK={key[0]}, SK={key[1]}")
            keys.add(key)
            items.append(item)
    from shopctl.migrations import upgrade_items  # files written before orders had their own partition
    from shopctl.photo_backup import PhotoFileError, files_of_export

    try:
        files = files_of_export(document)
    except PhotoFileError as error:
        raise BackupError(str(error)) from error
    return upgrade_items(items), files


def table_is_empty() -> bool:
    return not client().scan(TableName=settings.table_name(), Limit=1, ProjectionExpression="PK").get("Items")


@dataclass
class TableContents:
    """What --replace needs from the table before deleting it: every key, and the logins."""

    keys: list[dict[str, Any]] = field(default_factory=list)
    logins: dict[str, dict[str, Any]] = field(default_factory=dict)  # by username


def read_keys_and_logins(on_progress: Progress) -> TableContents:
    contents = TableContents()
    for page in scan_pages(ProjectionExpression="PK, SK, user_id, password_hash"):
        for item in page:
            contents.keys.append({"PK": item["PK"], "SK": item["SK"]})
            if is_login(item):
                contents.logins[_username(item)] = item
        on_progress(len(page))
    return contents


@dataclass(frozen=True)
class SignInCheck:
    kept: list[str]  # users whose hash was missing in the file and was kept from the table
    locked_out: list[str]  # users who could not sign in after the import


def keep_existing_password_hashes(items: list[dict[str, Any]], table_logins: dict[str, dict[str, Any]]) -> SignInCheck:
    """Give each login of the file that has no usable hash the table's hash for the same user
    (same username and user id), in place. Returns who got one and who still cannot sign in."""
    kept: list[str] = []
    locked_out: list[str] = []
    for index, item in enumerate(items):
        if not is_login(item) or can_sign_in(item):
            continue
        username = _username(item)
        existing = table_logins.get(username)
        if existing is not None and existing.get("user_id") == item.get("user_id") and can_sign_in(existing):
            items[index] = {**item, "password_hash": existing["password_hash"]}
            kept.append(username)
        else:
            locked_out.append(username)
    return SignInCheck(kept, locked_out)


def _write_batches(requests: list[dict[str, Any]], on_progress: Progress) -> None:
    for start in range(0, len(requests), _BATCH):
        pending: dict[str, Any] = {settings.table_name(): requests[start : start + _BATCH]}
        for attempt in range(10):
            unprocessed = client().batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not unprocessed:
                break
            pending = unprocessed
            time.sleep(min(0.05 * 2**attempt, 2.0))  # throttled: back off before the rest
        else:
            raise BackupError(f"DynamoDB kept throttling the writes; the first {start:,} were written, the rest not")
        on_progress(len(requests[start : start + _BATCH]))


def delete_items(keys: list[dict[str, Any]], on_progress: Progress) -> None:
    _write_batches([{"DeleteRequest": {"Key": key}} for key in keys], on_progress)


def import_items(items: list[dict[str, Any]], on_progress: Progress) -> None:
    _write_batches([{"PutRequest": {"Item": item}} for item in items], on_progress)
