"""A batch of stream records to events on the bus, in order, reporting where it stopped.

Lambda hands the function the records of one stream shard in order (every change of one item is
in one shard) and, on a partial failure, sends the batch again from the first record reported.
So the first record whose events are not all on the bus is reported, and everything after it is
left for that retry: the events of one item never overtake each other. A record that cannot be
read (a bug, a malformed item) is reported the same way; after the event source mapping's
retries it goes to the dead-letter queue (docs/events.md, "When events fail").
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aws_lambda_powertools import Logger

from events.domain_events import DomainEvent, events_of

logger = Logger(child=True)

Publish = Callable[[Sequence[DomainEvent]], int]


def publish_records(records: Sequence[Mapping[str, Any]], publish: Publish) -> str | None:
    """Publish the events of `records`; the sequence number of the first record not fully
    published, or None when every record's events are on the bus."""
    pending: list[tuple[str, DomainEvent]] = []  # (the record's sequence number, an event of it)
    unread: str | None = None
    for record in records:
        sequence = str(record["dynamodb"]["SequenceNumber"])
        try:
            pending += [(sequence, event) for event in events_of(record)]
        except Exception:
            logger.exception("A stream record could not be read", extra={"sequence": sequence, "event": record.get("eventName")})
            unread = sequence
            break
    published = publish([event for _, event in pending]) if pending else 0
    if published < len(pending):
        sequence, event = pending[published]
        logger.warning(
            "Events not published: the batch is retried from their record", extra={"sequence": sequence, "event_id": event.id}
        )
        return sequence
    if published:
        logger.info("Events published", extra={"events": published, "types": sorted({event.type for _, event in pending})})
    return unread
