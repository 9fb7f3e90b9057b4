"""The local DynamoDB stream: a record per item a write changed, with its images before and
after, in the order the store applied them; none for a write that changed nothing (a no-op, a
failed condition, a cancelled transaction), as DynamoDB Streams."""

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import TABLE_NAME
from shop_common.dynamo import client, to_attributes
from shoplocal.store.item_stream import ItemStream
from shoplocal.store.moto_atomic import observe_requests


@pytest.fixture
def stream() -> Iterator[ItemStream]:
    observed = ItemStream(TABLE_NAME, clock=lambda: 1_800_000_000.5)
    stop = observe_requests(observed)
    yield observed
    stop()


def key(pk: str) -> dict[str, Any]:
    return to_attributes({"PK": pk, "SK": "X"})


def put(pk: str, **values: Any) -> None:
    client().put_item(TableName=TABLE_NAME, Item=to_attributes({"PK": pk, "SK": "X", **values}))


def test_inserts_updates_and_removes_carry_their_images(stream: ItemStream) -> None:
    put("A", n=1)
    client().update_item(
        TableName=TABLE_NAME, Key=key("A"), UpdateExpression="SET n = :two", ExpressionAttributeValues={":two": {"N": "2"}}
    )
    client().delete_item(TableName=TABLE_NAME, Key=key("A"))
    inserted, modified, removed = stream.records()
    assert inserted["eventName"] == "INSERT"
    assert inserted["dynamodb"]["NewImage"] == {"PK": {"S": "A"}, "SK": {"S": "X"}, "n": {"N": "1"}}
    assert "OldImage" not in inserted["dynamodb"]
    assert modified["eventName"] == "MODIFY"
    assert (modified["dynamodb"]["OldImage"]["n"], modified["dynamodb"]["NewImage"]["n"]) == ({"N": "1"}, {"N": "2"})
    assert removed["eventName"] == "REMOVE"
    assert "NewImage" not in removed["dynamodb"]
    assert removed["dynamodb"]["Keys"] == {"PK": {"S": "A"}, "SK": {"S": "X"}}
    sequences = [int(record["dynamodb"]["SequenceNumber"]) for record in stream.records()]
    assert sequences == sorted(sequences)
    assert len(set(sequences)) == 3
    assert inserted["dynamodb"]["ApproximateCreationDateTime"] == 1_800_000_000.5


def test_writes_that_change_nothing_leave_no_record(stream: ItemStream) -> None:
    put("A", n=1)
    put("A", n=1)  # the same item again
    client().update_item(
        TableName=TABLE_NAME, Key=key("A"), UpdateExpression="SET n = :one", ExpressionAttributeValues={":one": {"N": "1"}}
    )
    with pytest.raises(ClientError):
        client().put_item(
            TableName=TABLE_NAME,
            Item=to_attributes({"PK": "A", "SK": "X", "n": 5}),
            ConditionExpression="attribute_not_exists(PK)",
        )
    with pytest.raises(ClientError):  # cancelled: the first put must not show
        client().transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE_NAME, "Item": to_attributes({"PK": "B", "SK": "X"})}},
                {"ConditionCheck": {"TableName": TABLE_NAME, "Key": key("A"), "ConditionExpression": "n = :nine",
                                    "ExpressionAttributeValues": {":nine": {"N": "9"}}}},
            ]
        )  # fmt: skip
    client().delete_item(TableName=TABLE_NAME, Key=key("nothing here"))
    assert [record["eventName"] for record in stream.records()] == ["INSERT"]


def test_a_transaction_records_each_item_it_changed_in_request_order(stream: ItemStream) -> None:
    put("A", n=1)
    client().transact_write_items(
        TransactItems=[
            {"Update": {"TableName": TABLE_NAME, "Key": key("A"), "UpdateExpression": "SET n = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}}}},
            {"Put": {"TableName": TABLE_NAME, "Item": to_attributes({"PK": "B", "SK": "X"})}},
            {"ConditionCheck": {"TableName": TABLE_NAME, "Key": key("C"), "ConditionExpression": "attribute_not_exists(PK)"}},
        ]
    )  # fmt: skip
    records = stream.records()[1:]
    assert [(r["eventName"], r["dynamodb"]["Keys"]["PK"]["S"]) for r in records] == [("MODIFY", "A"), ("INSERT", "B")]


def test_a_reader_gets_what_came_after_its_position(stream: ItemStream) -> None:
    for n in range(5):
        put(f"P{n}")
    first = stream.records_after(None, limit=2)
    rest = stream.records_after(first[-1]["dynamodb"]["SequenceNumber"], limit=10)
    assert [r["dynamodb"]["Keys"]["PK"]["S"] for r in first + rest] == [f"P{n}" for n in range(5)]
    assert stream.records_after(rest[-1]["dynamodb"]["SequenceNumber"], limit=10, wait=0) == []


def test_only_the_streamed_table_is_recorded(stream: ItemStream) -> None:
    client().create_table(
        TableName="other", KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
    )  # fmt: skip
    try:
        client().put_item(TableName="other", Item=to_attributes({"PK": "Z"}))
    finally:
        client().delete_table(TableName="other")
    assert stream.records() == []


def test_the_stream_keeps_the_latest_records_only() -> None:
    kept = ItemStream(TABLE_NAME, capacity=3)
    remove = observe_requests(kept)
    try:
        for number in range(5):
            put(f"kept-{number}")
    finally:
        remove()
    assert [record["dynamodb"]["Keys"]["PK"]["S"] for record in kept.records()] == ["kept-2", "kept-3", "kept-4"]
