"""`shopctl`: the shop's admin command, the counterpart of Django's `manage.py`.

It works on the local store `make run` serves (found on DB_PORT, default 8000, or --endpoint-url)
unless --table names a deployed table, which is reached with the usual AWS settings
(--profile/--region or AWS_PROFILE/AWS_REGION and the rest of the credential chain).
"""

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shopctl.command_line import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_OUTPUT_CLOSED,
    CommandError,
    confirm_replace,
    new_password,
)
from shoplocal.store import local_store

_EPILOG = """\
examples:
  shopctl create-user alice --staff            # prompts for the password
  printf '%s\\n' "$PASSWORD" | shopctl create-user bob --password-stdin
  shopctl load-products catalogue.csv          # columns: sku,name,description,price,quantity
  shopctl export backup.json --include-password-hashes   # a full backup: keep it secret
  shopctl import backup.json --table shop-prod --profile prod --region eu-west-1
  shopctl restore-point-in-time --to 2026-12-07T09:30:00Z --table shop-prod   # a copy as of then
  shopctl copy-table shop-prod-restored-20261207T093000Z --table shop-prod    # write it back
  shopctl import-django db.sqlite3 --dry-run   # the Django app's data: what would be imported
  shopctl events tail --type order.placed       # the shop's events as they happen

exit status:
  0    done
  1    the command failed and says why: no store, a DynamoDB error, rejected rows (nothing
       written), an import into a table that is not empty or that would lock users out
       (nothing written), a name already taken, an import whose check found differences
  2    bad arguments, an unreadable file or not the expected kind of file, an import into a
       table holding data without --replace (nothing written)
  130  interrupted (Ctrl-C)
  141  the output was closed early (`shopctl export - | head`); the work done is not undone
"""


_BUCKET_HELP = (
    "the deployed stack's images bucket (its ImagesBucket output), for the photo files with --table "
    "(default: the local store's bucket; with --table and no --bucket the photo files are left out)"
)


