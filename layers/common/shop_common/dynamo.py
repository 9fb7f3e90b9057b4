"""The DynamoDB client (one per container) and conversions to and from attribute values.

The low-level client is used rather than the `Table` resource: it imports and starts faster,
and it is the only interface that exposes transactions and cancellation reasons fully.
A local endpoint is picked up from `AWS_ENDPOINT_URL_DYNAMODB`, which botocore reads itself.
"""

from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

# Timeouts well inside the functions' 10 s, so a stuck connection is retried rather than
# running the invocation out; "standard" retries back off on throttling with jitter.
_CLIENT_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 4})
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


@cache
def client() -> "DynamoDBClient":
    return boto3.client("dynamodb", config=_CLIENT_CONFIG)


def to_attributes(values: Mapping[str, Any]) -> "dict[str, AttributeValueTypeDef]":
    """Python values -> DynamoDB attribute values (ints and Decimals become numbers)."""
    return {name: _serializer.serialize(value) for name, value in values.items()}


def from_attributes(item: "Mapping[str, Any]") -> dict[str, Any]:
    """DynamoDB attribute values -> Python values (numbers come back as Decimal)."""
    return {name: _deserializer.deserialize(value) for name, value in item.items()}
