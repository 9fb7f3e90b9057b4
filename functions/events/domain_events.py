"""What an item change means to the rest of the business: the domain events of one DynamoDB
stream record (docs/events.md lists them with the writes that cause them).

Each event's id is derived from the change itself (the item's keys, the record's sequence
number and the event's type), so a record read again (Lambda's retries, a replay of the stream)
gives the same ids, and a consumer that has seen an id can drop the repeat. Its `data` is what
the API shows: the order of `GET /api/orders/{id}`, the product of `GET /api/products/{id}`, the
profile of `POST /api/register`. A write that changed nothing that an event reports (an order's
stock decrement, a renamed product) has no event.
"""

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from shop_common.catalog import product_json
from shop_common.dynamo import from_attributes
from shop_common.event_types import (
    ORDER_CANCELLED,
    ORDER_PLACED,
    PRODUCT_BACK_IN_STOCK,
    PRODUCT_PRICE_CHANGED,
    PRODUCT_SOLD_OUT,
    USER_REGISTERED,
)
from shop_common.orders import order_json
from shop_common.profiles import profile_from_item, public

Image = Mapping[str, Any]  # an item as DynamoDB attribute values

# The stored attribute that holds a product's stock (what the API shows as its stock).
STOCK_ATTRIBUTE = "quantity_in_stock"


@dataclass(frozen=True)
class DomainEvent:
    id: str
    type: str
    time: str  # ISO 8601, UTC, when the change was made (the stream record's time)
    subject: str  # the changed item's keys: events of one subject keep their order
    data: dict[str, Any]

    def detail(self) -> dict[str, Any]:
        """The event as published: id, type, time and data."""
        return {"id": self.id, "type": self.type, "time": self.time, "data": self.data}


def event_id(subject: str, sequence: str, event_type: str) -> str:
    """`evt_` and 26 base32 characters (130 bits) of a hash of the change and the event's type."""
    digest = hashlib.sha256(f"{subject}\x1f{sequence}\x1f{event_type}".encode()).digest()
    return "evt_" + base64.b32encode(digest).decode().lower()[:26]


def record_time(approximate: Any) -> str:
    """The record's time, ISO 8601 in UTC: Lambda gives Unix seconds; the AWS CLI's
    `get-records` (a replay, docs/operations.md) an ISO 8601 string."""
    if isinstance(approximate, str) and not approximate.replace(".", "", 1).isdigit():
        moment = datetime.fromisoformat(approximate).astimezone(UTC)
    else:
        moment = datetime.fromtimestamp(float(approximate), UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def events_of(record: Mapping[str, Any]) -> list[DomainEvent]:
    """The domain events of one stream record (usually none: most changes report nothing)."""
    change = record["dynamodb"]
    keys = from_attributes(change["Keys"])
    partition, sort = str(keys["PK"]), str(keys["SK"])
    old, new = change.get("OldImage"), change.get("NewImage")
    if partition.startswith("ORDERS#") and sort.startswith("ORDER#"):
        found = _order_events(old, new)
    elif partition.startswith("PRODUCT#") and sort == "PRODUCT":
        found = _product_events(old, new)
    elif partition.startswith("USER#") and sort == "PROFILE":
        found = [(USER_REGISTERED, public(profile_from_item(new)))] if old is None and new is not None else []
    else:
        return []
    subject = f"{partition}/{sort}"
    sequence = str(change["SequenceNumber"])
    when = record_time(change["ApproximateCreationDateTime"])
    return [DomainEvent(event_id(subject, sequence, kind), kind, when, subject, data) for kind, data in found]


def _status(image: Image) -> str:
    # Orders placed before statuses existed have none: they are placed.
    return str(image["status"]["S"]) if "status" in image else "placed"


def _order_events(old: Image | None, new: Image | None) -> list[tuple[str, dict[str, Any]]]:
    if new is None:
        return []
    if old is None:
        return [(ORDER_PLACED, order_json(new))] if _status(new) == "placed" else []
    if _status(old) == "placed" and _status(new) == "cancelled":
        return [(ORDER_CANCELLED, order_json(new))]
    return []


def _stock(image: Image) -> int:
    return int(image[STOCK_ATTRIBUTE]["N"])


def _product_events(old: Image | None, new: Image | None) -> list[tuple[str, dict[str, Any]]]:
    if old is None or new is None:
        return []  # added or deleted: no event reports that (yet)
    found: list[tuple[str, dict[str, Any]]] = []
    product = product_json(dict(new))
    if Decimal(old["price"]["N"]) != Decimal(new["price"]["N"]):
        found.append((PRODUCT_PRICE_CHANGED, {**product, "previous_price": product_json(dict(old))["price"]}))
    before, after = _stock(old), _stock(new)
    if before > 0 and after == 0:
        found.append((PRODUCT_SOLD_OUT, product))
    elif before == 0 and after > 0:
        found.append((PRODUCT_BACK_IN_STOCK, product))
    return found
