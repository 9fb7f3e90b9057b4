"""DynamoDB access for special offers that orders need: the active offers (cached per container)
and the usage counters an order's transaction increments and a cancellation gives back.

Items (docs/offers.md, "Storage and API"):
- offer         PK=OFFER#<id>  SK=OFFER        id, terms (a map), version, times_used,
                GSI1PK=OFFERS  GSI1SK=<ends_at in ms since 1970, 15 digits>#<id, 12 digits>
                (a deleted offer keeps its item, without the index keys, with `deleted_at`)
- customer use  PK=OFFER#<id>  SK=USER#<user id>  uses   (only offers limited per customer)
- registry      PK=OFFERS      SK=META         last_id, version, live (id -> ends key): staff writes

The index partition `OFFERS` is sorted by when each offer ends, so the offers not yet ended are
one Query of its upper end, however many ended offers staff keep; the offers function allows at
most MAX_LIVE_OFFERS of them, so that Query is small and an order's transaction always fits.
"""

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter

from shop_common import settings
from shop_common.dynamo import from_attributes, query_page, to_attributes
from shop_common.offers import Offer, OfferTerms

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, TransactWriteItemTypeDef

# Offers not yet ended (running or scheduled) at any time: 2 transaction items each at most
# (the offer's counter, the customer's), so an order of 50 products (53 items) stays within
# DynamoDB's 100 items per transaction.
MAX_LIVE_OFFERS = 20
# How long a container reuses its read of the active offers. An offer still ends exactly at its
# `ends_at` (pricing checks the window at the order's time); new, edited and deleted offers
# reach orders within this time, and an order using a limited offer that was edited or deleted
# meanwhile is refused by its transaction's condition on the offer's version.
ACTIVE_OFFERS_CACHE_SECONDS = 30.0

OFFERS_PARTITION = "OFFERS"  # the index partition of offers, and the registry's partition
REGISTRY_KEY = {"PK": OFFERS_PARTITION, "SK": "META"}
# The ends key of an offer without an end: after every real time (year 33658).
NEVER_ENDS = 10**15 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_terms_adapter: TypeAdapter[OfferTerms] = TypeAdapter(OfferTerms)


def offer_key(offer_id: int) -> dict[str, str]:
    return {"PK": f"OFFER#{offer_id}", "SK": "OFFER"}


def customer_use_key(offer_id: int, user_id: int) -> dict[str, str]:
    return {"PK": f"OFFER#{offer_id}", "SK": f"USER#{user_id}"}


