"""DynamoDB access of the webhook sender (items: shop_common.webhook_items): the endpoints an
event goes to, one delivery per event and endpoint, each attempt's result, and the endpoint's
health (failing since when, disabled)."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from shop_common import settings
from shop_common.dynamo import batch_get, client, condition_failed, from_attributes, query_page, to_attributes
from shop_common.webhook_items import (
    DELIVERY_DAYS,
    ENDPOINTS_PARTITION,
    MAX_ENDPOINTS,
    Delivery,
    Endpoint,
    delivery_from_item,
    delivery_key,
    endpoint_from_item,
    endpoint_key,
    secrets_key,
)


@dataclass(frozen=True)
class Secrets:
    current: str
    previous: str | None
    previous_expires_at: int | None

    def valid_at(self, now: float) -> list[str]:
        """The secrets that sign a delivery made at `now`: the current one, and the previous
        one during its overlap."""
        keep_previous = self.previous is not None and self.previous_expires_at is not None and now < self.previous_expires_at
        return [self.current, *([self.previous] if keep_previous and self.previous else [])]


def subscribed_endpoints() -> list[Endpoint]:
    """Every endpoint (one Query of at most MAX_ENDPOINTS)."""
    items, _ = query_page(
        {
            "TableName": settings.table_name(),
            "IndexName": "GSI1",
            "KeyConditionExpression": "GSI1PK = :endpoints",
            "ExpressionAttributeValues": to_attributes({":endpoints": ENDPOINTS_PARTITION}),
        },
        MAX_ENDPOINTS,
    )
    return [endpoint_from_item(item) for item in items]


def create_delivery(delivery: Delivery, expires_at: int) -> Delivery | None:
    """Put a new delivery; None if it was new, else the one already there (the event was
    fanned out before)."""
    values = {
        **{name: value for name, value in from_attributes(delivery_key(delivery.endpoint_id, delivery.id)).items()},
        "event_id": delivery.event_id,
        "event_type": delivery.event_type,
        "payload": delivery.payload,
        "created": delivery.created,
        "state": delivery.state,
        "attempts": 0,
        "token": delivery.token,
        "next_attempt_at": delivery.next_attempt_at,
        "expires_at": expires_at,
    }
    try:
        client().put_item(
            TableName=settings.table_name(),
            Item=to_attributes(values),
            ConditionExpression="attribute_not_exists(SK)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        if not condition_failed(error):
            raise
        existing: Any = error.response.get("Item")
        return delivery_from_item(existing) if existing else None
    return None


@dataclass(frozen=True)
class AttemptState:
    endpoint: Endpoint | None
    secrets: Secrets | None
    delivery: Delivery | None


def attempt_states(wanted: Iterable[tuple[str, str]]) -> dict[tuple[str, str], AttemptState]:
    """For each (endpoint id, delivery id): the endpoint, its secrets and the delivery, read
    in one strongly consistent BatchGetItem (throttled keys retried)."""
    pairs = list(dict.fromkeys(wanted))
    endpoint_ids = list(dict.fromkeys(endpoint for endpoint, _ in pairs))
    keys = [endpoint_key(e) for e in endpoint_ids] + [secrets_key(e) for e in endpoint_ids]
    keys += [delivery_key(endpoint, delivery) for endpoint, delivery in pairs]
    found = {(item["PK"]["S"], item["SK"]["S"]): item for item in batch_get(keys, consistent=True)}

    def read(key: Mapping[str, Any]) -> Any:
        return found.get((key["PK"]["S"], key["SK"]["S"]))

    states = {}
    for endpoint_id, delivery in pairs:
        endpoint_item, secrets_item = read(endpoint_key(endpoint_id)), read(secrets_key(endpoint_id))
        delivery_item = read(delivery_key(endpoint_id, delivery))
        secrets = None
        if secrets_item is not None:
            values = from_attributes(secrets_item)
            expires = values.get("previous_expires_at")
            secrets = Secrets(str(values["secret"]), values.get("previous_secret"), int(expires) if expires is not None else None)
        states[(endpoint_id, delivery)] = AttemptState(
            endpoint_from_item(endpoint_item) if endpoint_item is not None else None,
            secrets,
            delivery_from_item(delivery_item) if delivery_item is not None else None,
        )
    return states


def record_attempt(delivery: Delivery, values: Mapping[str, Any], removed: Sequence[str] = ()) -> bool:
    """Write an attempt's result on the delivery, if it is still this message's to attempt
    (pending under the same token); False if a redelivery or another attempt came first."""
    names = {f"#a{n}": name for n, name in enumerate([*values, *removed])}
    placeholders = list(names)
    expression = "SET " + ", ".join(f"{placeholders[n]} = :v{n}" for n in range(len(values)))
    if removed:
        expression += " REMOVE " + ", ".join(placeholders[len(values) :])
    try:
        client().update_item(
            TableName=settings.table_name(),
            Key=delivery_key(delivery.endpoint_id, delivery.id),
            UpdateExpression=expression,
            ConditionExpression="#state = :pending AND #token = :token",
            ExpressionAttributeNames={**names, "#state": "state", "#token": "token"},
            ExpressionAttributeValues=to_attributes(
                {**{f":v{n}": value for n, value in enumerate(values.values())}, ":pending": "pending", ":token": delivery.token}
            ),
        )
    except ClientError as error:
        if not condition_failed(error):
            raise
        return False
    return True


def _update_endpoint(endpoint_id: str, expression: str, condition: str, values: Mapping[str, Any]) -> bool:
    request: dict[str, Any] = {
        "TableName": settings.table_name(),
        "Key": endpoint_key(endpoint_id),
        "UpdateExpression": expression,
        "ConditionExpression": condition,
    }
    if values:
        request["ExpressionAttributeValues"] = to_attributes(values)
    try:
        client().update_item(**request)
    except ClientError as error:
        if not condition_failed(error):
            raise
        return False
    return True


def mark_failing(endpoint_id: str, since: int) -> None:
    """The first failure since the last success (a concurrent one may have marked it first)."""
    _update_endpoint(
        endpoint_id,
        "SET failing_since = :since",
        "attribute_exists(PK) AND attribute_not_exists(failing_since)",
        {":since": since},
    )


def mark_healthy(endpoint_id: str) -> None:
    _update_endpoint(endpoint_id, "REMOVE failing_since", "attribute_exists(failing_since)", {})


def disable(endpoint_id: str, failing_since: int, disabled_at: str, reason: str) -> bool:
    """Disable the endpoint that has been failing since `failing_since`; False if it changed
    meanwhile (a success, or staff)."""
    return _update_endpoint(
        endpoint_id,
        "SET enabled = :off, disabled_at = :at, disabled_reason = :reason",
        "enabled = :on AND failing_since = :since",
        {":off": False, ":on": True, ":at": disabled_at, ":reason": reason, ":since": failing_since},
    )


def delivery_ttl(now: float) -> int:
    return int(now) + DELIVERY_DAYS * 86_400
