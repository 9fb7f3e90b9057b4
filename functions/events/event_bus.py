"""Publishing domain events to the stack's EventBridge bus, in order.

`PutEvents` takes 10 entries at a time and may accept some of a call's entries and refuse others
(throttling, an internal error). A call therefore never holds two events of one subject, and
nothing after a call with a refused entry is sent: whatever is retried comes after what was
accepted, so the events of one order or product reach the bus in the order they happened
(repeats aside, which carry the same id).
"""

import os
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger

from events.domain_events import DomainEvent
from shop_common.aws import AwsJsonClient, fallback, lean_client
from shop_common.aws.services import EVENTBRIDGE
from shop_common.money import exact_json

logger = Logger(child=True)

SOURCE = "shop.api"  # every event's `source`: rules match it (docs/events.md)
MAX_ENTRIES = 10  # PutEvents' limit per call
MAX_CALL_BYTES = 200_000  # below PutEvents' 256 KB per call, with room for the envelope


class _LeanEvents:
    """PutEvents on the functions' lean JSON client, with boto3's interface: boto3's client cost
    this function about 2 ms of CPU a call (a sixth of its time while orders came in)."""

    def __init__(self, lean: AwsJsonClient) -> None:
        self.lean = lean

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        return self.lean.call("PutEvents", {"Entries": Entries})


class _Boto3Events:
    """boto3's client, where the environment does not decide the endpoint and credentials alone
    (a profile, a config file): each call counted (`shop_common.aws.fallback`)."""

    def __init__(self) -> None:
        import boto3
        from botocore.config import Config

        self.client = boto3.client(
            "events", config=Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3})
        )

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        fallback.report("events", "PutEvents", "the environment does not decide the endpoint and credentials alone")
        return dict(self.client.put_events(Entries=Entries))


@cache
def _events_client() -> _LeanEvents | _Boto3Events:
    lean = lean_client(EVENTBRIDGE, connect_timeout=2, read_timeout=5)
    return _Boto3Events() if lean is None else _LeanEvents(lean)


def forget_client() -> None:
    _events_client.cache_clear()


def _entry(event: DomainEvent, bus: str) -> dict[str, Any]:
    return {
        "Source": SOURCE,
        "DetailType": event.type,
        "Detail": exact_json(event.detail()),
        "EventBusName": bus,
        "Time": datetime.fromisoformat(event.time).timestamp(),  # epoch seconds: the JSON protocol's timestamps
    }


def calls(events: Sequence[DomainEvent]) -> list[list[int]]:
    """The events (by index, in order) of each PutEvents call: at most 10 and ~200 KB a call,
    never two of one subject in a call."""
    grouped: list[list[int]] = []
    subjects: set[str] = set()
    size = 0
    for index, event in enumerate(events):
        length = len(exact_json(event.detail()).encode()) + 200
        current = grouped[-1] if grouped else None
        if current is None or len(current) == MAX_ENTRIES or event.subject in subjects or size + length > MAX_CALL_BYTES:
            grouped.append([])
            subjects, size = set(), 0
        grouped[-1].append(index)
        subjects.add(event.subject)
        size += length
    return grouped


def publish(events: Sequence[DomainEvent]) -> int:
    """Put the events on the bus in order; returns how many leading events are known to be on
    it (len(events) when all are). An error that outlasts the client's retries stops there."""
    from botocore.exceptions import BotoCoreError, ClientError

    bus = os.environ["EVENT_BUS_NAME"]
    published = 0
    for call in calls(events):
        try:
            response = _events_client().put_events(Entries=[_entry(events[index], bus) for index in call])
        except (BotoCoreError, ClientError):
            logger.exception("PutEvents failed", extra={"events": len(call)})
            return published
        if response.get("FailedEntryCount", 0):
            refused = next(n for n, entry in enumerate(response["Entries"]) if "ErrorCode" in entry)
            return published + refused
        published += len(call)
    return published
