"""Reading the Django app's data: its SQLite file, or `manage.py dumpdata auth.user
assignment_orders` (JSON fixtures: the way out of a PostgreSQL or MySQL deployment).

Both are read into the same plain records, field for field as the Django models have them
(`auth.User`; `assignment_orders.Product`, `Order`, `OrderPart`), and nothing else is assumed:
a file that is neither, or lacks a table, a column or a field the import needs, is refused with
the reason before anything is written. The SQLite file is opened read-only (`mode=ro` URI), so
a live app's database can be read in place.

Prices are floats in the Django app (`FloatField`, SQLite REAL). They are taken as the float's
shortest decimal representation, the digits Python and Django print for it (`repr`: 0.1 + 0.2
is stored as 0.30000000000000004), and rounded half-to-even to whole cents when planned
(`django_import.price_in_cents`). From JSON the number is read as its literal text, which is that
same representation, so both sources give the same price.
"""

import hashlib
import json
import math
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

SQLITE_MAGIC = b"SQLite format 3\x00"

# What the import reads of each model: the SQLite table, its columns (the first is the primary
# key) and the dumpdata model name. A foreign key is `<field>_id` in SQLite, `<field>` in JSON.
USERS = ("auth_user", "auth.user")
PRODUCTS = ("assignment_orders_product", "assignment_orders.product")
ORDERS = ("assignment_orders_order", "assignment_orders.order")
PARTS = ("assignment_orders_orderpart", "assignment_orders.orderpart")
COLUMNS: dict[str, tuple[str, ...]] = {
    USERS[0]: (
        "id",
        "password",
        "username",
        "first_name",
        "last_name",
        "email",
        "is_staff",
        "is_active",
        "is_superuser",
        "date_joined",
    ),
    PRODUCTS[0]: ("id", "name", "price", "quantity"),
    ORDERS[0]: ("id", "user_id", "created"),
    PARTS[0]: ("id", "product_name", "quantity_in_order", "product_id", "order_id"),
}
# Read when present (the original's author added it later).
OPTIONAL_COLUMNS = {PRODUCTS[0]: ("description",)}


class DjangoDataError(Exception):
    """The file is not the Django app's database or dump (or not readable as one)."""


@dataclass(frozen=True)
class DjangoUser:
    id: int
    username: str
    password: str  # Django's encoded hash, e.g. pbkdf2_sha256$320000$<salt>$<hash>
    first_name: str
    last_name: str
    email: str
    is_staff: bool
    is_active: bool
    is_superuser: bool
    date_joined: datetime  # UTC


@dataclass(frozen=True)
class DjangoProduct:
    id: int
    name: str
    price: Decimal  # the float's shortest representation, not rounded yet
    quantity: int
    description: str = ""


@dataclass(frozen=True)
class DjangoOrder:
    id: int
    user_id: int | None  # None: a username (natural key) of no user in the file
    created: datetime  # UTC


@dataclass(frozen=True)
class DjangoOrderPart:
    id: int
    order_id: int
    product_id: int | None  # None once the product was deleted (on_delete=SET_NULL)
    product_name: str
    quantity_in_order: int


@dataclass(frozen=True)
class DjangoData:
    kind: str  # "SQLite database" or "dumpdata JSON"
    users: list[DjangoUser]
    products: list[DjangoProduct]
    orders: list[DjangoOrder]
    parts: list[DjangoOrderPart]

    def fingerprint(self) -> str:
        """A digest of the records (not of the file's bytes, which change with every write to a
        live database): an import of the same data twice is recognised as such."""
        digest = hashlib.sha256()
        for group in (self.users, self.products, self.orders, self.parts):
            for record in group:
                digest.update(json.dumps(asdict(record), default=str, sort_keys=True).encode())
            digest.update(b"\x00")
        return digest.hexdigest()

    def describe(self) -> str:
        return (
            f"{_counted(len(self.users), 'user')}, {_counted(len(self.products), 'product')}, "
            f"{_counted(len(self.orders), 'order')} of {_counted(len(self.parts), 'part')}"
        )