def _store_options(parser: argparse.ArgumentParser, default: object) -> None:
    group = parser.add_argument_group("where the data is")
    group.add_argument(
        "--endpoint-url",
        default=default,
        help="the local store's URL (default: http://127.0.0.1:$DB_PORT, DB_PORT defaulting to 8000)",
    )
    group.add_argument(
        "--table", default=default, help="a deployed stack's table (its TableName output) instead of the local store"
    )
    group.add_argument("--profile", default=default, help="AWS profile for --table (default: the usual credential chain)")
    group.add_argument("--region", default=default, help="AWS region for --table (default: AWS_REGION or the profile's)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shopctl",
        description="Administer the shop's data: accounts, catalogue, backups.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _store_options(parser, None)
    # The store options are accepted after the command too; SUPPRESS keeps a value given before it.
    common = argparse.ArgumentParser(add_help=False)
    _store_options(common, argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    create = commands.add_parser(
        "create-user",
        parents=[common],
        help="create an account (prompts for the password)",
        description="Create an account, with the rules of sign-up (POST /api/register): the username, the email and "
        "the password rules (--allow-weak-password bypasses the last). The password is prompted for twice, unechoed; "
        "in scripts, pipe it in with --password-stdin (--password shows it to `ps` and the shell's history).",
    )
    create.add_argument("username")
    password = create.add_mutually_exclusive_group()
    password.add_argument("--password", help="the password (visible to other users of this machine: prefer the prompt)")
    password.add_argument("--password-stdin", action="store_true", help="read the password from the first line of standard input")
    create.add_argument("--email", default="", help="the account's email address (unique)")
    create.add_argument("--staff", action="store_true", help="make the account a staff account")
    create.add_argument(
        "--allow-weak-password",
        action="store_true",
        help="create the account even if the password breaks sign-up's password rules (too common, too similar "
        "to the username, entirely numeric), as Django's createsuperuser lets you bypass them",
    )

    load = commands.add_parser(
        "load-products",
        parents=[common],
        help="add or update products from a CSV or JSON file",
        description="Add products from a CSV file (a header row naming the columns name, price, quantity (the "
        "stock; files of earlier versions name it quantity_in_stock, also read), and optionally description and sku) "
        "or a JSON file (a list of objects with those fields). "
        "A row with a sku updates the product that has that sku, or adds it, so loading the same file "
        "again is safe; a row without one always adds a product. Every row is checked first: if any "
        "is bad, each bad row is reported (a CSV row by its line number in the file, the header being "
        "line 1; a JSON row as `item N`, counted from 1) and nothing is written. The checked rows are then written "
        "in batches of 100: a load stopped part-way (Ctrl-C, a failure) says what it wrote and how to finish without "
        "adding rows twice. Names are trimmed.",
    )
    load.add_argument("file", type=Path, help="a .csv or .json file")

    commands.add_parser("seed-demo", parents=[common], help="add the demo users and catalogue (what `make run` starts with)")

    export = commands.add_parser(
        "export",
        parents=[common],
        help="write every product, user and order, and the products' photo files, to a JSON file",
        description="Write the whole table, and the files of the products' photos, to a JSON file (with --table, "
        "the photo files need --bucket; without it the file says they are left out). By default password hashes "
        "are left out, so the file "
        "can be shared; such a file cannot restore sign-ins (import keeps the passwords of users the "
        "target table already has, and refuses to create users who could not sign in). For a backup "
        "that restores everything, add --include-password-hashes and keep the file secret (it is "
        "written readable by its owner only).",
    )
    export.add_argument("file", help="the file to write, or - for standard output")
    export.add_argument(
        "--include-password-hashes", action="store_true", help="keep password hashes: a full backup (treat the file as a secret)"
    )
    export.add_argument("--bucket", help=_BUCKET_HELP)

    restore = commands.add_parser(
        "import",
        parents=[common],
        help="load a file written by `shopctl export`",
        description="Load an export into an empty table, or replace a table's data with --replace, and write its "
        "photo files back to the images bucket (with --table, name it with --bucket). A user the "
        "file has no password hash for keeps the target table's hash when the table has that user "
        "(same username and id); if any user would be left unable to sign in, nothing is written "
        "unless --allow-locked-out-users is given.",
    )
    restore.add_argument("file", type=Path)
    restore.add_argument("--bucket", help=_BUCKET_HELP)
    restore.add_argument("--replace", action="store_true", help="delete everything in the table first (asks unless --yes)")
    restore.add_argument("--yes", action="store_true", help="do not ask before --replace deletes")
    restore.add_argument(
        "--allow-locked-out-users",
        action="store_true",
        help="import users that have no password hash anywhere; they cannot sign in afterwards",
    )
    from shopctl import accounts, django_import, events, migrations
    from shopctl import restore as point_in_time

    accounts.add_commands(commands, common)
    migrations.add_commands(commands, common)
    point_in_time.add_commands(commands, common)
    django_import.add_commands(commands, common)
    events.add_commands(commands, common)
    return parser


def _connect(args: argparse.Namespace) -> str:
    """Point this process's boto3 at the chosen store; return a description of it."""
    if args.table:
        if args.profile:
            os.environ["AWS_PROFILE"] = args.profile
        if args.region:
            os.environ["AWS_DEFAULT_REGION"] = os.environ["AWS_REGION"] = args.region
        if args.endpoint_url:
            os.environ["AWS_ENDPOINT_URL"] = args.endpoint_url
        os.environ["TABLE_NAME"] = args.table
        return f"table {args.table}"
    url = args.endpoint_url or local_store.endpoint_url()
    if not local_store.is_listening(url):
        raise CommandError(
            f"no local store at {url}: start it with `make run` (or set DB_PORT / --endpoint-url), "
            "or use --table for a deployed table",
            EXIT_FAILED,
        )
    local_store.use_local_store(url)
    return f"the local store at {url}"


def _account_fields(username: str, email: str) -> tuple[str, str]:
    """The username and email as sign-up reads them (NFKC; the email's domain lower-cased), or
    the rule they break, in sign-up's words."""
    from pydantic import TypeAdapter, ValidationError

    from shop_common.account_fields import Email, Username

    fields = []
    for name, model, value in (("username", Username, username), ("email", Email, email)):
        try:
            fields.append(TypeAdapter(model).validate_python(value))
        except ValidationError as error:
            raise CommandError(f"{name} {value!r}: {error.errors()[0]['msg']}") from error
    return fields[0], fields[1]


def create_user(args: argparse.Namespace) -> int:
    username, email = _account_fields(args.username, args.email)
    password = new_password(args)
    from shop_common.new_accounts import AccountExists
    from shop_common.new_accounts import create_user as create_account
    from shop_common.password_rules import password_problems

    problems = password_problems(password, {"username": username, "email": email, "first_name": "", "last_name": ""})
    if problems and not args.allow_weak_password:
        raise CommandError(" ".join(problems) + " (--allow-weak-password creates the account anyway)")

    try:
        user_id = create_account(username, password, email=email, is_staff=args.staff)
    except AccountExists as error:
        raise CommandError(str(error), EXIT_FAILED) from error
    kind = "staff user" if args.staff else "user"
    print(f"created {kind} {username} (id {user_id})")
    return EXIT_OK


def load_products(args: argparse.Namespace) -> int:
    from shopctl.catalog_load import LoadInterrupted, apply_load, plan_load
    from shopctl.product_files import ProductFileError, read_products
    from shopctl.progress import ProgressBar

    try:
        parsed = read_products(args.file)
    except ProductFileError as error:
        raise CommandError(str(error)) from error
    rows = len(parsed.rows) + len(parsed.rejected)
    if parsed.rejected:
        for message in parsed.rejected:
            print(f"{args.file.name} {message}", file=sys.stderr)
        raise CommandError(
            f"{_counted(len(parsed.rejected), 'row')} of {rows} rejected, so nothing was written "
            "(a file is loaded all or nothing): fix them and run the command again",
            EXIT_FAILED,
        )
    plan = plan_load([row.product for row in parsed.rows])
    bar = ProgressBar("writing products", len(plan.to_add) + len(plan.to_update))
    try:
        result = apply_load(plan, bar.advance)
    except LoadInterrupted as stopped:
        to_add = {id(product) for product in plan.to_add}
        added_rows = [row for row in parsed.rows if id(row.product) in to_add][: len(stopped.result.added)]
        raise CommandError(
            _interrupted_load(stopped, len(plan.to_add) + len(plan.to_update), added_rows),
            EXIT_INTERRUPTED if stopped.by_user else EXIT_FAILED,
        ) from stopped
    if bar.total:
        bar.finish()
    print(
        f"{_counted(rows, 'row')}: {_counted(len(result.added), 'product')} added{_id_range(result.added)}, "
        f"{result.updated:,} updated, {plan.unchanged:,} unchanged, 0 rejected"
    )
    return EXIT_OK


def _id_range(products: list[Any]) -> str:
    if not products:
        return ""
    first, last = products[0].id, products[-1].id
    return f" (id {first})" if first == last else f" (ids {first}-{last})"


def _interrupted_load(stopped: Any, to_write: int, added_rows: list[Any]) -> str:
    """What an interrupted load wrote, and how to finish it without adding products twice."""
    result = stopped.result
    written = result.updated + len(result.added)
    message = (
        f"{stopped.reason}: {written:,} of the {to_write:,} products to write were written "
        f"({result.updated:,} updated, {len(result.added):,} added{_id_range(result.added)}), the rest not. "
    )
    again = [row.where for row in added_rows if row.product.sku is None]
    if not again:
        return message + "Load the file again to finish: its rows update what was written."
    span = again[0] if len(again) == 1 else f"{again[0]} to {again[-1]}"
    return message + (
        f"Rows with a sku are safe to load again (they update their product), but {_counted(len(again), 'row')} "
        f"without one ({span}) were added: remove them from the file before loading it again, or they are added twice."
    )


def _counted(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def seed_demo(args: argparse.Namespace) -> int:
    from shopctl.demo import DEMO_PRODUCT_COUNT, DEMO_USERS, seed_demo
    from shopctl.progress import ProgressBar

    bar = ProgressBar("adding demo products", DEMO_PRODUCT_COUNT)
    users, products = seed_demo(on_progress=bar.advance)
    if products:
        bar.finish()
    print(f"demo users created: {', '.join(users) or 'none (they exist)'}; demo products added: {products}")
    if not products:
        print("the catalogue was not empty, so no demo products were added")
    for user in DEMO_USERS:
        if user.username in users:
            print(f"  {user.username} / {user.password}{'  (staff)' if user.is_staff else ''}")
    return EXIT_OK


def _write_export(path: Path, text: str, *, secret: bool) -> None:
    """Write beside the target and rename, so a failed export never leaves half a backup in its
    place; a file with password hashes is readable by its owner only from its first byte."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if secret else 0o644)
        with open(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(partial, path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise CommandError(f"cannot write {path}: {error.strerror}", EXIT_FAILED) from error


def export(args: argparse.Namespace) -> int:
    from shopctl.backup import Counts, estimated_item_count, export_table
    from shopctl.progress import ProgressBar

    bar = ProgressBar("reading the table", estimated_item_count())
    document = export_table(include_password_hashes=args.include_password_hashes, on_progress=bar.advance)
    bar.finish()
    photos = _export_photo_files(args, document)
    text = json.dumps(document, indent=1) + "\n"
    if args.file == "-":
        sys.stdout.write(text)
    else:
        _write_export(Path(args.file), text, secret=args.include_password_hashes)
    counts = Counts(**document["counts"])
    print(f"exported {counts.describe()}{photos} from {args.where}", file=sys.stderr)
    if counts.users and not args.include_password_hashes:
        print(
            f"WARNING: password hashes were left out: restoring this file cannot restore the sign-ins of its "
            f"{_counted(counts.users, 'user')} (an import keeps the passwords of users the target table already "
            "has, and refuses to create users who could not sign in). For a full backup, export with "
            "--include-password-hashes and keep the file secret.",
            file=sys.stderr,
        )
    elif counts.users_who_cannot_sign_in:
        print(f"note: {_counted(counts.users_who_cannot_sign_in, 'user')} had no usable password already", file=sys.stderr)
    return EXIT_OK


def _images_bucket(args: argparse.Namespace) -> str | None:
    """The bucket of the photo files: --bucket, else the local store's; None with --table alone."""
    if args.bucket:
        return str(args.bucket)
    return None if args.table else local_store.IMAGES_BUCKET


def _export_photo_files(args: argparse.Namespace, document: dict[str, Any]) -> str:
    """Put the products' photo files in the export; what to add to the summary line."""
    from shopctl.photo_backup import photo_keys, read_files
    from shopctl.progress import ProgressBar

    keys = photo_keys([item for items in document["items"].values() for item in items])
    bucket = _images_bucket(args)
    if not keys:
        return ""
    if bucket is None:
        print(
            f"WARNING: the files of {_counted(len(keys), 'photo')} are not in this export (the products keep their "
            "keys only): give --bucket <the stack's ImagesBucket output> to include them.",
            file=sys.stderr,
        )
        return f" (without the files of {_counted(len(keys), 'photo')})"
    bar = ProgressBar("reading photo files", len(keys))
    files, missing = read_files(bucket, keys, bar.advance)
    bar.finish()
    document["files"] = files
    if missing:
        print(f"note: {_counted(len(missing), 'photo file')} missing from {bucket}: {_names(missing)}", file=sys.stderr)
    return f" and {_counted(len(files), 'photo file')}"


def _import_photo_files(args: argparse.Namespace, items: list[dict[str, Any]], files: dict[str, Any] | None) -> str:
    """Write the export's photo files back; what to add to the summary line. Says what is left out."""
    from shopctl.photo_backup import photo_keys, write_files
    from shopctl.progress import ProgressBar

    keys = photo_keys(items)
    if files is None:
        if keys:
            print(
                f"WARNING: {args.file} has no photo files: {_counted(len(keys), 'photo')} of its products will not be "
                "served until their files are uploaded again (export with a bucket to include them).",
                file=sys.stderr,
            )
        return ""
    bucket = _images_bucket(args)
    if bucket is None:
        print(
            f"WARNING: the {_counted(len(files), 'photo file')} of {args.file} were not restored: give --bucket <the "
            "stack's ImagesBucket output>.",
            file=sys.stderr,
        )
        return ""
    bar = ProgressBar("writing photo files", len(files))
    write_files(bucket, files, bar.advance)
    bar.finish()
    absent = [key for key in keys if key not in files]
    if absent:
        print(f"note: {_counted(len(absent), 'photo')} had no file in the export: {_names(absent)}", file=sys.stderr)
    return f" and {_counted(len(files), 'photo file')}"


def _names(usernames: list[str], shown: int = 10) -> str:
    more = f" and {len(usernames) - shown:,} more" if len(usernames) > shown else ""
    return ", ".join(usernames[:shown]) + more


def import_(args: argparse.Namespace) -> int:
    from shopctl.backup import (
        BackupError,
        Counts,
        TableContents,
        delete_items,
        estimated_item_count,
        import_items,
        keep_existing_password_hashes,
        read_export,
        read_keys_and_logins,
        table_is_empty,
    )
    from shopctl.progress import ProgressBar

    try:
        items, files = read_export(args.file.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise CommandError(f"no such file: {args.file}") from error
    except (OSError, UnicodeDecodeError) as error:
        raise CommandError(f"cannot read {args.file}: {error}") from error
    except BackupError as error:
        raise CommandError(f"{args.file}: {error}") from error
    table = TableContents()
    if not table_is_empty():
        if not args.replace:
            raise CommandError(
                "the table is not empty: import into an empty table, or add --replace to delete its data first", EXIT_FAILED
            )
        bar = ProgressBar("reading the table", estimated_item_count())
        table = read_keys_and_logins(bar.advance)
        bar.finish()
    sign_in = keep_existing_password_hashes(items, table.logins)
    if sign_in.locked_out and not args.allow_locked_out_users:
        raise CommandError(
            f"{args.file} has no password hash for {_counted(len(sign_in.locked_out), 'user')} "
            f"({_names(sign_in.locked_out)}) and the table has none to keep for them, so they could not sign in "
            "after the import. Nothing changed. Import a backup made with `export --include-password-hashes`, "
            "or add --allow-locked-out-users to import them anyway.",
            EXIT_FAILED,
        )
    if table.keys:
        confirm_replace(args, len(table.keys))
        bar = ProgressBar("deleting", len(table.keys))
        delete_items(table.keys, bar.advance)
        bar.finish()
    bar = ProgressBar("importing", len(items))
    try:
        import_items(items, bar.advance)
    except BackupError as error:
        raise CommandError(str(error), EXIT_FAILED) from error
    bar.finish()
    photos = _import_photo_files(args, items, files)
    print(f"imported {Counts.of(items).describe()}{photos} into {args.where}")
    if sign_in.kept:
        print(
            f"kept the table's password for {_counted(len(sign_in.kept), 'user')} the file has no hash for: "
            f"{_names(sign_in.kept)}",
            file=sys.stderr,
        )
    if sign_in.locked_out:
        print(
            f"WARNING: {_counted(len(sign_in.locked_out), 'user')} cannot sign in (no password hash in the file or "
            f"the table): {_names(sign_in.locked_out)}",
            file=sys.stderr,
        )
    return EXIT_OK


COMMANDS = {
    "create-user": create_user,
    "load-products": load_products,
    "seed-demo": seed_demo,
    "export": export,
    "import": import_,
}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        try:
            return _run(argv)
        finally:
            sys.stdout.flush()  # here, so that a closed pipe is handled below rather than at exit
    except BrokenPipeError:
        _discard_output()
        return EXIT_OUTPUT_CLOSED


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from botocore.exceptions import BotoCoreError, ClientError

    from shoplocal.template import put_layers_on_path

    put_layers_on_path()  # the layer, as Lambda has it
    where = "DynamoDB"
    try:
        where = args.where = _connect(args)
        return (getattr(args, "run", None) or COMMANDS[args.command])(args)
    except CommandError as error:
        print(f"shopctl: error: {error}", file=sys.stderr)
        return error.exit_code
    except ClientError as error:
        print(f"shopctl: error: {where}: {error}", file=sys.stderr)
        return EXIT_FAILED
    except BotoCoreError as error:
        print(f"shopctl: error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("shopctl: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _discard_output() -> None:
    """The reader of standard output has gone (`| head`): send what is still buffered nowhere,
    so that Python's own flush at exit does not fail again, and end quietly, as Unix tools do."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # standard output is not a file descriptor (captured in tests)
        pass


if __name__ == "__main__":
    sys.exit(main())
