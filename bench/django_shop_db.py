"""A Django shop's database of any size, as a team moving off the original app would bring it:
SQLite with the original's tables (`auth_user`, `assignment_orders_product`,
`assignment_orders_order`, `assignment_orders_orderpart`, and `django_migrations`), filled with
deterministic, realistic data: product names such as "Smoked Walnut Espresso Cups, set of 4",
prices as REAL, stocks (some sold out), users with Django password hashes, orders spread over
the users and four years, 1-4 parts each, with product names as they were when ordered and a
few parts whose product was since deleted (`product_id` NULL), as real data has.

    python bench/django_shop_db.py shop.sqlite3 --products 50000 --orders 200000 [--users 2000]

The same arguments always give the same file (seeded). Every user's password is
`PASSWORD` below (one PBKDF2 hash, computed once: 320,000 iterations each would take minutes).
"""

import argparse
import base64
import hashlib
import random
import sqlite3
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

PASSWORD = "bench-password"  # noqa: S105 - the generated users' password, for load drivers
DJANGO_ITERATIONS = 320_000  # Django 4.0's PBKDF2 iterations, as the original's hashes carry

# The original's tables, as its migrations create them (Django 4.0, SQLite).
SCHEMA = """
CREATE TABLE "django_migrations" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "app" varchar(255) NOT NULL,
    "name" varchar(255) NOT NULL, "applied" datetime NOT NULL);
CREATE TABLE "auth_user" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "password" varchar(128) NOT NULL,
    "last_login" datetime NULL, "is_superuser" bool NOT NULL, "username" varchar(150) NOT NULL UNIQUE,
    "last_name" varchar(150) NOT NULL, "email" varchar(254) NOT NULL, "is_staff" bool NOT NULL,
    "is_active" bool NOT NULL, "date_joined" datetime NOT NULL, "first_name" varchar(150) NOT NULL);
CREATE TABLE "assignment_orders_product" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" varchar(255) NOT NULL, "price" real NOT NULL, "quantity" integer unsigned NOT NULL CHECK ("quantity" >= 0));
CREATE TABLE "assignment_orders_order" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "user_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "created" datetime NOT NULL);
CREATE TABLE "assignment_orders_orderpart" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "product_name" varchar(255) NOT NULL, "quantity_in_order" integer unsigned NOT NULL CHECK ("quantity_in_order" >= 0),
    "product_id" bigint NULL REFERENCES "assignment_orders_product" ("id") DEFERRABLE INITIALLY DEFERRED,
    "order_id" bigint NOT NULL REFERENCES "assignment_orders_order" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE INDEX "assignment_orders_order_user_id_9233e3e2" ON "assignment_orders_order" ("user_id");
CREATE INDEX "assignment_orders_orderpart_product_id_533cfb8a" ON "assignment_orders_orderpart" ("product_id");
CREATE INDEX "assignment_orders_orderpart_order_id_44f0aec3" ON "assignment_orders_orderpart" ("order_id");
"""
MIGRATIONS = [
    ("contenttypes", "0001_initial"),
    ("auth", "0001_initial"),
    ("auth", "0012_alter_user_first_name_max_length"),
    ("assignment_orders", "0001_initial"),
    ("assignment_orders", "0002_alter_product_quantity"),
]

# A shop's vocabulary: quality, material or flavour, thing, and sometimes a pack size.
QUALITIES = [
    "Organic", "Handmade", "Vintage", "Classic", "Smoked", "Rustic", "Premium", "Everyday", "Nordic",
    "Artisan", "Large", "Small", "Travel", "Heritage", "Wild", "Dark", "Light", "Stoneware", "Recycled", "Crème",
]  # fmt: skip
MATERIALS = [
    "Walnut", "Oak", "Linen", "Cotton", "Wool", "Ceramic", "Copper", "Brass", "Cedar", "Bamboo", "Leather",
    "Porcelain", "Glass", "Enamel", "Marble", "Lavender", "Vanilla", "Espresso", "Earl Grey", "Sea Salt",
    "Honey", "Cinnamon", "Olive", "Rosemary", "Chili", "Lemon", "Hazelnut", "Matcha", "Cocoa", "Fig",
]  # fmt: skip
THINGS = [
    "Mug", "Teapot", "Candle", "Notebook", "Scarf", "Blanket", "Cutting Board", "Serving Bowl", "Coffee Beans",
    "Tea Tin", "Chocolate Bar", "Olive Oil", "Jam", "Biscuits", "Soap", "Hand Cream", "Apron", "Tote Bag",
    "Desk Lamp", "Vase", "Plate", "Espresso Cups", "Salad Servers", "Pepper Mill", "Honey Jar", "Cheese Knife",
    "Tea Towel", "Pillow Cover", "Wall Clock", "Picture Frame", "Bread Basket", "Water Bottle", "Lunch Box",
    "Granola", "Pasta", "Hot Sauce", "Spice Blend", "Caramels", "Shortbread", "Planter",
]  # fmt: skip
PACKS = ["", "", "", "", ", set of 2", ", set of 4", ", 250 g", ", 500 g", ", 1 kg", " (gift box)"]
FIRST_NAMES = ["Anna", "Ben", "Chloé", "David", "Elif", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kira", "Liam", "Maya", "Noah"]
LAST_NAMES = ["Smith", "Müller", "García", "Rossi", "Novak", "Kowalski", "Dubois", "Jensen", "Silva", "Okafor", "Tanaka"]
EPOCH = datetime(2022, 1, 1, tzinfo=UTC)


def product_name(rng: random.Random) -> str:
    quality = rng.choice(QUALITIES) + " " if rng.random() < 0.7 else ""
    return f"{quality}{rng.choice(MATERIALS)} {rng.choice(THINGS)}{rng.choice(PACKS)}"


def django_password_hash(password: str, salt: str) -> str:
    """Django's `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>`."""
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), DJANGO_ITERATIONS)
    return f"pbkdf2_sha256${DJANGO_ITERATIONS}${salt}${base64.b64encode(digest).decode()}"


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")  # Django's SQLite datetime text, UTC


