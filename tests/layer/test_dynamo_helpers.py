"""The layer's one batch read and one transaction helper (shop_common.dynamo): what every
function's reads by key and transactions go through."""

from typing import Any

import pytest

from shop_common import settings
from shop_common.dynamo import TransactionCancelled, batch_get, from_attributes, to_attributes, transact_write


def put(pk: str, **values: Any) -> None:
    from shop_common.dynamo import client

    client().put_item(TableName=settings.table_name(), Item=to_attributes({"PK": pk, "SK": "X", **values}))


def test_a_batch_read_of_any_number_of_keys_asks_100_at_a_time_with_the_projection(dynamodb_calls: Any) -> None:
    for n in range(0, 250, 2):  # every other key exists
        put(f"ITEM#{n}", name=f"item {n}", extra="not asked for")
    keys = [to_attributes({"PK": f"ITEM#{n}", "SK": "X"}) for n in range(250)]
    dynamodb_calls.clear()
    found = [from_attributes(item) for item in batch_get(keys, projection="PK, #name", names={"#name": "name"})]
    assert dynamodb_calls.operations == ["BatchGetItem"] * 3
    assert sorted(item["PK"] for item in found) == sorted(f"ITEM#{n}" for n in range(0, 250, 2))
    assert all(set(item) == {"PK", "name"} for item in found)


def test_a_batch_read_of_no_keys_makes_no_call(dynamodb_calls: Any) -> None:
    dynamodb_calls.clear()
    assert batch_get([]) == []
    assert dynamodb_calls.operations == []


def test_a_cancelled_transaction_names_each_items_reason_and_writes_nothing() -> None:
    put("TAKEN")
    table = settings.table_name()
    new = "attribute_not_exists(PK)"
    writes: Any = [
        {"Put": {"TableName": table, "Item": to_attributes({"PK": "NEW", "SK": "X"}), "ConditionExpression": new}},
        {"Put": {"TableName": table, "Item": to_attributes({"PK": "TAKEN", "SK": "X"}), "ConditionExpression": new}},
    ]
    with pytest.raises(TransactionCancelled) as cancelled:
        transact_write(writes)
    assert cancelled.value.codes == ["None", "ConditionalCheckFailed"]
    assert cancelled.value.failed_conditions == [1]
    assert cancelled.value.condition_failed(1)
    assert not cancelled.value.condition_failed(0)
    assert not cancelled.value.condition_failed(5)  # past the items: no reason, no failure
    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"  # still boto3's ClientError
    assert batch_get([to_attributes({"PK": "NEW", "SK": "X"})], consistent=True) == []
    transact_write(writes[:1])
    assert len(batch_get([to_attributes({"PK": "NEW", "SK": "X"})], consistent=True)) == 1
