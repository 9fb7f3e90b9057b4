"""DynamoDB access of the staff webhooks API (items: shop_common.webhook_items). The endpoint,
its secrets and the endpoints' count change together in one transaction; secrets are written,
never read, here."""

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from shop_common import settings
from shop_common.dynamo import TransactionCancelled, client, condition_failed, query_page, to_attributes, transact_write
from shop_common.webhook_items import (
    ENDPOINTS_PARTITION,
    MAX_ENDPOINTS,
    Delivery,
    Endpoint,
    count_key,
    delivery_from_item,
    delivery_key,
    endpoint_from_item,
    endpoint_key,
    secrets_key,
)

_ENDPOINT_INDEX = "GSI1"
# What a listing of deliveries reads: everything but the payload.
_DELIVERY_FIELDS = (
    "PK, SK, event_id, event_type, created, #state, attempts, #token, next_attempt_at, last_attempt_at, "
    "status_code, latency_ms, #error"
)
_DELIVERY_NAMES = {"#state": "state", "#token": "token", "#error": "error"}


class TooManyEndpoints(Exception):
    """MAX_ENDPOINTS endpoints exist already."""


def insert_endpoint(endpoint: Mapping[str, Any], secret: str) -> None:
    """Put the endpoint and its secret, counted; raises TooManyEndpoints at the cap."""
    table = settings.table_name()
    item = {
        **endpoint,
        "PK": f"WEBHOOK#{endpoint['id']}",
        "SK": "WEBHOOK",
        "GSI1PK": ENDPOINTS_PARTITION,
        "GSI1SK": f"{endpoint['created']}#{endpoint['id']}",
    }
    try:
        transact_write(
            [
                {"Put": {"TableName": table, "Item": to_attributes(item), "ConditionExpression": "attribute_not_exists(PK)"}},
                {
                    "Put": {
                        "TableName": table,
                        "Item": {**secrets_key(endpoint["id"]), **to_attributes({"secret": secret})},
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
                {
                    "Update": {
                        "TableName": table,
                        "Key": count_key(),
                        "UpdateExpression": "ADD #count :one",
                        "ConditionExpression": "attribute_not_exists(#count) OR #count < :most",
                        "ExpressionAttributeNames": {"#count": "count"},
                        "ExpressionAttributeValues": to_attributes({":one": 1, ":most": MAX_ENDPOINTS}),
                    }
                },
            ]
        )
    except TransactionCancelled as cancelled:
        if cancelled.condition_failed(2):
            raise TooManyEndpoints from cancelled
        raise


def read_endpoint(endpoint_id: str) -> Endpoint | None:
    response = client().get_item(TableName=settings.table_name(), Key=endpoint_key(endpoint_id), ConsistentRead=True)
    return endpoint_from_item(response["Item"]) if "Item" in response else None


def all_endpoints() -> list[Endpoint]:
    """Every endpoint, oldest first (at most MAX_ENDPOINTS: one Query)."""
    items, _ = query_page(
        {
            "TableName": settings.table_name(),
            "IndexName": _ENDPOINT_INDEX,
            "KeyConditionExpression": "GSI1PK = :endpoints",
            "ExpressionAttributeValues": to_attributes({":endpoints": ENDPOINTS_PARTITION}),
        },
        MAX_ENDPOINTS,
    )
    return [endpoint_from_item(item) for item in items]


def update_endpoint(endpoint_id: str, values: Mapping[str, Any], removed: tuple[str, ...] = ()) -> Endpoint | None:
    """SET `values` and REMOVE `removed` on an existing endpoint; None if there is none."""
    names = {f"#a{n}": name for n, name in enumerate([*values, *removed])}
    placeholders = list(names)
    sets = [f"{placeholders[n]} = :v{n}" for n in range(len(values))]
    expression = "SET " + ", ".join(sets) if sets else ""
    if removed:
        expression += " REMOVE " + ", ".join(placeholders[len(values) :])
    try:
        response = client().update_item(
            TableName=settings.table_name(),
            Key=endpoint_key(endpoint_id),
            UpdateExpression=expression.strip(),
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=to_attributes({f":v{n}": value for n, value in enumerate(values.values())}),
            ReturnValues="ALL_NEW",
        )
    except ClientError as error:
        if not condition_failed(error):
            raise
        return None
    return endpoint_from_item(response["Attributes"])


def delete_endpoint(endpoint_id: str) -> bool:
    """Delete the endpoint, its secrets and its count; False if there is no such endpoint. Its
    deliveries expire by themselves (TTL)."""
    table = settings.table_name()
    try:
        transact_write(
            [
                {"Delete": {"TableName": table, "Key": endpoint_key(endpoint_id), "ConditionExpression": "attribute_exists(PK)"}},
                {"Delete": {"TableName": table, "Key": secrets_key(endpoint_id)}},
                {
                    "Update": {
                        "TableName": table,
                        "Key": count_key(),
                        "UpdateExpression": "ADD #count :minus_one",
                        "ExpressionAttributeNames": {"#count": "count"},
                        "ExpressionAttributeValues": to_attributes({":minus_one": -1}),
                    }
                },
            ]
        )
    except TransactionCancelled as cancelled:
        if cancelled.condition_failed(0):
            return False
        raise
    return True


def rotate_secret(endpoint_id: str, secret: str, previous_expires_at: int) -> bool:
    """The new secret, the current one kept as the previous until `previous_expires_at`; False
    if the endpoint does not exist. Nothing is read: the update moves the value itself."""
    try:
        client().update_item(
            TableName=settings.table_name(),
            Key=secrets_key(endpoint_id),
            UpdateExpression="SET previous_secret = secret, previous_expires_at = :expires, secret = :secret",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues=to_attributes({":expires": previous_expires_at, ":secret": secret}),
        )
    except ClientError as error:
        if not condition_failed(error):
            raise
        return False
    return True


def delivery_page(endpoint_id: str, limit: int, before: str | None) -> tuple[list[Delivery], bool]:
    """The endpoint's latest deliveries, newest first (before the delivery id `before`)."""
    query: dict[str, Any] = {
        "TableName": settings.table_name(),
        "KeyConditionExpression": "PK = :endpoint AND begins_with(SK, :deliveries)",
        "ExpressionAttributeValues": to_attributes({":endpoint": f"WEBHOOK#{endpoint_id}", ":deliveries": "DELIVERY#"}),
        "ExpressionAttributeNames": _DELIVERY_NAMES,
        "ProjectionExpression": _DELIVERY_FIELDS,
        "ScanIndexForward": False,
    }
    if before is not None:
        query["ExclusiveStartKey"] = delivery_key(endpoint_id, before)
    items, more = query_page(query, limit)
    return [delivery_from_item(item) for item in items], more


def restart_delivery(endpoint_id: str, delivery: str, token: str) -> Delivery | None:
    """Make the delivery pending again, due at once, under a new token (messages with the old
    one are then ignored); None if there is no such delivery."""
    try:
        response = client().update_item(
            TableName=settings.table_name(),
            Key=delivery_key(endpoint_id, delivery),
            UpdateExpression="SET #state = :pending, #token = :token REMOVE next_attempt_at",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeNames={"#state": "state", "#token": "token"},
            ExpressionAttributeValues=to_attributes({":pending": "pending", ":token": token}),
            ReturnValues="ALL_NEW",
        )
    except ClientError as error:
        if not condition_failed(error):
            raise
        return None
    return delivery_from_item(response["Attributes"])
