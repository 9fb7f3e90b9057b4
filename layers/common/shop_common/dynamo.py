"""The DynamoDB client (one per container) and conversions to and from attribute values.

The low-level client is used rather than the `Table` resource: it imports and starts faster,
and it is the only interface that exposes transactions and cancellation reasons fully.
A local endpoint is picked up from `AWS_ENDPOINT_URL_DYNAMODB`, which botocore reads itself.

The client is boto3's own, with botocore's shape-walking validation and parsing replaced by
compiled equivalents through its public event hooks (see `dynamo_fast_paths`), behind a lean
request path for the operations made on every request (see `dynamo_wire`); conversions
take a direct path for the common types and leave the rest to boto3's TypeSerializer and
TypeDeserializer, with the same results (tests/layer/test_dynamo_client.py compares them).
"""

from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any, cast

import boto3
import boto3.session
from boto3.dynamodb.types import DYNAMODB_CONTEXT, TypeDeserializer, TypeSerializer
from botocore.config import Config

from shop_common.dynamo_fast_paths import DynamoFastPaths
from shop_common.dynamo_wire import LeanDynamoDB

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

# Timeouts well inside the functions' 10 s, so a stuck connection is retried rather than
# running the invocation out; "standard" retries back off on throttling with jitter
# (`max_attempts: 4` is botocore's count of retries: 5 attempts in all).
# Parameter validation is done by DynamoFastPaths, which defers to botocore's validator for
# anything it does not accept itself, so invalid requests fail with botocore's own error.
_CLIENT_CONFIG = Config(
    connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 4}, parameter_validation=False
)
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
_create_decimal = DYNAMODB_CONTEXT.create_decimal


@cache
def client() -> "DynamoDBClient":
    """The container's client: that of boto3's default session (which `boto3.client` uses)."""
    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    return client_for(boto3.DEFAULT_SESSION)


def client_for(session: boto3.session.Session) -> "DynamoDBClient":
    """boto3's client behind the lean path for the hot operations (`dynamo_wire`): the same
    methods, results, errors, retries and events. The lean path signs with the credentials the
    session resolved, which its clients sign with (checked on botocore's first request)."""
    dynamodb = session.client("dynamodb", config=_CLIENT_CONFIG)
    fast_paths = DynamoFastPaths()
    fast_paths.install(dynamodb.meta.events)
    return cast("DynamoDBClient", LeanDynamoDB(dynamodb, session.get_credentials(), fast_paths))


def query_page(query: dict[str, Any], limit: int) -> tuple[list[dict[str, Any]], bool]:
    """Up to `limit` items of a Query (its `Limit` is set here) and whether more remain: reads
    limit + 1 items, following `LastEvaluatedKey` only while DynamoDB's 1 MB pages cut them short."""
    query = {**query, "Limit": limit + 1}
    items: list[dict[str, Any]] = []
    while len(items) <= limit:
        response = client().query(**query)
        items.extend(response.get("Items", []))
        if "LastEvaluatedKey" not in response:
            break
        query["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        query["Limit"] = limit + 1 - len(items)
    return items[:limit], len(items) > limit


def to_attributes(values: Mapping[str, Any]) -> "dict[str, AttributeValueTypeDef]":
    """Python values -> DynamoDB attribute values (ints and Decimals become numbers)."""
    return {name: _serialize(value) for name, value in values.items()}


def from_attributes(item: "Mapping[str, Any]") -> dict[str, Any]:
    """DynamoDB attribute values -> Python values (numbers come back as Decimal)."""
    values = {}
    for name, value in item.items():
        # Strings and numbers inline: they are most attributes, and a call each costs more.
        if type(value) is dict and len(value) == 1:
            if "S" in value:
                values[name] = value["S"]
                continue
            if "N" in value:
                values[name] = _create_decimal(value["N"])
                continue
        values[name] = _deserialize(value)
    return values


def _serialize(value: Any) -> Any:
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is int or kind is Decimal:
        number = str(_create_decimal(value))
        if number in ("Infinity", "NaN"):
            raise TypeError("Infinity and NaN not supported")  # boto3's own check and message
        return {"N": number}
    if kind is dict:
        return {"M": {name: _serialize(item) for name, item in value.items()}}
    if kind is list:
        return {"L": [_serialize(item) for item in value]}
    return _serializer.serialize(value)  # booleans, None, bytes, sets, subclasses, errors


def _deserialize(value: Any) -> Any:
    if type(value) is dict and len(value) == 1:
        for kind, raw in value.items():
            if kind == "S":
                return raw
            if kind == "N":
                return _create_decimal(raw)
            if kind == "M":
                return {name: _deserialize(item) for name, item in raw.items()}
            if kind == "L":
                return [_deserialize(item) for item in raw]
            if kind == "BOOL":
                return raw
    return _deserializer.deserialize(value)  # NULL, binary, sets, and anything malformed
