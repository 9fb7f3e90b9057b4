"""DynamoDB requests read with the walks compiled once per operation give moto's own
parameters (`moto.core.parse` walking botocore's model), for random requests of the operations
the shop and the AWS CLI send: every kind of attribute value nested in maps and lists, blobs,
numbers, booleans, nulls and members no model names."""

import base64
import json
from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from moto.core.parse import JSONParser
from moto.core.utils import get_service_model

from shoplocal.store.request_parsing import RequestReader

names = st.sampled_from(["PK", "SK", "a", "b", "note"])
blobs = st.binary(max_size=8).map(lambda raw: base64.b64encode(raw).decode())
numbers = st.sampled_from(["0", "1", "-2.5", "100"])
scalars = st.one_of(
    st.builds(lambda text: {"S": text}, st.text(max_size=5)),
    st.builds(lambda number: {"N": number}, numbers),
    st.builds(lambda blob: {"B": blob}, blobs),
    st.builds(lambda flag: {"BOOL": flag}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(lambda texts: {"SS": texts}, st.lists(st.text(max_size=3), min_size=1, max_size=3)),
    st.builds(lambda values: {"NS": values}, st.lists(numbers, min_size=1, max_size=3)),
    st.builds(lambda values: {"BS": values}, st.lists(blobs, min_size=1, max_size=3)),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.builds(lambda members: {"M": members}, st.dictionaries(names, inner, max_size=3)),
        st.builds(lambda members: {"L": members}, st.lists(inner, max_size=3)),
    ),
    max_leaves=8,
)
items = st.dictionaries(names, values, min_size=1, max_size=4)
# Members no model names, and nulls, which moto's parser drops.
extras = st.dictionaries(st.sampled_from(["Unknown", "ReturnValues", "Limit"]), st.sampled_from([None, "x", 3]), max_size=2)


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    operation = draw(st.sampled_from(["PutItem", "TransactWriteItems", "BatchWriteItem", "Query", "UpdateItem", "GetItem"]))
    item, values_used = draw(items), {":v": draw(values)}
    body: dict[str, Any]
    if operation == "PutItem":
        body = {"TableName": "t", "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}
    elif operation == "TransactWriteItems":
        body = {
            "TransactItems": [
                {"Put": {"TableName": "t", "Item": item}},
                {
                    "Update": {
                        "TableName": "t",
                        "Key": item,
                        "UpdateExpression": "SET a = :v",
                        "ExpressionAttributeValues": values_used,
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": "t",
                        "Key": item,
                        "ConditionExpression": "a = :v",
                        "ExpressionAttributeValues": values_used,
                    }
                },
            ],
            "ClientRequestToken": "token",
        }
    elif operation == "BatchWriteItem":
        body = {"RequestItems": {"t": [{"PutRequest": {"Item": item}}, {"DeleteRequest": {"Key": item}}]}}
    elif operation == "Query":
        body = {
            "TableName": "t",
            "KeyConditionExpression": "PK = :v",
            "ExpressionAttributeValues": values_used,
            "ExclusiveStartKey": item,
            "Limit": draw(st.integers(1, 100)),
            "ScanIndexForward": draw(st.booleans()),
            "ConsistentRead": draw(st.booleans()),
        }
    elif operation == "UpdateItem":
        body = {"TableName": "t", "Key": item, "UpdateExpression": "SET a = :v", "ExpressionAttributeValues": values_used}
    else:
        body = {"TableName": "t", "Key": item, "ProjectionExpression": "a, #b", "ExpressionAttributeNames": {"#b": "b"}}
    return operation, {**body, **draw(extras)}


def moto_reads(operation: str, body: bytes) -> Any:
    model = get_service_model("dynamodb").operation_model(operation)
    request = {"method": "POST", "values": {}, "headers": {}, "body": body, "url_path": "/", "url_params": {}}
    return JSONParser(model, map_type=dict).parse(request)  # type: ignore[arg-type]


def outcome(read: Callable[[], Any]) -> Any:
    """What a reading gives: the parameters, or the kind of error it raises (a Limit of "x")."""
    try:
        return read()
    except (TypeError, ValueError) as error:
        return type(error)


@settings(max_examples=300, deadline=None)
@given(request=requests())
def test_a_request_is_read_as_moto_reads_it(request: tuple[str, dict[str, Any]]) -> None:
    operation, body = request
    raw = json.dumps(body).encode()
    assert outcome(lambda: RequestReader().read(operation, raw)) == outcome(lambda: moto_reads(operation, raw))


def test_what_is_not_a_json_object_is_left_to_moto() -> None:
    reader = RequestReader()
    assert reader.read("GetItem", b"not json") is None
    assert reader.read("GetItem", b"[1, 2]") is None