def generate(path: Path, products: int, orders: int, users: int, seed: int = 2022) -> None:
    """Write the database (replacing `path`): deterministic for the same arguments."""
    rng = random.Random(seed)
    path.unlink(missing_ok=True)
    database = sqlite3.connect(path)
    database.executescript(SCHEMA)
    database.executemany(
        "INSERT INTO django_migrations (app, name, applied) VALUES (?, ?, ?)",
        [(app, name, _timestamp(EPOCH)) for app, name in MIGRATIONS],
    )
    password = django_password_hash(PASSWORD, "benchsalt2022")
    user_rows = []
    for user_id in range(1, users + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        joined = EPOCH + timedelta(seconds=rng.randrange(0, 3 * 365 * 86400))
        username = f"{first.lower()}.{last.lower()}{user_id}"
        email = f"{username}@example.com" if rng.random() < 0.9 else ""
        staff = user_id == 1
        user_rows.append((user_id, password, None, staff, username, last, email, staff, True, _timestamp(joined), first))
    database.executemany("INSERT INTO auth_user VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", user_rows)

    names: list[str] = []
    product_rows = []
    for product_id in range(1, products + 1):
        name = product_name(rng)
        names.append(name)
        # Prices as the original stored them: REAL, mostly round-ish, 0.99 to ~250.
        price = round(
            rng.choice([0.99, 1.5, 2.99, 4.5, 9.99, 12.0, 19.9, 24.99, 49.0, 89.5, 129.0, 249.0]) * rng.uniform(0.5, 1.5), 2
        )
        stock = 0 if rng.random() < 0.1 else rng.choice([rng.randint(1, 5), rng.randint(10, 500), rng.randint(500, 5000)])
        product_rows.append((product_id, name, max(price, 0.5), stock))
    database.executemany("INSERT INTO assignment_orders_product VALUES (?, ?, ?, ?)", product_rows)

    # Orders over four years, more recent ones more frequent; a few customers order a lot.
    span = 4 * 365 * 86400
    order_rows, part_rows = [], []
    part_id = 0
    weights = [1 / (rank + 1) ** 0.8 for rank in range(users)]
    customers = rng.choices(range(1, users + 1), weights=weights, k=orders)
    moments = sorted(span * rng.random() ** 0.7 for _ in range(orders))
    for order_id in range(1, orders + 1):
        order_rows.append((order_id, customers[order_id - 1], _timestamp(EPOCH + timedelta(seconds=moments[order_id - 1]))))
        for product_id in rng.sample(range(1, products + 1), k=min(products, rng.choice([1, 1, 1, 2, 2, 3, 4]))):
            part_id += 1
            deleted = rng.random() < 0.002  # the product was deleted since: Django's SET_NULL
            part_rows.append(
                (part_id, names[product_id - 1], rng.choice([1, 1, 1, 2, 3, 5]), None if deleted else product_id, order_id)
            )
    database.executemany("INSERT INTO assignment_orders_order VALUES (?, ?, ?)", order_rows)
    database.executemany("INSERT INTO assignment_orders_orderpart VALUES (?, ?, ?, ?, ?)", part_rows)
    database.commit()
    database.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", type=Path, help="the SQLite file to write (replaced)")
    parser.add_argument("--products", type=int, default=50_000)
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--users", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=2022)
    args = parser.parse_args()
    started = time.perf_counter()
    generate(args.path, args.products, args.orders, args.users, args.seed)
    print(
        f"wrote {args.path}: {args.products:,} products, {args.orders:,} orders, {args.users:,} users "
        f"(password {PASSWORD!r}) in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
