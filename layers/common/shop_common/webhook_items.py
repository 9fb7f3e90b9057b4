"""Webhook endpoints and their deliveries as items of the table (docs/data-model.md): the staff
API writes endpoints and reads deliveries, the sender reads endpoints and writes deliveries.

- endpoint   PK=WEBHOOK#<id>        SK=WEBHOOK      GSI1: WEBHOOKS / <created>#<id>
             url, events, description, enabled, created, failing_since, disabled_at, disabled_reason
- secrets    PK=WEBHOOKSECRET#<id>  SK=SECRETS      secret, previous_secret, previous_expires_at
- delivery   PK=WEBHOOK#<id>        SK=DELIVERY#<delivery id>   (TTL: expires_at, 30 days)
             event_id, event_type, payload, created, state, attempts, token, next_attempt_at,
             last_attempt_at, status_code, latency_ms, error
- count      PK=WEBHOOKS            SK=META         count (at most MAX_ENDPOINTS endpoints)

Secrets live in a partition of their own so that IAM, which sees only partition keys, lets the
staff API write them (inside transactions) but never read them, and the sender read them.
"""

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from shop_common.dynamo import from_attributes, to_attributes

MAX_ENDPOINTS = 50  # a shop's receivers; every event reads them all (one Query)
ENDPOINTS_PARTITION = "WEBHOOKS"  # GSI1's partition of every endpoint, and the count's PK
DELIVERY_DAYS = 30  # deliveries are kept (TTL) this long
SECRET_OVERLAP_SECONDS = 24 * 3600  # after a rotation, the previous secret still signs this long

DeliveryState = Literal["pending", "succeeded", "failed", "skipped"]


def endpoint_key(endpoint_id: str) -> dict[str, Any]:
    return to_attributes({"PK": f"WEBHOOK#{endpoint_id}", "SK": "WEBHOOK"})


def secrets_key(endpoint_id: str) -> dict[str, Any]:
    return to_attributes({"PK": f"WEBHOOKSECRET#{endpoint_id}", "SK": "SECRETS"})


def delivery_key(endpoint_id: str, delivery_id: str) -> dict[str, Any]:
    return to_attributes({"PK": f"WEBHOOK#{endpoint_id}", "SK": f"DELIVERY#{delivery_id}"})


def count_key() -> dict[str, Any]:
    return to_attributes({"PK": ENDPOINTS_PARTITION, "SK": "META"})


def delivery_id(event_id: str, event_time_ms: int, endpoint_id: str) -> str:
    """One delivery per event and endpoint, its id sorting by the event's time: the same event
    fanned out twice (a repeated message) finds its delivery already there."""
    digest = hashlib.sha256(f"{endpoint_id}\x1f{event_id}".encode()).hexdigest()[:12]
    return f"{event_time_ms:013d}-{digest}"


@dataclass(frozen=True)
class Endpoint:
    id: str
    url: str
    events: tuple[str, ...]
    description: str
    enabled: bool
    created: str
    failing_since: int | None  # unix seconds of the first failure since the last success
    disabled_at: str | None
    disabled_reason: str | None

    @property
    def status(self) -> str:
        """`disabled` (by staff or after failing for days), `failing`, or `healthy`."""
        if not self.enabled:
            return "disabled"
        return "failing" if self.failing_since is not None else "healthy"

    def wants(self, event_type: str) -> bool:
        return self.enabled and event_type in self.events


def endpoint_from_item(item: Mapping[str, Any]) -> Endpoint:
    values = from_attributes(item)
    failing = values.get("failing_since")
    return Endpoint(
        id=str(values["id"]),
        url=str(values["url"]),
        events=tuple(str(kind) for kind in values.get("events", [])),
        description=str(values.get("description", "")),
        enabled=values.get("enabled") is True,
        created=str(values["created"]),
        failing_since=int(failing) if failing is not None else None,
        disabled_at=values.get("disabled_at"),
        disabled_reason=values.get("disabled_reason"),
    )


@dataclass(frozen=True)
class Delivery:
    endpoint_id: str
    id: str
    event_id: str
    event_type: str
    payload: str  # the body sent, exactly (its signature covers these bytes)
    created: str
    state: DeliveryState
    attempts: int
    token: str  # which message may attempt it: a redelivery issues a new one
    next_attempt_at: int | None  # unix seconds
    last_attempt_at: str | None
    status_code: int | None
    latency_ms: int | None
    error: str | None

    def to_json(self) -> dict[str, Any]:
        """What staff see of a delivery (`GET /api/webhooks/{id}/deliveries`)."""
        return {
            "id": self.id,
            "event": {"id": self.event_id, "type": self.event_type},
            "state": self.state,
            "attempts": self.attempts,
            "status_code": self.status_code,
            "latency_ms": self.latency_ms,
            "error": self.error,
            "created": self.created,
            "last_attempt_at": self.last_attempt_at,
            "next_retry_at": _iso(self.next_attempt_at) if self.state == "pending" and self.next_attempt_at else None,
        }


def _iso(seconds: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _optional_int(value: Any) -> int | None:
    return int(value) if value is not None else None


def delivery_from_item(item: Mapping[str, Any]) -> Delivery:
    values = from_attributes(item)
    return Delivery(
        endpoint_id=str(values["PK"]).removeprefix("WEBHOOK#"),
        id=str(values["SK"]).removeprefix("DELIVERY#"),
        event_id=str(values["event_id"]),
        event_type=str(values["event_type"]),
        payload=str(values.get("payload", "")),
        created=str(values["created"]),
        state=values["state"],
        attempts=int(values.get("attempts", 0)),
        token=str(values.get("token", "")),
        next_attempt_at=_optional_int(values.get("next_attempt_at")),
        last_attempt_at=values.get("last_attempt_at"),
        status_code=_optional_int(values.get("status_code")),
        latency_ms=_optional_int(values.get("latency_ms")),
        error=values.get("error"),
    )


def delivery_message(endpoint_id: str, delivery: str, token: str) -> str:
    """The queue message that asks the sender for one attempt of a delivery."""
    import json

    return json.dumps({"delivery": {"endpoint": endpoint_id, "id": delivery, "token": token}}, separators=(",", ":"))
