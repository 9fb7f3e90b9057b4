"""`shopctl restore-point-in-time` and `shopctl copy-table`: put the table back as it was at a
point in time (docs/operations.md, "Restore the table to a point in time").

DynamoDB restores point-in-time recovery into a new table, never into the table itself. Rather
than moving the stack onto that new table (which would leave behind the stack's own table, with
its deletion protection, recovery history, TTL, alarms and every function's grant), the restored
copy is written back over the stack's table:

1. `restore-point-in-time --to TIME` asks DynamoDB for a copy of the table as it was at TIME,
   named `<table>-restored-<time>`, and waits until it can be read. The API keeps serving.
2. `copy-table <that copy>`, with the API paused, makes the table hold exactly the copy's items:
   it writes every item of the copy, then deletes the table's items the copy does not have.
   Writing first means an interrupted copy leaves no item missing that both tables hold, and
   running it again finishes the job.

Reads are paged Scans and writes BatchWriteItem calls of 25 items (shopctl.backup's helpers), so
every call stays small whatever the table's size; the copy holds the copy's keys in memory
(about 100 bytes each).
"""

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shopctl.backup import Counts, Progress, client, delete_items, import_items, scan_pages
from shopctl.progress import ProgressBar

POLL_SECONDS = 20.0  # how often to ask whether the restored table can be read yet
Sleep = Callable[[float], None]


@dataclass(frozen=True)
class CopyResult:
    copied: Counts
    deleted: int  # items of the table that the source did not hold


def restored_name(table: str, when: datetime | None) -> str:
    stamp = (when or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{table}-restored-{stamp}"[:255]


def parse_time(text: str) -> datetime | None:
    """An ISO 8601 time (UTC unless it says otherwise), or `latest` (None): DynamoDB's latest
    restorable time, about five minutes ago."""
    if text == "latest":
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a time: give e.g. 2026-12-07T09:30:00Z, or latest") from None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    if when > datetime.now(UTC):
        raise ValueError(f"{text} is in the future")
    return when.astimezone(UTC)


def start_restore(table: str, when: datetime | None, target: str) -> None:
    request: dict[str, Any] = {"SourceTableName": table, "TargetTableName": target}
    if when is None:
        request["UseLatestRestorableTime"] = True
    else:
        request["RestoreDateTime"] = when
    client().restore_table_to_point_in_time(**request)


def wait_until_active(table: str, sleep: Sleep = time.sleep, stream: Any = None) -> float:
    """Wait for the restored table to be readable (DynamoDB takes minutes to hours, with the
    table's size); returns the seconds waited."""
    stream = stream or sys.stderr
    started = time.perf_counter()
    while (status := client().describe_table(TableName=table)["Table"]["TableStatus"]) != "ACTIVE":
        waited = time.perf_counter() - started
        stream.write(f"waiting for {table}: {status.lower()} for {waited / 60:.0f} min\n")
        stream.flush()
        sleep(POLL_SECONDS)
    return time.perf_counter() - started


def copy_table(source: str, on_copied: Progress, on_deleted: Progress) -> CopyResult:
    """Make the chosen table (settings.table_name()) hold exactly the items of `source`."""
    keys: set[tuple[str, str]] = set()
    copied: list[dict[str, Any]] = []
    for page in scan_pages(TableName=source):
        import_items(page, on_copied)
        keys.update((item["PK"]["S"], item["SK"]["S"]) for item in page)
        # What Counts needs to tell products, users and orders apart, not the whole item.
        copied.extend(
            {"PK": item["PK"], "SK": item["SK"], **{key: item[key] for key in ("password_hash",) if key in item}}
            | ({"parts": {"NULL": True}} if "parts" in item else {})
            for item in page
        )
    stale = [
        {"PK": item["PK"], "SK": item["SK"]}
        for page in scan_pages(ProjectionExpression="PK, SK")
        for item in page
        if (item["PK"]["S"], item["SK"]["S"]) not in keys
    ]
    delete_items(stale, on_deleted)
    return CopyResult(Counts.of(copied), len(stale))


# --- the commands -------------------------------------------------------------------------------


def add_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]", common: argparse.ArgumentParser) -> None:
    restore = commands.add_parser(
        "restore-point-in-time",
        parents=[common],
        help="copy the table as it was at a time into a new table (point-in-time recovery)",
        description="Ask DynamoDB for a copy of the table (--table) as it was at --to, in a new table, and wait "
        "until it can be read. Nothing changes in the table itself and the API keeps serving; then look "
        "at the copy (`shopctl export - --table COPY`) and write it back with `shopctl copy-table COPY`. "
        "docs/operations.md walks through it.",
    )
    restore.add_argument("--to", required=True, metavar="TIME", help="an ISO 8601 time (UTC unless it says), or latest")
    restore.add_argument("--into", metavar="TABLE", help="the new table's name (default: <table>-restored-<time>)")
    restore.set_defaults(run=_restore_command)

    copy = commands.add_parser(
        "copy-table",
        parents=[common],
        help="make the table hold exactly another table's items (the write-back of a restore)",
        description="Make the table (--table, or the local store's) hold exactly the items of SOURCE: every item "
        "of SOURCE is written, then the items SOURCE does not have are deleted. Pause the API first "
        "(docs/operations.md): writes it accepts meanwhile may be overwritten or deleted. Safe to run "
        "again if interrupted.",
    )
    copy.add_argument("source", help="the table to copy from (e.g. what restore-point-in-time made)")
    copy.add_argument("--yes", action="store_true", help="do not ask before replacing the table's items")
    copy.set_defaults(run=_copy_command)


