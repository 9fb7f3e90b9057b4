"""The Django app's data, made here: an SQLite file with its schema (the tables and columns of its
shipped db.sqlite3, as Django 4.0 created them) and the same data as `manage.py dumpdata` writes
it, with password hashes made by Django's own hasher.

The shop in them has what real data has: a deleted product (a part with a null product, its
name kept), an order part whose order is gone, an order without parts, prices that are not
whole cents as floats (0.1 + 0.2), a shared email, an inactive user with an unusable password,
a name of Django's maximum length, a zero quantity, a product twice in one order, an order whose
user is gone.
"""

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.contrib.auth.hashers import PBKDF2PasswordHasher  # type: ignore[import-untyped]

SCHEMA = (
    'CREATE TABLE "auth_user" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "password" varchar(128) NOT NULL, '
    '"last_login" datetime NULL, "is_superuser" bool NOT NULL, "username" varchar(150) NOT NULL UNIQUE, '
    '"last_name" varchar(150) NOT NULL, "email" varchar(254) NOT NULL, "is_staff" bool NOT NULL, '
    '"is_active" bool NOT NULL, "date_joined" datetime NOT NULL, "first_name" varchar(150) NOT NULL)',
    'CREATE TABLE "assignment_orders_product" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, '
    '"name" varchar(255) NOT NULL, "price" real NOT NULL, "quantity" integer unsigned NOT NULL CHECK ("quantity" >= 0))',
    'CREATE TABLE "assignment_orders_orderpart" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, '
    '"product_name" varchar(255) NOT NULL, "quantity_in_order" integer unsigned NOT NULL CHECK ("quantity_in_order" >= 0), '
    '"product_id" bigint NULL REFERENCES "assignment_orders_product" ("id") DEFERRABLE INITIALLY DEFERRED, '
    '"order_id" bigint NOT NULL REFERENCES "assignment_orders_order" ("id") DEFERRABLE INITIALLY DEFERRED)',
    'CREATE TABLE "assignment_orders_order" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, '
    '"user_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "created" datetime NOT NULL)',
)
DJANGO_4_0_ITERATIONS = 320_000  # what the shipped file's hashes use


def django_hash(password: str, iterations: int = DJANGO_4_0_ITERATIONS) -> str:
    hasher = PBKDF2PasswordHasher()
    return str(hasher.encode(password, hasher.salt(), iterations))


@dataclass(frozen=True)
class User:
    id: int
    username: str
    password: str  # the plain password (the files hold Django's hash of it)
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    is_staff: bool = False
    is_active: bool = True
    date_joined: datetime = datetime(2022, 3, 20, 21, 5, 25, 236750)  # naive UTC, as Django stores it


@dataclass(frozen=True)
class Product:
    id: int
    name: str
    price: float
    quantity: int


@dataclass(frozen=True)
class Order:
    id: int
    user_id: int
    created: datetime


@dataclass(frozen=True)
class Part:
    id: int
    order_id: int
    product_id: int | None
    product_name: str
    quantity_in_order: int


@dataclass(frozen=True)
class DjangoShop:
    users: list[User]
    products: list[Product]
    orders: list[Order]
    parts: list[Part]
    hashes: dict[int, str]  # user id -> Django's hash of the password


LONG_NAME = "Teapot " + "x" * 248  # 255 characters: Django's max_length


def sample_shop() -> DjangoShop:
    users = [
        User(3, "alice", "alice-old-password", "alice@example.com", "Alice", "Liddell"),
        User(7, "bob", "bob-old-password", "ALICE@example.com", is_staff=True, date_joined=datetime(2022, 3, 21, 8, 0)),
        User(9, "carol", "carol-old-password", is_active=False),
    ]
    products = [
        Product(1, "Teapot", 0.1 + 0.2, 5),  # stored as 0.30000000000000004
        Product(2, "Mug", 2.675, 0),  # sold out; the float is 2.67499999999999982236431605997495353221893310546875
        Product(4, LONG_NAME, 19.99, 3),
        Product(10, "Kettle", 16.0, 92),
        # product 3 was deleted: its part keeps the name, its product is null
    ]
    orders = [
        Order(5, 3, datetime(2022, 3, 24, 7, 17, 41, 610959)),
        Order(6, 3, datetime(2022, 3, 25, 10, 0, 0)),  # no microseconds: stored without them
        Order(8, 7, datetime(2022, 3, 26, 12, 30, 0, 5)),
        Order(11, 3, datetime(2022, 3, 27, 9, 0, 0, 1)),  # its parts were deleted
        Order(12, 99, datetime(2022, 3, 28, 9, 0, 0, 1)),  # its user is gone
    ]
    parts = [
        Part(1, 5, 1, "Teapot", 2),
        Part(2, 5, None, "Deleted kettle", 1),  # the product was deleted: SET_NULL
        Part(3, 6, 2, "Mug", 1),
        Part(4, 8, 4, LONG_NAME, 1),
        Part(5, 8, 10, "Kettle", 0),  # the Django app accepted zero quantities
        Part(6, 5, 1, "Teapot", 1),  # the same product twice in one order
        Part(7, 6, 3, "Old lamp", 1),  # a product id that no longer exists (not set to null)
        Part(99, 42, 1, "Teapot", 10),  # its order is gone
    ]
    # carol has Django's unusable password (set_unusable_password): she cannot sign in anywhere.
    hashes = {user.id: django_hash(user.password) for user in users if user.id != 9}
    hashes[9] = "!Tx5w2hD8kq3VnJ9yR4cL1mZpB6sG0aE"
    return DjangoShop(users, products, orders, parts, hashes)


