"""The embedded store's parts that run in-process: transactions that roll back item by item.
(Snapshots and the journal: test_snapshots.py and test_durability.py.)"""

from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import REGION, TABLE_NAME
from shop_common.dynamo import client, from_attributes, to_attributes
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
