"""The embedded store's parts that run in-process: transactions that roll back item by item,
and snapshots that bring every table back exactly."""

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import REGION, TABLE_NAME
from shop_common.catalog import add_products
from shop_common.dynamo import client, from_attributes, to_attributes
from shop_common.models import NewProduct
from shoplocal.gateway.invoke import LocalApi
from shoplocal.store import snapshots
from shoplocal.store.embedded_store import ACCOUNT_ID


def backend() -> Any:
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[ACCOUNT_ID][REGION]


def item(pk: str) -> dict[str, Any] | None:
    found = client().get_item(TableName=TABLE_NAME, Key=to_attributes({"PK": pk, "SK": "X"})).get("Item")
    return from_attributes(found) if found else None


def test_a_cancelled_transaction_leaves_every_item_as_it_was() -> None:
    for pk, value in (("KEPT", 1), ("UPDATED", 10), ("DELETED", 5)):
        client().put_item(TableName=TABLE_NAME, Item=to_attributes({"PK": pk, "SK": "X", "value": value}))
    writes: list[Any] = [
        {"Put": {"TableName": TABLE_NAME, "Item": to_attributes({"PK": "NEW", "SK": "X", "value": 1})}},
        {
            "Update": {
                "TableName": TABLE_NAME,
                "Key": to_attributes({"PK": "UPDATED", "SK": "X"}),
                "UpdateExpression": "ADD #v :minus",
                "ExpressionAttributeNames": {"#v": "value"},
                "ExpressionAttributeValues": to_attributes({":minus": -3}),
            }
        },
        {"Delete": {"TableName": TABLE_NAME, "Key": to_attributes({"PK": "DELETED", "SK": "X"})}},
        {
            "ConditionCheck": {
                "TableName": TABLE_NAME,
                "Key": to_attributes({"PK": "KEPT", "SK": "X"}),
                "ConditionExpression": "#v > :big",
                "ExpressionAttributeNames": {"#v": "value"},
                "ExpressionAttributeValues": to_attributes({":big": 100}),
            }
        },
    ]
    with pytest.raises(ClientError, match="TransactionCanceled"):
        client().transact_write_items(TransactItems=writes)
    assert item("NEW") is None
    assert item("UPDATED") == {"PK": "UPDATED", "SK": "X", "value": 10}
    assert item("DELETED") == {"PK": "DELETED", "SK": "X", "value": 5}
    # The same writes without the failing check all apply.
    client().transact_write_items(TransactItems=writes[:3])
    assert item("NEW") is not None
    assert item("UPDATED") == {"PK": "UPDATED", "SK": "X", "value": 7}
    assert item("DELETED") is None


def all_items(source: Any) -> list[dict[str, Any]]:
    table = source.get_table(TABLE_NAME)
    return sorted((i.to_json()["Attributes"] for i in table.all_items()), key=lambda i: json.dumps(i, sort_keys=True))


def test_a_snapshot_restores_every_table_exactly(tmp_path: Path, api: LocalApi, signed_in: Any) -> None:
    from moto.dynamodb.models import DynamoDBBackend

    _, headers = signed_in()
    products = add_products([NewProduct(name=f"P{n}", price=Decimal("2.50"), quantity_in_stock=5) for n in range(3)])
    order = {"parts": [{"product": products[0].id, "quantity_in_order": 2}]}
    assert api.request("POST", "/api/order", json_body=order, headers=headers).status == 201
    path = tmp_path / "store" / "dynamodb.json"

    snapshots.write(snapshots.capture(backend()), path)
    restored = DynamoDBBackend(REGION, ACCOUNT_ID)
    count = snapshots.restore(restored, snapshots.read(path))

    assert all_items(restored) == all_items(backend())
    assert count == len(all_items(backend()))
    assert [p.name for p in path.parent.iterdir()] == ["dynamodb.json"]  # no temporary file left
    # The definition comes back too: keys, the listing index and its projection.
    original, copy = backend().get_table(TABLE_NAME), restored.get_table(TABLE_NAME)
    assert (copy.schema, copy.attr) == (original.schema, original.attr)
    assert [(i.name, i.schema, i.projection) for i in copy.global_indexes] == [
        (i.name, i.schema, i.projection) for i in original.global_indexes
    ]


@pytest.mark.parametrize("content", ["{not json", json.dumps({"format": "something-else", "version": 1, "tables": []})])
def test_an_unreadable_snapshot_is_refused_with_a_reason(tmp_path: Path, content: str) -> None:
    path = tmp_path / "dynamodb.json"
    path.write_text(content)
    with pytest.raises(snapshots.SnapshotError, match=str(path)):
        snapshots.read(path)
