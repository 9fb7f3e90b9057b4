"""An event from the bus becomes one delivery per endpoint that subscribed to its type: a
delivery item (its payload, the body every attempt sends) and a queue message asking for its
first attempt. A delivery's id derives from the event and the endpoint, so an event fanned out
twice (a repeated message) finds its deliveries there and queues only those not yet attempted."""

import json
import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger

from shop_common import webhook_queue
from shop_common.webhook_items import Delivery, Endpoint, delivery_id, delivery_message
from webhook_sender.store import create_delivery, delivery_ttl, subscribed_endpoints

logger = Logger(child=True)


def payload(detail: Mapping[str, Any]) -> str:
    """The body of every attempt: Standard Webhooks' `{"type", "timestamp", "data"}`."""
    return json.dumps({"type": detail["type"], "timestamp": detail["time"], "data": detail["data"]}, separators=(",", ":"))


def _event_milliseconds(detail: Mapping[str, Any]) -> int:
    return round(datetime.fromisoformat(str(detail["time"])).timestamp() * 1000)


def deliveries_of(detail: Mapping[str, Any], endpoints: Sequence[Endpoint], now: float) -> list[Delivery]:
    """The deliveries one event makes (none when no enabled endpoint wants its type)."""
    created = datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    body = payload(detail)
    return [
        Delivery(
            endpoint_id=endpoint.id,
            id=delivery_id(str(detail["id"]), _event_milliseconds(detail), endpoint.id),
            event_id=str(detail["id"]),
            event_type=str(detail["type"]),
            payload=body,
            created=created,
            state="pending",
            attempts=0,
            token=secrets.token_hex(8),
            next_attempt_at=int(now),
            last_attempt_at=None,
            status_code=None,
            latency_ms=None,
            error=None,
        )
        for endpoint in endpoints
        if endpoint.wants(str(detail["type"]))
    ]


def fan_out(
    events: Sequence[tuple[str, Mapping[str, Any]]],
    now: float,
    read_endpoints: Callable[[], list[Endpoint]] = subscribed_endpoints,
) -> list[str]:
    """Fan out the bus's events (message id, EventBridge event); the message ids to retry."""
    endpoints = read_endpoints()
    failed = []
    for message_id, event in events:
        try:
            queued = []
            for delivery in deliveries_of(event["detail"], endpoints, now):
                existing = create_delivery(delivery, delivery_ttl(now))
                if existing is None:
                    queued.append(delivery_message(delivery.endpoint_id, delivery.id, delivery.token))
                elif existing.state == "pending" and existing.attempts == 0:
                    # Put before, but its message may not have been queued: queue it (again).
                    queued.append(delivery_message(existing.endpoint_id, existing.id, existing.token))
            webhook_queue.send(queued)
        except Exception:
            logger.exception("Could not fan out an event", extra={"message_id": message_id})
            failed.append(message_id)
            continue
        if queued:
            logger.info("Deliveries queued", extra={"event_id": event["detail"]["id"], "deliveries": len(queued)})
    return failed
