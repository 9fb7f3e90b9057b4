"""`shopctl`: the shop's admin command, the counterpart of Django's `manage.py`.

It works on the local store `make run` serves (found on DB_PORT, default 8000, or --endpoint-url)
unless --table names a deployed table, which is reached with the usual AWS settings
(--profile/--region or AWS_PROFILE/AWS_REGION and the rest of the credential chain).
"""

import argparse
import getpass
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from shoplocal.store import local_store

MIN_PASSWORD_LENGTH = 8
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

_EPILOG = """\
examples:
  shopctl create-user alice --staff            # prompts for the password
  shopctl load-products catalogue.csv          # columns: name,description,price,quantity_in_stock
  shopctl export backup.json                   # password hashes left out unless asked for
  shopctl import backup.json --table shop-prod --profile prod --region eu-west-1
"""


class CommandError(Exception):
    """A problem the user can fix: printed as `shopctl: error: ...`, with a non-zero exit."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


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

    create = commands.add_parser("create-user", parents=[common], help="create an account (prompts for the password)")
    create.add_argument("username")
    create.add_argument("--password", help="the password (prompted for, unechoed, when left out)")
    create.add_argument("--email", default="", help="the account's email address (unique)")
    create.add_argument("--staff", action="store_true", help="make the account a staff account")

    load = commands.add_parser("load-products", parents=[common], help="add products from a CSV or JSON file")
    load.add_argument("file", type=Path, help="a .csv (header: name,description,price,quantity_in_stock) or .json file")

    commands.add_parser("seed-demo", parents=[common], help="add the demo users and catalogue (what `make run` starts with)")

    export = commands.add_parser("export", parents=[common], help="write every product, user and order to a JSON file")
    export.add_argument("file", help="the file to write, or - for standard output")
    export.add_argument(
        "--include-password-hashes", action="store_true", help="keep password hashes (treat the file as a secret)"
    )

    restore = commands.add_parser("import", parents=[common], help="load a file written by `shopctl export`")
    restore.add_argument("file", type=Path)
    restore.add_argument("--replace", action="store_true", help="delete everything in the table first (asks unless --yes)")
    restore.add_argument("--yes", action="store_true", help="do not ask before --replace deletes")
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


def _new_password(args: argparse.Namespace) -> str:
    password: str | None = args.password
    if password is None:
        if not sys.stdin.isatty():
            raise CommandError("no --password given and no terminal to ask on")
        password = getpass.getpass(f"Password for {args.username}: ")
        if getpass.getpass("Password (again): ") != password:
            raise CommandError("the passwords do not match")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise CommandError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters")
    return password


def create_user(args: argparse.Namespace) -> int:
    password = _new_password(args)
    username = args.username.strip()
    if not username or len(username) > 150:
        raise CommandError("the username must be 1 to 150 characters")
    from accounts import AccountExists
    from accounts import create_user as create_account

    try:
        user_id = create_account(username, password, email=args.email, is_staff=args.staff)
    except AccountExists as error:
        raise CommandError(str(error), EXIT_FAILED) from error
    kind = "staff user" if args.staff else "user"
    print(f"created {kind} {username} (id {user_id})")
    return EXIT_OK


def load_products(args: argparse.Namespace) -> int:
    from shopctl.product_files import ProductFileError, add_products_in_batches, read_products
    from shopctl.progress import ProgressBar

    try:
        parsed = read_products(args.file)
    except ProductFileError as error:
        raise CommandError(str(error)) from error
    for message in parsed.errors:
        print(message, file=sys.stderr)
    bar = ProgressBar("adding products", len(parsed.products))
    added = add_products_in_batches(parsed.products, bar.advance)
    bar.finish()
    ids = f" (ids {added[0].id}-{added[-1].id})" if added else ""
    print(f"added {len(added)} products{ids}; {len(parsed.errors)} rows rejected")
    return EXIT_FAILED if parsed.errors else EXIT_OK


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


def export(args: argparse.Namespace) -> int:
    from shopctl.backup import export_table

    document = export_table(include_password_hashes=args.include_password_hashes)
    text = json.dumps(document, indent=1, sort_keys=False) + "\n"
    if args.file == "-":
        sys.stdout.write(text)
    else:
        path = Path(args.file)
        try:
            path.write_text(text, encoding="utf-8")
            if args.include_password_hashes:
                path.chmod(0o600)
        except OSError as error:
            raise CommandError(f"cannot write {path}: {error.strerror}", EXIT_FAILED) from error
    counts = ", ".join(f"{count} {group}" for group, count in document["counts"].items() if count)
    print(f"exported {counts or 'nothing (the table is empty)'}", file=sys.stderr)
    return EXIT_OK


def import_(args: argparse.Namespace) -> int:
    from shopctl.backup import BackupError, delete_everything, import_items, items_of_export, table_is_empty
    from shopctl.progress import ProgressBar

    try:
        items = items_of_export(args.file.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise CommandError(f"no such file: {args.file}") from error
    except (OSError, UnicodeDecodeError) as error:
        raise CommandError(f"cannot read {args.file}: {error}") from error
    except BackupError as error:
        raise CommandError(f"{args.file}: {error}") from error
    if not table_is_empty():
        if not args.replace:
            raise CommandError("the table is not empty: import into an empty table, or add --replace to delete its data first")
        if not args.yes:
            if not sys.stdin.isatty():
                raise CommandError("--replace deletes everything in the table; add --yes to confirm")
            if input("Delete everything in the table first? [y/N] ").strip().lower() not in ("y", "yes"):
                raise CommandError("nothing changed", EXIT_FAILED)
        deleted = delete_everything(lambda _count: None)
        print(f"deleted {deleted} items", file=sys.stderr)
    bar = ProgressBar("importing", len(items))
    try:
        import_items(items, bar.advance)
    except BackupError as error:
        raise CommandError(str(error), EXIT_FAILED) from error
    bar.finish()
    print(f"imported {len(items)} items")
    return EXIT_OK


COMMANDS = {
    "create-user": create_user,
    "load-products": load_products,
    "seed-demo": seed_demo,
    "export": export,
    "import": import_,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from botocore.exceptions import BotoCoreError, ClientError

    from shoplocal.template import put_code_on_path

    put_code_on_path()  # the layer and the functions' modules, as Lambda has them
    where = "DynamoDB"
    try:
        where = _connect(args)
        return COMMANDS[args.command](args)
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
        return 130


if __name__ == "__main__":
    sys.exit(main())
