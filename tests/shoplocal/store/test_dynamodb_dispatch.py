"""DynamoDB requests that the fast lane leaves to moto reach moto's DynamoDB handler directly,
and are answered as moto's server answers them through its routing and Flask application:
writes, conditional failures, cancelled transactions, errors and other operations, each sent
to twin tables, one each way."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from moto.dynamodb.models import dynamodb_backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.test import EnvironBuilder

from conftest import REGION
from shoplocal.store import fast_lane

DIRECT, ROUTED = "dispatch-direct", "dispatch-routed"


def _call(application: Any, target: str, body: dict[str, Any]) -> tuple[int, str, Any]:
    builder = EnvironBuilder(
        method="POST",
        path="/",
        headers=[
            ("X-Amz-Target", f"{fast_lane.TARGET_PREFIX}{target}"),
            ("Content-Type", fast_lane.CONTENT_TYPE),
            (
                "Authorization",
                f"AWS4-HMAC-SHA256 Credential=testing/20260101/{REGION}/dynamodb/aws4_request, SignedHeaders=host, Signature=x",
            ),
        ],
        data=json.dumps(body).encode(),
    )
    started: list[Any] = []
    content = b"".join(
        application(builder.get_environ(), lambda status, headers, exc_info=None: started.extend([status, headers]))
    )
    status, headers = started
    content_type = next(value for name, value in headers if name.lower() == "content-type")
    return int(status.split()[0]), content_type, json.loads(content) if content else None


def _without_table_names(value: Any) -> Any:
    return json.loads(json.dumps(value).replace(DIRECT, "T").replace(ROUTED, "T"))


REQUESTS: list[tuple[str, dict[str, Any]]] = [
    (
        "CreateTable",
        {
            "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    ),
    ("PutItem", {"Item": {"PK": {"S": "a"}, "stock": {"N": "2"}}}),
    ("PutItem", {"Item": {"PK": {"S": "a"}}, "ConditionExpression": "attribute_not_exists(PK)"}),
    (
        "UpdateItem",
        {
            "Key": {"PK": {"S": "a"}},
            "UpdateExpression": "ADD stock :m",
            "ConditionExpression": "stock >= :n",
            "ExpressionAttributeValues": {":m": {"N": "-1"}, ":n": {"N": "1"}},
            "ReturnValues": "ALL_NEW",
        },
    ),
    (
        "UpdateItem",
        {
            "Key": {"PK": {"S": "a"}},
            "UpdateExpression": "ADD stock :m",
            "ConditionExpression": "stock >= :n",
            "ExpressionAttributeValues": {":m": {"N": "-5"}, ":n": {"N": "5"}},
        },
    ),
    ("GetItem", {"Key": {"PK": {"S": "a"}}, "ProjectionExpression": "stock[0]"}),
    ("GetItem", {"Key": {"PK": {"N": "1"}}}),
    ("DeleteItem", {"Key": {"PK": {"S": "missing"}}, "ReturnValues": "ALL_OLD"}),
    ("Scan", {}),
    ("DescribeTable", {}),
]


@pytest.fixture(autouse=True)
def twin_tables_dropped() -> Iterator[None]:
    yield
    backend = dynamodb_backends["123456789012"][REGION]
    for name in (DIRECT, ROUTED):
        if name in backend.tables:
            backend.delete_table(name)


def test_requests_left_to_moto_are_answered_as_moto_s_server_answers_them() -> None:
    direct = fast_lane.wrap(lambda environ, start: [], lambda: dynamodb_backends["123456789012"][REGION])
    routed = DomainDispatcherApplication(create_backend_app)
    for target, body in REQUESTS:
        got = _call(direct, target, {"TableName": DIRECT, **body})
        expected = _call(routed, target, {"TableName": ROUTED, **body})
        if target in ("CreateTable", "DescribeTable"):  # creation times and ARNs differ
            assert got[:2] == expected[:2], target
        else:
            assert _without_table_names(got) == _without_table_names(expected), target
    transaction = [
        {
            "Update": {
                "Key": {"PK": {"S": "a"}},
                "UpdateExpression": "SET x = :v",
                "ConditionExpression": "stock > :v",
                "ExpressionAttributeValues": {":v": {"N": "9"}},
            }
        }
    ]
    got = _call(direct, "TransactWriteItems", {"TransactItems": [{"Update": {**transaction[0]["Update"], "TableName": DIRECT}}]})
    expected = _call(
        routed, "TransactWriteItems", {"TransactItems": [{"Update": {**transaction[0]["Update"], "TableName": ROUTED}}]}
    )
    assert got[0] == expected[0] == 400
    assert _without_table_names(got) == _without_table_names(expected)
