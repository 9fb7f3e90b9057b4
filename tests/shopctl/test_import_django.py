"""`shopctl import-django`: the Django app's data moves over, its users sign in with their old
passwords and see their orders through the API; re-running changes nothing; bad files and busy
tables are refused with nothing written."""

import json
import sqlite3
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import TABLE_NAME, bearer
from django_app_data import LONG_NAME, DjangoShop, django_hash, sample_shop, write_dumpdata, write_sqlite
from shopctl_helpers import can_sign_in, listing, shopctl
from shoplocal.gateway.invoke import LocalApi

pytestmark = pytest.mark.usefixtures("restore_environment")


# The API's product JSON, read in one place: the Django app's shape (`quantity`, `price` a number).
def stock_of(product: dict[str, Any]) -> int:
    stock = product["quantity"]
    assert isinstance(stock, int)
    return stock


def price_of(product: dict[str, Any]) -> Decimal:
    price = product["price"]
    assert isinstance(price, int | float), "the Django app's clients parse a JSON number"
    return Decimal(str(price))


@pytest.fixture(scope="module")
def shop() -> DjangoShop:
    return sample_shop()  # Django's hasher at 320,000 iterations: made once


@pytest.fixture
def django_db(tmp_path: Path, shop: DjangoShop) -> Path:
    return write_sqlite(tmp_path / "db.sqlite3", shop)


def table_items() -> list[dict[str, Any]]:
    from shopctl.backup import scan_pages

    items = [item for page in scan_pages() for item in page]
    return sorted(items, key=lambda item: (item["PK"]["S"], item["SK"]["S"]))


def sign_in(api: LocalApi, username: str, password: str) -> dict[str, str]:
    reply = api.request("POST", "/api/auth", json_body={"username": username, "password": password})
    assert reply.status == 200, reply.json()
    return bearer(reply.json()["access"])


def check_lines(out: str) -> set[str]:
    """The lines of the import's self-check, spaces collapsed."""
    return {" ".join(line.split()) for line in out.splitlines() if line.startswith("  ")}


def original_parts(order: dict[str, Any]) -> list[dict[str, Any]]:
    """An order's parts with the keys the Django app showed."""
    return [{key: part[key] for key in ("product", "quantity_in_order", "product_name")} for part in order["parts"]]


# --- the import, seen through the API -------------------------------------------------------


