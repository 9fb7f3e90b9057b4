"""`shopctl load-products`: rows named as an editor names them, all or nothing, SKUs as upserts,
an exact summary."""

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import TABLE_NAME
from shopctl_helpers import listing, shopctl
from shoplocal.gateway.invoke import LocalApi
from shoplocal.template import table_definition

pytestmark = pytest.mark.usefixtures("restore_environment")

HEADER = "sku,name,description,price,quantity\n"


def products(api: LocalApi) -> list[tuple[int, str, float, int]]:
    return [(p["id"], p["name"], p["price"], p["quantity"]) for p in listing(api)["results"]]


def test_a_file_with_bad_rows_writes_nothing_and_names_each_bad_row_by_its_line(
    api: LocalApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalogue = tmp_path / "catalogue.csv"
    catalogue.write_text(
        "name,description,price,quantity\n"  # line 1
        "Teapot,Blue,19.99,5\n"  # line 2
        ",No name,1.00,1\n"  # line 3
        "\n"  # line 4: blank, skipped
        'Mug,"two\nlines",abc,-2\n'  # lines 5-6: one row, two problems
        "Kettle,,30,-1\n"  # line 7
        "Scarf,Wool,12.50\n"  # line 8: a cell short
    )
    assert shopctl("load-products", str(catalogue)) == 1
    err = capsys.readouterr().err
    assert "catalogue.csv line 3: name:" in err
    assert re.search(r"catalogue.csv line 5: price: .*; quantity: ", err)
    assert "catalogue.csv line 7: quantity:" in err
    assert "catalogue.csv line 8: 3 cells for 4 columns" in err
    assert "line 2" not in err
    assert "4 rows of 5 rejected, so nothing was written (a file is loaded all or nothing)" in err
    assert listing(api)["count"] == 0


def test_json_rows_are_named_by_their_position_counted_from_one(
    api: LocalApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalogue = tmp_path / "catalogue.json"
    rows: list[Any] = [
        {"name": "Teapot", "price": "19.99", "quantity": 5},
        {"name": "Mug", "price": "1", "quantity": 1, "colour": "red"},
        "not an object",
        {"id": 7, "name": "Scarf", "price": "1", "quantity": 1},
    ]
    catalogue.write_text(json.dumps(rows))
    assert shopctl("load-products", str(catalogue)) == 1
    err = capsys.readouterr().err
    assert "catalogue.json item 2: unknown fields: colour" in err
    assert "catalogue.json item 3: expected an object" in err
    assert "catalogue.json item 4: id: ids are assigned by the catalogue" in err
    assert "3 rows of 4 rejected" in err
    assert listing(api)["count"] == 0


def test_a_good_file_is_added_with_names_trimmed_and_an_exact_summary(
    api: LocalApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalogue = tmp_path / "catalogue.csv"
    catalogue.write_text("name,description,price,quantity\n  Teapot ,Blue,19.99,5\nScarf,Wool, 12.5 ,0\n")
    assert shopctl("load-products", str(catalogue)) == 0
    assert "2 rows: 2 products added (ids 1-2), 0 updated, 0 unchanged, 0 rejected" in capsys.readouterr().out
    assert products(api) == [(1, "Teapot", 19.99, 5), (2, "Scarf", 12.5, 0)]


def test_files_naming_the_stock_by_its_old_name_still_load(api: LocalApi, tmp_path: Path) -> None:
    old_csv, old_json = tmp_path / "old.csv", tmp_path / "old.json"
    old_csv.write_text("name,price,quantity_in_stock\nTeapot,19.99,5\n")
    old_json.write_text(json.dumps([{"name": "Mug", "price": 4.5, "quantity_in_stock": 2}]))
    assert shopctl("load-products", str(old_csv)) == 0
    assert shopctl("load-products", str(old_json)) == 0
    assert products(api) == [(1, "Teapot", 19.99, 5), (2, "Mug", 4.5, 2)]


def test_a_row_giving_the_stock_under_both_names_is_rejected(
    api: LocalApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    both_csv, both_json = tmp_path / "both.csv", tmp_path / "both.json"
    both_csv.write_text("name,price,quantity,quantity_in_stock\nTeapot,1,5,5\n")
    both_json.write_text(json.dumps([{"name": "Mug", "price": 1, "quantity": 2, "quantity_in_stock": 2}]))
    assert shopctl("load-products", str(both_csv)) != 0
    assert "columns named twice in the header: quantity" in capsys.readouterr().err
    assert shopctl("load-products", str(both_json)) != 0
    assert "item 1: the stock is given twice" in capsys.readouterr().err
    assert products(api) == []


def test_reloading_a_file_with_skus_updates_instead_of_doubling(
    api: LocalApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalogue = tmp_path / "catalogue.csv"
    catalogue.write_text(HEADER + "TP-1,Teapot,Blue,19.99,5\nMG-1,Mug,,4.50,10\n,Gift card,,10,100\n")
    assert shopctl("load-products", str(catalogue)) == 0
    assert "3 rows: 3 products added (ids 1-3), 0 updated, 0 unchanged" in capsys.readouterr().out
    catalogue.write_text(HEADER + "TP-1,Teapot,Blue,19.99,5\nMG-1,Big mug,,5.00,8\nSC-1,Scarf,,12,1\n,Gift card,,10,100\n")
    assert shopctl("load-products", str(catalogue)) == 0
    assert "4 rows: 2 products added (ids 4-5), 1 updated, 1 unchanged, 0 rejected" in capsys.readouterr().out
    assert products(api) == [
        (1, "Teapot", 19.99, 5),
        (2, "Big mug", 5.0, 8),
        (3, "Gift card", 10.0, 100),
        (4, "Scarf", 12.0, 1),
        (5, "Gift card", 10.0, 100),  # no SKU: added again, as documented
    ]


def test_a_sku_twice_in_one_file_rejects_the_second_row(
    api: LocalApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalogue = tmp_path / "catalogue.csv"
    catalogue.write_text(HEADER + "TP-1,Teapot,,19.99,5\nTP-1,Other teapot,,1,1\nbad sku,Mug,,1,1\n")
    assert shopctl("load-products", str(catalogue)) == 1
    err = capsys.readouterr().err
    assert "line 3: sku: 'TP-1' is already used by line 2" in err
    assert "line 4: sku: String should match pattern" in err
    assert listing(api)["count"] == 0


def test_a_deleted_product_frees_its_sku(api: LocalApi, tmp_path: Path) -> None:
    from shop_common.catalog import remove_product
    from shop_common.catalog_writes import products_by_sku

    catalogue = tmp_path / "catalogue.csv"
    catalogue.write_text(HEADER + "TP-1,Teapot,,19.99,5\n")
    assert shopctl("load-products", str(catalogue)) == 0
    remove_product(1)
    assert products_by_sku(["TP-1"]) == {}
    assert shopctl("load-products", str(catalogue)) == 0
    assert products(api) == [(2, "Teapot", 19.99, 5)]


def test_an_update_does_not_touch_a_product_that_lost_its_sku_meanwhile() -> None:
    from shop_common.catalog import add_products, remove_product
    from shop_common.catalog_writes import CatalogChanged, update_products
    from shop_common.models import NewProduct, Product

    (teapot,) = add_products([NewProduct(name="Teapot", price=Decimal(1), quantity=1, sku="TP-1")])
    remove_product(teapot.id)
    with pytest.raises(CatalogChanged):
        update_products([Product(**{**teapot.model_dump(), "name": "Changed"})])


def test_a_sku_taken_between_planning_and_writing_stops_the_load_saying_how_far_it_got() -> None:
    from shop_common.catalog import add_products
    from shop_common.catalog_writes import products_by_sku
    from shop_common.models import NewProduct
    from shopctl.catalog_load import LoadInterrupted, apply_load, plan_load

    plan = plan_load([NewProduct(name="Teapot", price=Decimal(1), quantity=1, sku="TP-1")])
    add_products([NewProduct(name="Other teapot", price=Decimal(2), quantity=2, sku="TP-1")])
    with pytest.raises(LoadInterrupted, match="a SKU of the file was given to another product meanwhile") as stopped:
        apply_load(plan, lambda _count: None)
    assert (stopped.value.result.updated, stopped.value.result.added) == (0, [])
    assert products_by_sku(["TP-1"])["TP-1"].name == "Other teapot"


def test_ctrl_c_during_a_load_says_what_was_written_and_how_to_finish(
    api: LocalApi, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """3 batches to add; Ctrl-C during the second: the first batch stays, and the message names
    it, the ids, and the rows without a sku that loading the file again would add twice."""
    from shop_common.catalog import add_products as real_add
    from shopctl import catalog_load

    rows = [{"name": f"Item {n}", "price": "1.00", "quantity_in_stock": n} for n in range(250)]
    rows[0]["sku"] = "FIRST"  # a row with a sku can be loaded again
    catalogue = tmp_path / "many.json"
    catalogue.write_text(json.dumps(rows))
    batches: list[int] = []

    def interrupted_at_the_second_batch(products: Any) -> Any:
        batches.append(len(products))
        if len(batches) == 2:
            raise KeyboardInterrupt
        return real_add(products)

    monkeypatch.setattr(catalog_load, "add_products", interrupted_at_the_second_batch)
    assert shopctl("load-products", str(catalogue)) == 130
    error = capsys.readouterr().err
    assert "interrupted (Ctrl-C): 100 of the 250 products to write were written (0 updated, 100 added (ids 1-100))" in error
    assert "99 rows without one (item 2 to item 100) were added: remove them from the file" in error
    assert listing(api)["count"] == 100


def test_the_summary_counts_one_product_in_the_singular(
    api: LocalApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalogue = tmp_path / "one.csv"
    catalogue.write_text("name,price,quantity_in_stock\nTeapot,1.00,1\n")
    assert shopctl("load-products", str(catalogue)) == 0
    assert "1 row: 1 product added (id 1), 0 updated, 0 unchanged, 0 rejected" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "no such file"),
        ("catalogue.txt", "name\n", "expected a .csv or .json file"),
        ("broken.json", "[{", "not valid JSON"),
        ("deep.json", "[" * 100_000, "not valid JSON"),
        ("object.json", '{"name": "x"}', "must be a list of products"),
        ("header.csv", "title,cost\nTeapot,1\n", "missing: name, price, quantity"),
        (
            "semicolons.csv",
            "name;price;quantity\nTeapot;1;1\n",
            "missing: name, price, quantity (the columns seem separated by semicolons: this command reads commas)",
        ),
        ("twice.csv", "name,name,price,quantity\n", "columns named twice in the header: name"),
        ("ids.csv", "id,name,price,quantity\n1,Teapot,1,1\n", "has an id column: ids are assigned by the catalogue"),
        ("quote.csv", 'name,price,quantity\n"Teapot,1,1\n', "not valid CSV"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_with_a_message_and_writes_nothing(
    api: LocalApi, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: str | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    assert shopctl("load-products", str(path)) == 2
    assert message in capsys.readouterr().err
    assert listing(api)["count"] == 0


def test_many_rows_are_written_in_batches_with_exact_ids_and_count(api: LocalApi, tmp_path: Path) -> None:
    catalogue = tmp_path / "many.json"
    catalogue.write_text(json.dumps([{"name": f"Item {n}", "price": "1.00", "quantity": n} for n in range(250)]))
    assert shopctl("load-products", str(catalogue)) == 0
    assert shopctl("load-products", str(catalogue)) == 0
    body = listing(api, "page=5&limit=100")
    assert body["count"] == 500
    assert [p["id"] for p in body["results"]] == list(range(401, 501))


# --- the upsert rule, against an oracle -----------------------------------------------------

_SUMMARY = re.compile(
    r"(\d+) rows?: (\d+) products? added(?: \(ids? \d+(?:-\d+)?\))?, (\d+) updated, (\d+) unchanged, 0 rejected"
)

_rows = st.lists(
    st.tuples(
        st.sampled_from([None, "A", "B", "C"]),  # sku
        st.sampled_from(["Mug", "Teapot"]),
        st.sampled_from(["1.00", "2.50"]),
        st.integers(0, 2),
    ),
    max_size=5,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=st.lists(_rows, min_size=1, max_size=3))
def test_loads_match_the_upsert_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], files: list[list[tuple[str | None, str, str, int]]]
) -> None:
    from products.catalog_reads import catalog_stats
    from shop_common.catalog_writes import products_by_sku
    from shop_common.dynamo import client

    client().delete_table(TableName=TABLE_NAME)
    client().create_table(TableName=TABLE_NAME, **table_definition())
    with_sku: dict[str, tuple[str, Decimal, int]] = {}  # the oracle
    without_sku = 0
    for rows in files:
        catalogue = tmp_path / "catalogue.csv"
        catalogue.write_text(HEADER + "".join(f"{sku or ''},{name},,{price},{stock}\n" for sku, name, price, stock in rows))
        capsys.readouterr()
        status = shopctl("load-products", str(catalogue))
        skus = [sku for sku, *_ in rows if sku]
        if len(skus) != len(set(skus)):
            assert status == 1  # a SKU twice: rejected, nothing written
            continue
        added = updated = unchanged = 0
        for sku, name, price, stock in rows:
            wanted = (name, Decimal(price), stock)
            if sku is None:
                without_sku += 1
                added += 1
            elif sku not in with_sku:
                added += 1
            elif with_sku[sku] == wanted:
                unchanged += 1
            else:
                updated += 1
            if sku is not None:
                with_sku[sku] = wanted
        assert status == 0
        summary = _SUMMARY.search(capsys.readouterr().out)
        assert summary is not None
        assert tuple(map(int, summary.groups())) == (len(rows), added, updated, unchanged)
    found = products_by_sku(list(with_sku))
    assert {sku: (p.name, p.price, p.quantity) for sku, p in found.items()} == with_sku
    assert catalog_stats().product_count == len(with_sku) + without_sku