def _counted(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def read_django_data(path: Path) -> DjangoData:
    """The records of a Django SQLite file or dumpdata JSON file, told apart by content."""
    try:
        with path.open("rb") as file:
            head = file.read(len(SQLITE_MAGIC))
    except FileNotFoundError as error:
        raise DjangoDataError(f"no such file: {path}") from error
    except OSError as error:
        raise DjangoDataError(f"cannot read {path}: {error.strerror}") from error
    if head == SQLITE_MAGIC:
        return _read_sqlite(path)
    return _read_dumpdata(path)


# --- SQLite ----------------------------------------------------------------------------------


def _read_sqlite(path: Path) -> DjangoData:
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise DjangoDataError(f"{path}: cannot open the SQLite database: {error}") from error
    try:
        present = _present_columns(connection, path)
        rows = {table: _rows(connection, table, present[table]) for table in COLUMNS}
    except sqlite3.Error as error:
        raise DjangoDataError(f"{path}: cannot read the SQLite database: {error}") from error
    finally:
        connection.close()
    return _records("SQLite database", rows, str(path))


def _present_columns(connection: sqlite3.Connection, path: Path) -> dict[str, tuple[str, ...]]:
    """The columns to read of each table, after checking that the file has what the import needs."""
    tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    missing_tables = [table for table in COLUMNS if table not in tables]
    if missing_tables:
        raise DjangoDataError(
            f"{path} is an SQLite database but not the Django app's: it has no table {', '.join(missing_tables)} "
            "(expected auth_user and the assignment_orders tables)"
        )
    present: dict[str, tuple[str, ...]] = {}
    for table, needed in COLUMNS.items():
        columns = {row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')}
        missing = [column for column in needed if column not in columns]
        if missing:
            raise DjangoDataError(f"{path}: table {table} has no column {', '.join(missing)}")
        present[table] = needed + tuple(c for c in OPTIONAL_COLUMNS.get(table, ()) if c in columns)
    return present


def _rows(connection: sqlite3.Connection, table: str, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    names = ", ".join(f'"{column}"' for column in columns)
    cursor = connection.execute(f'SELECT {names} FROM "{table}" ORDER BY "{columns[0]}"')  # noqa: S608 - names checked above
    return [dict(zip(columns, row, strict=True)) for row in cursor]


# --- dumpdata JSON ---------------------------------------------------------------------------


def _read_dumpdata(path: Path) -> DjangoData:
    try:
        text = path.read_text(encoding="utf-8")
        # Prices keep the digits Django wrote: a float's shortest representation.
        document = json.loads(text, parse_float=Decimal)
    except UnicodeDecodeError as error:
        raise DjangoDataError(f"{path} is neither an SQLite database nor a dumpdata JSON file (not UTF-8 text)") from error
    except json.JSONDecodeError as error:
        raise DjangoDataError(
            f"{path} is neither an SQLite database nor a dumpdata JSON file "
            f"(not valid JSON: {error.msg} at line {error.lineno}, column {error.colno})"
        ) from error
    except RecursionError as error:
        raise DjangoDataError(f"{path}: not a dumpdata JSON file (nested too deeply)") from error
    except OSError as error:
        raise DjangoDataError(f"cannot read {path}: {error.strerror}") from error
    wanted = {USERS[1]: USERS[0], PRODUCTS[1]: PRODUCTS[0], ORDERS[1]: ORDERS[0], PARTS[1]: PARTS[0]}
    if not isinstance(document, list) or not all(isinstance(entry, dict) for entry in document):
        raise DjangoDataError(f"{path}: not a dumpdata JSON file (expected a list of objects with model, pk and fields)")
    rows: dict[str, list[dict[str, Any]]] = {table: [] for table in COLUMNS}
    for position, entry in enumerate(document, start=1):
        table = wanted.get(str(entry.get("model", "")).lower())
        if table is None:
            continue  # another model (contenttypes, sessions...): not part of the shop's data
        fields = entry.get("fields")
        if not isinstance(fields, dict) or "pk" not in entry:
            raise DjangoDataError(f"{path}: object {position} ({entry.get('model')}) has no pk or no fields")
        rows[table].append(_row_of_fixture(path, position, table, entry["pk"], fields))
    if not any(rows.values()):
        raise DjangoDataError(
            f"{path} holds no {', '.join(wanted)} objects: make it with "
            "`python manage.py dumpdata auth.user assignment_orders --indent 2 > dump.json`"
        )
    for table_rows in rows.values():
        table_rows.sort(key=lambda row: _sort_key(row["id"]))
    return _records("dumpdata JSON", rows, str(path))


def _sort_key(value: Any) -> tuple[int, str]:
    return (value, "") if isinstance(value, int) and not isinstance(value, bool) else (0, str(value))


def _row_of_fixture(path: Path, position: int, table: str, pk: Any, fields: Mapping[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"id": pk}
    for column in COLUMNS[table][1:] + OPTIONAL_COLUMNS.get(table, ()):
        field = column.removesuffix("_id") if column.endswith("_id") else column
        if field not in fields:
            if column in OPTIONAL_COLUMNS.get(table, ()):
                continue
            raise DjangoDataError(f"{path}: object {position} ({table.replace('_', '.', 1)} {pk}) has no field {field!r}")
        value = fields[field]
        if table == ORDERS[0] and field == "user" and isinstance(value, list):
            value = ("natural", value[0] if value else None)  # dumped with --natural-foreign: [username]
        row[column] = value
    return row


# --- records ---------------------------------------------------------------------------------


class _Row:
    """One row, read field by field; a bad value names the table, the row and the field."""

    def __init__(self, source: str, table: str, values: Mapping[str, Any]) -> None:
        self.source, self.table, self.values = source, table, values

    def fail(self, column: str, expected: str) -> DjangoDataError:
        return DjangoDataError(
            f"{self.source}: {self.table} row {self.values.get('id')!r}: {column} is {self.values.get(column)!r}, not {expected}"
        )

    def integer(self, column: str) -> int:
        value = self.values.get(column)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(column, "an integer")
        return value

    def optional_integer(self, column: str) -> int | None:
        return None if self.values.get(column) is None else self.integer(column)

    def text(self, column: str) -> str:
        value = self.values.get(column)
        if not isinstance(value, str):
            raise self.fail(column, "text")
        return value

    def flag(self, column: str) -> bool:
        value = self.values.get(column)
        if value not in (0, 1):  # SQLite's 0/1, JSON's false/true (bool is an int)
            raise self.fail(column, "a boolean")
        return bool(value)

    def number(self, column: str) -> Decimal:
        value = self.values.get(column)
        try:
            if isinstance(value, bool):
                raise InvalidOperation
            if isinstance(value, float):
                if not math.isfinite(value):
                    raise InvalidOperation
                return Decimal(repr(value))
            if isinstance(value, int | Decimal):
                number = Decimal(value)
                if number.is_finite():
                    return number
        except InvalidOperation:
            pass
        raise self.fail(column, "a finite number")

    def moment(self, column: str) -> datetime:
        """A datetime as Django stores it: naive UTC in SQLite ("2022-03-24 07:17:41.610959"),
        ISO 8601 with "Z" or an offset in JSON; a naive one (USE_TZ = False) is taken as UTC."""
        value = self.values.get(column)
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00")) if isinstance(value, str) else None
        except ValueError:
            moment = None
        if moment is None:
            raise self.fail(column, "a date and time")
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _records(kind: str, rows: Mapping[str, Iterable[Mapping[str, Any]]], source: str) -> DjangoData:
    def each(table: str) -> Iterable[_Row]:
        return (_Row(source, table, values) for values in rows[table])

    users = [
        DjangoUser(
            id=row.integer("id"),
            username=row.text("username"),
            password=row.text("password"),
            first_name=row.text("first_name"),
            last_name=row.text("last_name"),
            email=row.text("email"),
            is_staff=row.flag("is_staff"),
            is_active=row.flag("is_active"),
            is_superuser=row.flag("is_superuser"),
            date_joined=row.moment("date_joined"),
        )
        for row in each(USERS[0])
    ]
    by_username = {user.username: user.id for user in users}
    products = [
        DjangoProduct(
            id=row.integer("id"),
            name=row.text("name"),
            price=row.number("price"),
            quantity=row.integer("quantity"),
            description=row.text("description") if row.values.get("description") is not None else "",
        )
        for row in each(PRODUCTS[0])
    ]
    orders = []
    for row in each(ORDERS[0]):
        user = row.values.get("user_id")
        user_id = by_username.get(str(user[1])) if isinstance(user, tuple) else row.integer("user_id")  # tuple: a username
        orders.append(DjangoOrder(id=row.integer("id"), user_id=user_id, created=row.moment("created")))
    parts = [
        DjangoOrderPart(
            id=row.integer("id"),
            order_id=row.integer("order_id"),
            product_id=row.optional_integer("product_id"),
            product_name=row.text("product_name"),
            quantity_in_order=row.integer("quantity_in_order"),
        )
        for row in each(PARTS[0])
    ]
    return DjangoData(kind, users, products, orders, parts)