def _restore_command(args: argparse.Namespace) -> int:
    from shop_common import settings
    from shopctl.command_line import EXIT_OK, CommandError

    try:
        when = parse_time(args.to)
    except ValueError as error:
        raise CommandError(str(error)) from error
    table = settings.table_name()
    target = args.into or restored_name(table, when)
    start_restore(table, when, target)
    print(f"restoring {table} as of {when.isoformat() if when else 'the latest restorable time'} into {target}", file=sys.stderr)
    waited = wait_until_active(target)
    print(f"{target} is ready ({waited / 60:.0f} min)", file=sys.stderr)
    print(target)
    print(
        f"next: check it (shopctl export - --table {target}), pause the API, then shopctl copy-table {target} --table {table}",
        file=sys.stderr,
    )
    return EXIT_OK


def _copy_command(args: argparse.Namespace) -> int:
    from shop_common import settings
    from shopctl.command_line import EXIT_FAILED, EXIT_OK, CommandError

    table = settings.table_name()
    if args.source == table:
        raise CommandError("SOURCE is the table itself: name the restored copy")
    try:
        source_items = int(client().describe_table(TableName=args.source)["Table"].get("ItemCount", 0))
    except client().exceptions.ResourceNotFoundException:
        raise CommandError(f"no table {args.source!r} here", EXIT_FAILED) from None
    if not args.yes:
        if not sys.stdin.isatty():
            raise CommandError("copy-table replaces the table's items; add --yes to confirm")
        answer = input(f"Replace every item of {args.where} with the items of {args.source}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            raise CommandError("nothing changed", EXIT_FAILED)
    copying = ProgressBar(f"copying {args.source}", source_items)
    deleting = ProgressBar("deleting what it does not hold", 0)
    result = copy_table(args.source, copying.advance, deleting.advance)
    copying.finish()
    deleting.finish()
    print(f"{args.where} now holds {result.copied.describe()}, as {args.source} does", file=sys.stderr)
    noun = "item" if result.deleted == 1 else "items"
    print(f"deleted {result.deleted:,} {noun} that {args.source} does not hold", file=sys.stderr)
    return EXIT_OK