def test_imported_users_sign_in_with_their_old_passwords_and_see_their_orders(
    api: LocalApi, django_db: Path, shop: DjangoShop, capsys: pytest.CaptureFixture[str]
) -> None:
    assert shopctl("import-django", str(django_db)) == 0
    out, err = capsys.readouterr()
    assert "read db.sqlite3 (SQLite database): 3 users, 4 products, 5 orders of 8 parts" in out
    assert f"importing [{'#' * 30}] 11/11 (100%)" in err
    assert "imported 3 users, 4 products (stock 100), 4 orders of 7 parts" in out
    assert "note: skipped 1 order part whose order no longer exists: part 99 of order 42 (Teapot x 10)" in out
    assert "note: skipped 1 order whose user no longer exists: order 12 of user 99" in out
    assert "note: 1 order part named a product that no longer exists: imported with a null product" in out
    assert "note: 1 order without parts imported as they are (orders 11)" in out
    assert "note: 1 user imported without an email, which another user has (emails are unique here): bob" in out
    assert "note: 1 user cannot sign in until given a password (`shopctl set-password`)" in out
    assert "note: 2 prices had more than two decimal places and were rounded half to even to cents: " in out
    assert "product 1 0.30000000000000004 -> 0.30; product 2 2.675 -> 2.68" in out
    assert "DIFFERS" not in out
    assert "units ordered 7 ok" in check_lines(out)
    assert "new product ids start at 11, new user ids at 10" in out

    alice = sign_in(api, "alice", "alice-old-password")
    assert not can_sign_in(api, "alice", "alice-new-password")
    bob = sign_in(api, "bob", "bob-old-password")  # staff in Django: staff here
    carol = api.request("GET", "/api/users", query_string="prefix=carol", headers=bob).json()["results"]
    assert [(user["id"], user["is_active"]) for user in carol] == [(9, False)]  # inactive in Django: inactive here
    me = api.request("GET", "/api/me", headers=alice).json()
    assert {key: me[key] for key in ("id", "username", "email", "first_name", "last_name", "is_staff")} == {
        "id": 3,
        "username": "alice",
        "email": "alice@example.com",
        "first_name": "Alice",
        "last_name": "Liddell",
        "is_staff": False,
    }
    assert me["date_joined"] == "2022-03-20T21:05:25.236750+00:00"

    products = listing(api)
    assert products["count"] == 4
    assert [(p["id"], p["name"], price_of(p), stock_of(p)) for p in products["results"]] == [
        (1, "Teapot", Decimal("0.30"), 5),  # 0.1 + 0.2
        (2, "Mug", Decimal("2.68"), 0),  # 2.675, half to even
        (4, LONG_NAME, Decimal("19.99"), 3),
        (10, "Kettle", Decimal("16.00"), 92),
    ]
    assert [p["id"] for p in listing(api, "in_stock=true")["results"]] == [1, 4, 10]
    assert [p["id"] for p in listing(api, "search=teapot")["results"]] == [1, 4]

    mine = api.request("GET", "/api/my-orders", headers=alice).json()
    assert [order["id"] for order in mine] == [11, 6, 5]
    by_id = {order["id"]: order for order in mine}
    assert by_id[5]["created"] == "2022-03-24T07:17:41.610959Z"
    assert by_id[5]["user"] == 3
    assert original_parts(by_id[5]) == [
        {"product": 1, "quantity_in_order": 2, "product_name": "Teapot"},
        {"product": None, "quantity_in_order": 1, "product_name": "Deleted kettle"},
        {"product": 1, "quantity_in_order": 1, "product_name": "Teapot"},
    ]
    assert by_id[6]["created"] == "2022-03-25T10:00:00.000000Z"
    assert original_parts(by_id[6]) == [
        {"product": 2, "quantity_in_order": 1, "product_name": "Mug"},
        {"product": None, "quantity_in_order": 1, "product_name": "Old lamp"},
    ]
    assert by_id[11]["parts"] == []
    assert api.request("GET", "/api/orders/5", headers=alice).json() == by_id[5]
    bobs = api.request("GET", "/api/my-orders", headers=bob).json()
    assert [(order["id"], original_parts(order)) for order in bobs] == [
        (
            8,
            [
                {"product": 4, "quantity_in_order": 1, "product_name": LONG_NAME},
                {"product": 10, "quantity_in_order": 0, "product_name": "Kettle"},
            ],
        )
    ]


def test_the_shop_carries_on_after_the_import_without_id_collisions(api: LocalApi, django_db: Path) -> None:
    assert shopctl("import-django", str(django_db)) == 0
    bob = sign_in(api, "bob", "bob-old-password")
    created = api.request("POST", "/api/products", json_body={"name": "Cup", "price": "3.00", "quantity": 4}, headers=bob)
    assert created.status == 201
    assert created.json()["id"] == 11
    signed_up = api.request("POST", "/api/register", json_body={"username": "dave", "password": "a long new password"})
    assert signed_up.status == 201
    assert signed_up.json()["id"] == 10

    # A new order of an imported customer lists first; staff see the imported ones too.
    alice = sign_in(api, "alice", "alice-old-password")
    placed = api.request("POST", "/api/order", json_body={"parts": [{"product": 1, "quantity_in_order": 1}]}, headers=alice)
    assert placed.status == 201
    assert placed.json()["id"] > 11
    assert [order["id"] for order in api.request("GET", "/api/my-orders", headers=alice).json()] == [
        placed.json()["id"],
        11,
        6,
        5,
    ]
    staff_view = api.request("GET", "/api/orders", query_string="user=3&limit=10", headers=bob).json()
    assert [order["id"] for order in staff_view] == [placed.json()["id"], 11, 6, 5]

    # Staff cancel imported orders: a product's parts come back together, a deleted product's
    # part gives nothing back, nor does a part of 0 or an order without parts.
    cancelled = api.request("POST", "/api/orders/5/cancel", headers=bob)
    assert cancelled.status == 200
    assert cancelled.json()["status"] == "cancelled"
    assert stock_of(api.request("GET", "/api/products/1").json()) == 5 - 1 + 2 + 1
    assert api.request("POST", "/api/orders/8/cancel", headers=bob).status == 200
    assert [stock_of(api.request("GET", f"/api/products/{n}").json()) for n in (4, 10)] == [3 + 1, 92]
    assert api.request("POST", "/api/orders/11/cancel", headers=bob).status == 200


