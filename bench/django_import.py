"""Bring a Django shop database (the original app's tables, e.g. from `django_shop_db.py`) into
the local store of a running `make run`: the one load step of the scale benchmark.

    python bench/django_import.py shop.sqlite3 --endpoint-url http://127.0.0.1:8000

`import_django_database` is the only function the benchmark calls. Until `shopctl
import-django` exists, it writes the items the shop's own code builds (products with their word
items and counters, users with their Django hashes, orders with their id guards) with
BatchWriteItem, products and users under new ids (the demo data is there already), order parts
pointing at them; when the importer lands, this function becomes a call of it.
"""

import argparse
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from shoplocal.store import local_store  # noqa: E402 - after the path is set
from shoplocal.template import put_code_on_path  # noqa: E402

put_code_on_path()

BATCH = 25  # BatchWriteItem's limit
WRITERS = 4  # concurrent batches: the store applies them one at a time, the encoding overlaps


def _cents(price: float) -> Decimal:
    return Decimal(str(price)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _write_items(items: Iterator[dict[str, Any]], label: str) -> int:
    """Every item, in batches from WRITERS threads; returns how many."""
    from shop_common import settings
    from shop_common.dynamo import client

    table = settings.table_name()
    lock = threading.Lock()
    written = [0]
    started = time.perf_counter()

    def next_batch() -> list[dict[str, Any]]:
        with lock:
            return [item for _, item in zip(range(BATCH), items, strict=False)]

    def writer() -> None:
        while batch := next_batch():
            request: Any = {table: [{"PutRequest": {"Item": item}} for item in batch]}
            while request:
                request = client().batch_write_item(RequestItems=request).get("UnprocessedItems") or None
            with lock:
                written[0] += len(batch)
                if written[0] % 20_000 < BATCH:
                    print(f"  {label}: {written[0]:,} items, {time.perf_counter() - started:.0f} s", file=sys.stderr)

    threads = [threading.Thread(target=writer) for _ in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return written[0]


def _import_products(database: sqlite3.Connection) -> dict[int, tuple[int, str, Decimal]]:
    """Products under new ids: old id -> (new id, name, price)."""
    from shop_common import catalog
    from shop_common.dynamo import client
    from shop_common.models import Product

    rows = database.execute("SELECT id, name, price, quantity FROM assignment_orders_product ORDER BY id").fetchall()
    first_id = catalog._allocate_ids(len(rows))
    products = [
        Product(id=first_id + number, name=name.strip() or f"Product {old_id}", price=_cents(price), quantity_in_stock=quantity)
        for number, (old_id, name, price, quantity) in enumerate(rows)
    ]

    def items() -> Iterator[dict[str, Any]]:
        for start in range(0, len(products), 50):
            for write in catalog.new_product_writes(products[start : start + 50]):
                if "Put" in write:
                    yield dict(write["Put"]["Item"])

    _write_items(items(), "products")
    for start in range(0, len(products), 5_000):
        for update in catalog._counter_updates(products[start : start + 5_000], +1):
            client().update_item(**dict(update["Update"]))  # type: ignore[arg-type]
    return {old_id: (product.id, product.name, product.price) for (old_id, *_), product in zip(rows, products, strict=True)}


def _import_users(database: sqlite3.Connection) -> dict[int, int]:
    """Users with their Django password hashes: old id -> new id."""
    from accounts import AccountExists, create_user

    mapping: dict[int, int] = {}
    rows = database.execute("SELECT id, username, password, email, first_name, last_name, is_staff FROM auth_user ORDER BY id")
    for old_id, username, password_hash, email, first_name, last_name, is_staff in rows:
        try:
            mapping[old_id] = create_user(
                username,
                password_hash=password_hash,
                email=email,
                first_name=first_name,
                last_name=last_name,
                is_staff=bool(is_staff),
            )
        except AccountExists:
            continue  # a name the demo data holds already: that user's orders are left out
    return mapping


def _import_orders(database: sqlite3.Connection, products: dict[int, tuple[int, str, Decimal]], users: dict[int, int]) -> int:
    from order_models import Order, OrderPart
    from order_store import _order_item
    from shop_common.dynamo import to_attributes

    parts: dict[int, list[tuple[str, int, int | None]]] = {}
    for name, quantity, product_id, order_id in database.execute(
        "SELECT product_name, quantity_in_order, product_id, order_id FROM assignment_orders_orderpart ORDER BY id"
    ):
        parts.setdefault(order_id, []).append((name, quantity, product_id))

    orders = database.execute("SELECT id, user_id, created FROM assignment_orders_order ORDER BY id").fetchall()

    def items() -> Iterator[dict[str, Any]]:
        for order_id, user_id, created in orders:
            lines = [
                (name, quantity, product)
                for name, quantity, product in parts.get(order_id, [])
                if product in products and quantity > 0
            ]
            if user_id not in users or not lines:
                continue
            order_parts = []
            for name, quantity, product_id in lines:
                assert product_id is not None
                unit_price = products[product_id][2]
                order_parts.append(
                    OrderPart(
                        product=products[product_id][0],
                        quantity_in_order=quantity,
                        product_name=name,
                        unit_price=f"{unit_price:.2f}",
                        line_total=f"{unit_price * quantity:.2f}",
                        discount="0.00",
                    )
                )
            total = f"{sum(Decimal(part.line_total or 0) for part in order_parts):.2f}"
            order = Order(
                id=order_id,
                parts=order_parts,
                created=created.replace(" ", "T") + "Z",
                user=users[user_id],
                subtotal=total,
                discount_total="0.00",
                total=total,
                currency="EUR",
            )
            yield _order_item(order, [])
            yield to_attributes({"PK": f"ORDER#{order.id}", "SK": "ORDER", "user": order.user})

    return _write_items(items(), "orders") // 2


def import_django_database(sqlite_path: Path, endpoint_url: str) -> dict[str, int]:
    """The load step: everything in the Django database into the store at `endpoint_url`.
    Returns what was written. (At the merge of `shopctl import-django`: run that instead.)"""
    local_store.use_local_store(endpoint_url)
    database = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    try:
        products = _import_products(database)
        users = _import_users(database)
        orders = _import_orders(database, products, users)
    finally:
        database.close()
    return {"products": len(products), "users": len(users), "orders": orders}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("database", type=Path, help="the Django SQLite file")
    parser.add_argument("--endpoint-url", default=local_store.endpoint_url(), help="the local store (default %(default)s)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    counts = import_django_database(args.database, args.endpoint_url)
    print(f"imported {counts} in {time.perf_counter() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
