"""The recorder the cost tests rely on counts the items each kind of read returns."""

import boto3

from conftest import TABLE_NAME
from shoplocal.dynamodb_calls import CallRecorder


def test_items_read_are_counted_for_every_kind_of_read() -> None:
    client = boto3.client("dynamodb")
    for key in ("A", "B"):
        client.put_item(TableName=TABLE_NAME, Item={"PK": {"S": key}, "SK": {"S": "X"}})
    recorder = CallRecorder()
    recorder.attach(client)
    keys = [{"PK": {"S": key}, "SK": {"S": "X"}} for key in ("A", "B", "missing")]
    client.get_item(TableName=TABLE_NAME, Key=keys[0])
    client.get_item(TableName=TABLE_NAME, Key=keys[2])
    client.batch_get_item(RequestItems={TABLE_NAME: {"Keys": keys}})
    client.transact_get_items(TransactItems=[{"Get": {"TableName": TABLE_NAME, "Key": key}} for key in keys])
    client.query(TableName=TABLE_NAME, KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": {"S": "A"}})
    assert recorder.operations == ["GetItem", "GetItem", "BatchGetItem", "TransactGetItems", "Query"]
    assert [call.items_read for call in recorder.calls] == [1, 0, 2, 2, 1]
    recorder.detach(client)
    client.get_item(TableName=TABLE_NAME, Key=keys[0])
    assert len(recorder.calls) == 5  # detached: no longer recorded
