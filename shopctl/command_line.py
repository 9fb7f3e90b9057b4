"""What every `shopctl` command shares with the parser in `cli.py`: the exit statuses, the error a
user can fix, and the questions a command asks on a terminal. Commands import this, never
`cli.py`, which imports the commands: so no import goes both ways."""

import argparse
import getpass
import sys

MIN_PASSWORD_LENGTH = 8
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED, EXIT_OUTPUT_CLOSED = 130, 141  # as a shell reports SIGINT and SIGPIPE


class CommandError(Exception):
    """A problem the user can fix: printed as `shopctl: error: ...`, with a non-zero exit."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def new_password(args: argparse.Namespace) -> str:
    password: str | None = args.password
    if args.password_stdin:
        line = sys.stdin.readline()
        password = line.removesuffix("\n").removesuffix("\r")
        if not line:
            raise CommandError("--password-stdin: standard input is empty")
    if password is None:
        if not sys.stdin.isatty():
            raise CommandError("no password: give --password-stdin (and pipe the password in), or run on a terminal to be asked")
        password = getpass.getpass(f"Password for {args.username}: ")
        if getpass.getpass("Password (again): ") != password:
            raise CommandError("the passwords do not match")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise CommandError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters")
    return password


def confirm_replace(args: argparse.Namespace, item_count: int) -> None:
    """Deleting what the table holds first: confirmed by --yes, or asked on a terminal."""
    if args.yes:
        return
    if not sys.stdin.isatty():
        raise CommandError("--replace deletes everything in the table; add --yes to confirm")
    answer = input(f"Delete the {item_count:,} items in {args.where} first? [y/N] ")
    if answer.strip().lower() not in ("y", "yes"):
        raise CommandError("nothing changed", EXIT_FAILED)