def test_an_old_hash_is_upgraded_at_the_first_sign_in(
    api: LocalApi, tmp_path: Path, shop: DjangoShop, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shop_common import passwords
    from shop_common.dynamo import client, from_attributes

    monkeypatch.setattr(passwords, "ITERATIONS", 2_000)  # "today's" figure
    old = django_hash("alice-old-password", 1_000)
    assert (
        shopctl(
            "import-django",
            str(write_sqlite(tmp_path / "db.sqlite3", DjangoShop(**{**vars(shop), "hashes": {**shop.hashes, 3: old}}))),
        )
        == 0
    )
    key = {"PK": {"S": "USERNAME#alice"}, "SK": {"S": "USERNAME"}}
    assert from_attributes(client().get_item(TableName=TABLE_NAME, Key=key)["Item"])["password_hash"] == old
    sign_in(api, "alice", "alice-old-password")
    assert from_attributes(client().get_item(TableName=TABLE_NAME, Key=key)["Item"])["password_hash"].startswith(
        "pbkdf2_sha256$2000$"
    )


def test_a_dumpdata_file_imports_the_same_shop(api: LocalApi, tmp_path: Path, shop: DjangoShop) -> None:
    assert shopctl("import-django", str(write_dumpdata(tmp_path / "dump.json", shop))) == 0
    assert [(p["id"], price_of(p), stock_of(p)) for p in listing(api)["results"]] == [
        (1, Decimal("0.30"), 5),
        (2, Decimal("2.68"), 0),
        (4, Decimal("19.99"), 3),
        (10, Decimal("16.00"), 92),
    ]
    mine = api.request("GET", "/api/my-orders", headers=sign_in(api, "alice", "alice-old-password")).json()
    assert [(order["id"], order["created"]) for order in mine] == [
        (11, "2022-03-27T09:00:00.000000Z"),  # dumpdata keeps milliseconds
        (6, "2022-03-25T10:00:00.000000Z"),
        (5, "2022-03-24T07:17:41.610000Z"),
    ]
    assert [
        order["id"] for order in api.request("GET", "/api/my-orders", headers=sign_in(api, "bob", "bob-old-password")).json()
    ] == [8]
    assert original_parts(mine[2])[1] == {"product": None, "quantity_in_order": 1, "product_name": "Deleted kettle"}


def test_usernames_in_orders_of_a_natural_key_dump_are_resolved(
    api: LocalApi, tmp_path: Path, shop: DjangoShop, capsys: pytest.CaptureFixture[str]
) -> None:
    from django_app_data import dumpdata

    fixtures = dumpdata(shop)
    for fixture in fixtures:
        if fixture["model"] == "assignment_orders.order":
            fixture["fields"]["user"] = [{3: "alice", 7: "bob"}.get(fixture["fields"]["user"], "ghost")]  # --natural-foreign
    (tmp_path / "natural.json").write_text(json.dumps(fixtures))
    assert shopctl("import-django", str(tmp_path / "natural.json")) == 0
    assert "note: skipped 1 order whose user no longer exists: order 12 of a user not in the file" in capsys.readouterr().out
    mine = api.request("GET", "/api/my-orders", headers=sign_in(api, "bob", "bob-old-password")).json()
    assert [order["id"] for order in mine] == [8]


def test_descriptions_of_a_later_version_of_the_app_are_kept(api: LocalApi, django_db: Path) -> None:
    # The original's author later added `description` and `photo` to products.
    with sqlite3.connect(django_db) as connection:
        connection.execute('ALTER TABLE "assignment_orders_product" ADD COLUMN "description" text NOT NULL DEFAULT \'\'')
        connection.execute('ALTER TABLE "assignment_orders_product" ADD COLUMN "photo" varchar(100) NULL')
        connection.execute("UPDATE assignment_orders_product SET description = 'Holds a litre.', photo = 'p/1.jpg' WHERE id = 1")
    connection.close()
    assert shopctl("import-django", str(django_db)) == 0
    assert api.request("GET", "/api/products/1").json()["description"] == "Holds a litre."
    assert api.request("GET", "/api/products/2").json()["description"] == ""


# --- re-running, dry runs, interruptions -----------------------------------------------------


def test_running_it_again_changes_nothing(django_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert shopctl("import-django", str(django_db)) == 0
    before = table_items()
    capsys.readouterr()
    assert shopctl("import-django", str(django_db)) == 0
    out = capsys.readouterr().out
    assert "table shop-test holds this data, imported on " in out
    assert out.rstrip().endswith(": nothing to do")
    assert table_items() == before


def test_a_dry_run_says_what_it_would_do_and_writes_nothing(django_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert shopctl("import-django", str(django_db), "--dry-run") == 0
    out = capsys.readouterr().out
    assert "dry run: would import 3 users, 4 products (stock 100), 4 orders of 7 parts; product ids would continue from 11" in out
    assert "note: skipped 1 order part whose order no longer exists" in out
    assert table_items() == []


def test_an_interrupted_import_is_finished_by_running_it_again(
    api: LocalApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from shop_common.catalog import write_new_products
    from shopctl import django_import

    shop = sample_shop()
    many = DjangoShop(
        **{**vars(shop), "products": [*shop.products, *(type(shop.products[0])(n, f"Item {n}", 1.5, n) for n in range(20, 260))]}
    )
    db = write_sqlite(tmp_path / "db.sqlite3", many)
    written = 0

    def interrupted_after_three_transactions(products: Any, on_written: Any) -> None:
        transactions = 0

        def count(products_written: int) -> None:
            nonlocal transactions, written
            on_written(products_written)
            written += products_written
            transactions += 1
            if transactions == 3:
                raise KeyboardInterrupt

        write_new_products(products, count)

    monkeypatch.setattr(django_import, "write_new_products", interrupted_after_three_transactions)
    assert shopctl("import-django", str(db)) == 130
    monkeypatch.undo()
    assert 0 < written < 244
    assert listing(api)["count"] == written
    capsys.readouterr()
    assert shopctl("import-django", str(db), "--dry-run") == 0
    assert "an import of it was interrupted: would write what is missing" in capsys.readouterr().out

    assert shopctl("import-django", str(db)) == 0
    out = capsys.readouterr().out
    assert f"({3 + written} were there from an interrupted run)" in out  # the users, the products written
    assert "DIFFERS" not in out
    assert listing(api)["count"] == 244
    assert stock_of(api.request("GET", "/api/products/259").json()) == 259
    capsys.readouterr()
    assert shopctl("import-django", str(db)) == 0
    assert "nothing to do" in capsys.readouterr().out


def test_a_check_that_finds_a_difference_fails_and_the_next_run_finishes(
    api: LocalApi, django_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from shop_common.catalog import write_new_products
    from shopctl import django_import

    monkeypatch.setattr(django_import, "write_new_products", lambda products, on_written: write_new_products(products[:-1]))
    assert shopctl("import-django", str(django_db)) == 1
    out, err = capsys.readouterr()
    assert {"products 3 DIFFERS: the file has 4", "units in stock 8 DIFFERS: the file has 100"} <= check_lines(out)
    assert "the table does not hold what the file does (above); run the command again to finish" in err
    monkeypatch.undo()
    assert shopctl("import-django", str(django_db)) == 0
    out = capsys.readouterr().out
    assert "(10 were there from an interrupted run)" in out  # 3 users, 3 products, 4 orders
    assert "DIFFERS" not in out
    assert stock_of(api.request("GET", "/api/products/10").json()) == 92


# --- refusals ----------------------------------------------------------------------------------


def test_a_table_with_other_data_is_refused_unless_replace(
    api: LocalApi, django_db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert shopctl("create-user", "zed", "--password", "zed-password") == 0
    before = table_items()
    capsys.readouterr()
    assert shopctl("import-django", str(django_db)) == 2
    assert "already holds products, users or orders: import into an empty table, or add --replace" in capsys.readouterr().err
    assert table_items() == before

    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert shopctl("import-django", str(django_db), "--replace") == 2  # a script must say --yes
    assert table_items() == before

    assert shopctl("import-django", str(django_db), "--replace", "--yes") == 0
    assert "DIFFERS" not in capsys.readouterr().out
    assert not can_sign_in(api, "zed", "zed-password")
    assert can_sign_in(api, "alice", "alice-old-password")


def _not_django(tmp_path: Path) -> list[tuple[Path, str]]:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    other_db = tmp_path / "other.sqlite3"
    with sqlite3.connect(other_db) as connection:
        connection.execute("CREATE TABLE things (id integer)")
    missing_column = tmp_path / "old.sqlite3"
    with sqlite3.connect(missing_column) as connection:
        connection.execute("CREATE TABLE auth_user (id integer, username text)")
        for table in ("assignment_orders_product", "assignment_orders_order", "assignment_orders_orderpart"):
            connection.execute(f"CREATE TABLE {table} (id integer)")
    not_a_dump = tmp_path / "list.json"
    not_a_dump.write_text(json.dumps({"model": "auth.user"}))
    other_models = tmp_path / "groups.json"
    other_models.write_text(json.dumps([{"model": "auth.group", "pk": 1, "fields": {"name": "staff"}}]))
    bad_field = tmp_path / "bad.json"
    bad_field.write_text(json.dumps([{"model": "assignment_orders.product", "pk": 1, "fields": {"name": "x", "price": "1"}}]))
    return [
        (text, "is neither an SQLite database nor a dumpdata JSON file (not valid JSON"),
        (other_db, "is an SQLite database but not the Django app's: it has no table auth_user, assignment_orders_product"),
        (missing_column, "table auth_user has no column password, first_name"),
        (not_a_dump, "not a dumpdata JSON file (expected a list of objects"),
        (other_models, "holds no auth.user, assignment_orders.product"),
        (bad_field, "has no field 'quantity'"),
        (tmp_path / "missing.sqlite3", "no such file"),
    ]


def test_a_file_that_is_not_the_django_apps_data_is_refused_with_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for path, message in _not_django(tmp_path):
        assert shopctl("import-django", str(path)) == 2, path
        err = capsys.readouterr().err
        assert message in err, err
        assert "nothing was written" in err
        assert "Traceback" not in err
    assert table_items() == []


def test_rows_the_shop_cannot_store_are_listed_and_nothing_is_written(
    tmp_path: Path, shop: DjangoShop, capsys: pytest.CaptureFixture[str]
) -> None:
    product = type(shop.products[0])
    bad = DjangoShop(**{**vars(shop), "products": [*shop.products, product(12, "Refund", -1.0, 1), product(13, "   ", 1.0, 1)]})
    assert shopctl("import-django", str(write_sqlite(tmp_path / "db.sqlite3", bad))) == 1
    err = capsys.readouterr().err
    assert "db.sqlite3: product 12 ('Refund'): price: Input should be greater than or equal to 0" in err
    assert "db.sqlite3: product 13 ('   '): name: String should have at least 1 character" in err
    assert "2 rows cannot be stored in this shop, so nothing was written" in err
    assert table_items() == []


# --- prices ------------------------------------------------------------------------------------


@given(st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False))
def test_a_price_is_the_floats_shortest_form_rounded_half_to_even_to_cents(price: float) -> None:
    from shopctl.django_plan import price_in_cents

    # The oracle: exact rational arithmetic, and Python's round(), which rounds half to even.
    assert price_in_cents(Decimal(repr(price))) * 100 == round(Fraction(repr(price)) * 100)


@pytest.mark.parametrize(
    ("price", "cents"),
    [(0.1 + 0.2, "0.30"), (2.675, "2.68"), (2.665, "2.66"), (9.999, "10.00"), (16.0, "16.00"), (-0.0, "0.00"), (1e-9, "0.00")],
)
def test_prices_round_as_documented(price: float, cents: str) -> None:
    from shopctl.django_plan import price_in_cents

    assert str(price_in_cents(Decimal(repr(price)))) == cents


def test_id_counters_move_up_to_the_imported_ids_and_never_back(new_user: Any) -> None:
    from products.catalog_reads import catalog_stats
    from shop_common.catalog import add_products, reserve_ids
    from shop_common.models import NewProduct
    from shop_common.new_accounts import reserve_user_ids

    add_products([NewProduct(name=f"P{n}", price=Decimal("1.00"), quantity=1) for n in range(3)])
    reserve_ids(10)
    reserve_ids(5)
    assert catalog_stats().last_id == 10
    assert [p.id for p in add_products([NewProduct(name="Next", price=Decimal("1.00"), quantity=1)])] == [11]
    reserve_user_ids(7)
    reserve_user_ids(2)
    assert new_user()[0] == 8