def ends_key(ends_at: datetime | None) -> int:
    """When an offer ends, in whole milliseconds since 1970 (NEVER_ENDS without an end)."""
    if ends_at is None:
        return NEVER_ENDS
    return min(max((ends_at - _EPOCH) // timedelta(milliseconds=1), 0), NEVER_ENDS - 1)


def index_sort_key(ends: int, offer_id: int) -> str:
    return f"{ends:015d}#{offer_id:012d}"


def offer_item(offer: Offer) -> dict[str, Any]:
    """The offer's item (Python values), in the index."""
    return {
        **offer_key(offer.id),
        "GSI1PK": OFFERS_PARTITION,
        "GSI1SK": index_sort_key(ends_key(offer.terms.ends_at), offer.id),
        "id": offer.id,
        "terms": terms_attribute(offer.terms),
        "version": offer.version,
        "times_used": offer.times_used,
    }


def terms_attribute(terms: OfferTerms) -> dict[str, Any]:
    """The terms as stored: their JSON form (decimals and times as strings), without nulls."""
    return terms.model_dump(mode="json", exclude_none=True)


def offer_from_item(item: Mapping[str, Any]) -> Offer:
    """An offer from its item (attribute values)."""
    values = from_attributes(item)
    return Offer(
        id=int(values["id"]),
        terms=_terms_adapter.validate_python(values["terms"]),
        version=int(values["version"]),
        times_used=int(values.get("times_used", 0)),
    )


# --- the active offers, cached per container --------------------------------------------------

_cached: tuple[float, list[Offer]] | None = None


def forget_active_offers() -> None:
    """Make the next read reach the table (after an order's transaction found an offer changed)."""
    global _cached
    _cached = None


def active_offers(now: datetime) -> list[Offer]:
    """Every offer not ended at `now` (running or scheduled: pricing checks each window at its
    own time), as this container read them less than ACTIVE_OFFERS_CACHE_SECONDS ago.

    One Query of the upper end of the index partition: at most MAX_LIVE_OFFERS items."""
    global _cached
    clock = time.monotonic()
    if _cached is not None and clock - _cached[0] < ACTIVE_OFFERS_CACHE_SECONDS:
        return list(_cached[1])
    items, _ = query_page(
        {
            "TableName": settings.table_name(),
            "IndexName": "GSI1",
            "KeyConditionExpression": "GSI1PK = :offers AND GSI1SK >= :now",
            "ExpressionAttributeValues": to_attributes({":offers": OFFERS_PARTITION, ":now": f"{ends_key(now):015d}"}),
        },
        MAX_LIVE_OFFERS,
    )
    offers = [offer_from_item(item) for item in items]
    _cached = (clock, offers)
    return list(offers)


# --- usage: what an order counts and a cancellation gives back --------------------------------


@dataclass(frozen=True)
class CountedUse:
    """What an order counted for one offer: its `times_used` and, when `per_customer`, the
    customer's `uses`. The order keeps these so that its cancellation gives back exactly what it
    took, whatever happened to the offer since (edited, its limits changed, deleted)."""

    offer_id: int
    per_customer: bool

    def to_json(self) -> dict[str, Any]:
        return {"offer": self.offer_id, "per_customer": self.per_customer}

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> "CountedUse":
        return cls(int(value["offer"]), bool(value["per_customer"]))


def counted_uses(applied: Iterable[Offer]) -> list[CountedUse]:
    """The counters an order that applied these offers increments: those of offers with a limit."""
    return [CountedUse(offer.id, offer.terms.max_uses_per_customer is not None) for offer in applied if offer.limited]


def usage_writes(applied: Iterable[Offer], user_id: int) -> "list[TransactWriteItemTypeDef]":
    """The writes an order's transaction appends for the offers it applied, as they were read:
    for each offer with a limit, `times_used` + 1 on condition that the offer is still the
    version priced (not edited or deleted since) and below `max_uses`; for each offer with a
    per-customer limit, the customer's `uses` + 1 below `max_uses_per_customer`. Offers without
    limits write nothing (no hot item). A failed condition cancels the order: forget the cached
    offers, read them again and price again (`failed_offers` names them)."""
    table = settings.table_name()
    writes: list[TransactWriteItemTypeDef] = []
    for offer in applied:
        if not offer.limited:
            continue
        terms = offer.terms
        condition = "version = :version"
        values: dict[str, Any] = {":one": 1, ":version": offer.version}
        if terms.max_uses is not None:
            condition += " AND times_used < :max"
            values[":max"] = terms.max_uses
        writes.append(
            {
                "Update": {
                    "TableName": table,
                    "Key": to_attributes(offer_key(offer.id)),
                    "UpdateExpression": "ADD times_used :one",
                    "ConditionExpression": condition,
                    "ExpressionAttributeValues": to_attributes(values),
                }
            }
        )
        if terms.max_uses_per_customer is not None:
            writes.append(
                {
                    "Update": {
                        "TableName": table,
                        "Key": to_attributes(customer_use_key(offer.id, user_id)),
                        "UpdateExpression": "ADD uses :one",
                        "ConditionExpression": "attribute_not_exists(uses) OR uses < :max",
                        "ExpressionAttributeValues": to_attributes({":one": 1, ":max": terms.max_uses_per_customer}),
                    }
                }
            )
    return writes


def usage_returns(counted: Iterable[CountedUse], user_id: int) -> "list[TransactWriteItemTypeDef]":
    """The writes a cancellation's (status-guarded) transaction appends: each counter the order
    incremented, minus one. Offer items are never deleted (a deleted offer keeps its item and
    counters), so these always find what the order counted."""
    table = settings.table_name()
    writes: list[TransactWriteItemTypeDef] = []
    for use in counted:
        keys = [(offer_key(use.offer_id), "times_used")]
        if use.per_customer:
            keys.append((customer_use_key(use.offer_id, user_id), "uses"))
        for key, counter in keys:
            writes.append(
                {
                    "Update": {
                        "TableName": table,
                        "Key": to_attributes(key),
                        "UpdateExpression": f"ADD {counter} :minus_one",
                        "ExpressionAttributeValues": to_attributes({":minus_one": -1}),
                    }
                }
            )
    return writes


def failed_offers(writes: "Sequence[TransactWriteItemTypeDef]", reasons: Sequence[Mapping[str, Any]]) -> set[int]:
    """The offers whose usage condition failed: `writes` as `usage_writes` made them, `reasons`
    the transaction's CancellationReasons at the same positions."""
    failed = set()
    for write, reason in zip(writes, reasons, strict=True):
        if reason.get("Code") == "ConditionalCheckFailed":
            partition = from_attributes(write["Update"]["Key"])["PK"]
            failed.add(int(partition.removeprefix("OFFER#")))
    return failed


def customer_use_keys(offers: Iterable[Offer], user_id: int) -> "list[dict[str, AttributeValueTypeDef]]":
    """Keys to add to the order's BatchGetItem: the customer's uses of each offer limited per
    customer (the projection must name `uses`)."""
    return [
        to_attributes(customer_use_key(offer.id, user_id)) for offer in offers if offer.terms.max_uses_per_customer is not None
    ]


def customer_uses(items: Iterable[Mapping[str, Any]], user_id: int) -> dict[int, int]:
    """The customer's uses per offer id, from the BatchGetItem's items (attribute values; other
    items are ignored). An offer without an item has not been used by the customer."""
    uses = {}
    for item in items:
        partition, sort = item.get("PK", {}).get("S", ""), item.get("SK", {}).get("S", "")
        if partition.startswith("OFFER#") and sort == f"USER#{user_id}":
            uses[int(partition.removeprefix("OFFER#"))] = int(from_attributes(item).get("uses", 0))
    return uses