def _sqlite_datetime(moment: datetime) -> str:
    return str(moment)  # as Django's SQLite backend stores a naive UTC datetime


def write_sqlite(path: Path, shop: DjangoShop) -> Path:
    connection = sqlite3.connect(path)
    with connection:
        for statement in SCHEMA:
            connection.execute(statement)
        connection.executemany(
            "INSERT INTO auth_user (id, password, last_login, is_superuser, username, last_name, email, is_staff, is_active, "
            "date_joined, first_name) VALUES (?, ?, NULL, 0, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    u.id,
                    shop.hashes[u.id],
                    u.username,
                    u.last_name,
                    u.email,
                    u.is_staff,
                    u.is_active,
                    _sqlite_datetime(u.date_joined),
                    u.first_name,
                )
                for u in shop.users
            ],
        )
        connection.executemany(
            "INSERT INTO assignment_orders_product (id, name, price, quantity) VALUES (?, ?, ?, ?)",
            [(p.id, p.name, p.price, p.quantity) for p in shop.products],
        )
        connection.executemany(
            "INSERT INTO assignment_orders_order (id, user_id, created) VALUES (?, ?, ?)",
            [(o.id, o.user_id, _sqlite_datetime(o.created)) for o in shop.orders],
        )
        connection.executemany(
            "INSERT INTO assignment_orders_orderpart (id, product_name, quantity_in_order, product_id, order_id)"
            " VALUES (?, ?, ?, ?, ?)",
            [(p.id, p.product_name, p.quantity_in_order, p.product_id, p.order_id) for p in shop.parts],
        )
    connection.close()
    return path


def _json_datetime(moment: datetime) -> str:
    """As Django's JSON encoder writes an aware UTC datetime: milliseconds at most, "Z"."""
    text = moment.isoformat()
    if moment.microsecond:
        text = text[:23]
    return text + "Z"


def dumpdata(shop: DjangoShop) -> list[dict[str, Any]]:
    """What `manage.py dumpdata auth.user assignment_orders` writes for the shop."""
    fixtures: list[dict[str, Any]] = [
        {
            "model": "auth.user",
            "pk": u.id,
            "fields": {
                "password": shop.hashes[u.id],
                "last_login": None,
                "is_superuser": False,
                "username": u.username,
                "first_name": u.first_name,
                "last_name": u.last_name,
                "email": u.email,
                "is_staff": u.is_staff,
                "is_active": u.is_active,
                "date_joined": _json_datetime(u.date_joined),
                "groups": [],
                "user_permissions": [],
            },
        }
        for u in shop.users
    ]
    fixtures += [
        {"model": "assignment_orders.product", "pk": p.id, "fields": {"name": p.name, "price": p.price, "quantity": p.quantity}}
        for p in shop.products
    ]
    fixtures += [
        {"model": "assignment_orders.order", "pk": o.id, "fields": {"user": o.user_id, "created": _json_datetime(o.created)}}
        for o in shop.orders
    ]
    fixtures += [
        {
            "model": "assignment_orders.orderpart",
            "pk": p.id,
            "fields": {
                "product_name": p.product_name,
                "quantity_in_order": p.quantity_in_order,
                "product": p.product_id,
                "order": p.order_id,
            },
        }
        for p in shop.parts
    ]
    return fixtures


def write_dumpdata(path: Path, shop: DjangoShop) -> Path:
    path.write_text(json.dumps(dumpdata(shop), indent=2), encoding="utf-8")
    return path
