"""DynamoDB access of the staff offers API: the registry, adding, editing and deleting offers, and
the staff's list of every offer (items in `shop_common.offer_store`).

The registry (OFFERS/META) serialises staff writes: it holds the last id given, a version, and
`live`, the ends key of every offer not yet ended, read strongly consistently. Every write that
can add a live offer is conditioned on the version it read, so the cap on live offers holds
under concurrent staff requests (an index Query could miss an offer written a moment before).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shop_common import settings
from shop_common.dynamo import (
    TransactionCancelled,
    client,
    from_attributes,
    query_page,
    to_attributes,
    transact_write,
)
from shop_common.offer_store import (
    OFFERS_PARTITION,
    REGISTRY_KEY,
    ends_key,
    index_sort_key,
    offer_from_item,
    offer_item,
    offer_key,
    terms_attribute,
)
from shop_common.offers import Offer, OfferTerms

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


class OffersChanged(Exception):
    """Another staff write (or an order, for the offer's version) came first: nothing was written."""


@dataclass(frozen=True)
class Registry:
    version: int  # 0: no offer was ever added
    last_id: int
    live: Mapping[int, int]  # offer id -> ends key, for offers not deleted (ended ones go at the next write)

    def live_at(self, now: datetime) -> set[int]:
        """Offers not ended at `now`."""
        now_key = ends_key(now)
        return {offer_id for offer_id, ends in self.live.items() if ends >= now_key}


def read_registry() -> Registry:
    response = client().get_item(TableName=settings.table_name(), Key=to_attributes(REGISTRY_KEY), ConsistentRead=True)
    values = from_attributes(response.get("Item", {}))
    live = {int(offer_id): int(ends) for offer_id, ends in values.get("live", {}).items()}
    return Registry(int(values.get("version", 0)), int(values.get("last_id", 0)), live)


def read_offer(offer_id: int) -> Offer | None:
    """The offer, read strongly consistently; None when there is none or it was deleted."""
    response = client().get_item(TableName=settings.table_name(), Key=to_attributes(offer_key(offer_id)), ConsistentRead=True)
    item = response.get("Item")
    if item is None or "deleted_at" in item:
        return None
    return offer_from_item(item)


def _registry_update(registry: Registry, now: datetime, offer: Offer) -> "TransactWriteItemTypeDef":
    """The registry after writing `offer`: its ends key among the live ones (the ended ones
    dropped), a new version, and the last id; on condition that it is still as read."""
    live = {offer_id: ends for offer_id, ends in registry.live.items() if offer_id in registry.live_at(now)}
    live.pop(offer.id, None)
    ends = ends_key(offer.terms.ends_at)
    if ends >= ends_key(now):
        live[offer.id] = ends
    values: dict[str, Any] = {
        ":version": registry.version + 1,
        ":last_id": max(registry.last_id, offer.id),
        ":live": {str(offer_id): ends for offer_id, ends in live.items()},
    }
    if registry.version:
        condition = "version = :read"
        values[":read"] = registry.version
    else:
        condition = "attribute_not_exists(PK)"
    return {
        "Update": {
            "TableName": settings.table_name(),
            "Key": to_attributes(REGISTRY_KEY),
            "UpdateExpression": "SET version = :version, last_id = :last_id, live = :live",
            "ConditionExpression": condition,
            "ExpressionAttributeValues": to_attributes(values),
        }
    }


def _transact(writes: "list[TransactWriteItemTypeDef]") -> None:
    try:
        transact_write(writes)
    except TransactionCancelled as cancelled:
        raise OffersChanged from cancelled


def insert_offer(terms: OfferTerms, registry: Registry, now: datetime) -> Offer:
    """Add an offer with the next id (one transaction with the registry as read)."""
    offer = Offer(id=registry.last_id + 1, terms=terms)
    put: TransactWriteItemTypeDef = {
        "Put": {
            "TableName": settings.table_name(),
            "Item": to_attributes(offer_item(offer)),
            "ConditionExpression": "attribute_not_exists(PK)",
        }
    }
    _transact([put, _registry_update(registry, now, offer)])
    return offer


def replace_terms(current: Offer, terms: OfferTerms, registry: Registry, now: datetime) -> Offer:
    """Give the offer new terms and a new version, on condition that it is still the version
    read and not deleted (its usage counter, which orders change, is left alone)."""
    updated = current.model_copy(update={"terms": terms, "version": current.version + 1})
    update: TransactWriteItemTypeDef = {
        "Update": {
            "TableName": settings.table_name(),
            "Key": to_attributes(offer_key(current.id)),
            "UpdateExpression": "SET terms = :terms, GSI1SK = :sort, version = :version",
            "ConditionExpression": "version = :read AND attribute_not_exists(deleted_at)",
            "ExpressionAttributeValues": to_attributes(
                {
                    ":terms": terms_attribute(terms),
                    ":sort": index_sort_key(ends_key(terms.ends_at), current.id),
                    ":version": updated.version,
                    ":read": current.version,
                }
            ),
        }
    }
    _transact([update, _registry_update(registry, now, updated)])
    return updated


def delete_offer(offer_id: int, now: datetime) -> bool:
    """Take the offer out of the index and the live ones; False when there is none (or it was
    deleted). Its item and usage counters stay, so cancelling an order that used it gives its
    use back exactly; its new version makes orders priced with it fail their condition."""
    table = settings.table_name()
    writes: list[TransactWriteItemTypeDef] = [
        {
            "Update": {
                "TableName": table,
                "Key": to_attributes(offer_key(offer_id)),
                "UpdateExpression": "SET deleted_at = :now, version = version + :one REMOVE GSI1PK, GSI1SK",
                "ConditionExpression": "attribute_exists(PK) AND attribute_not_exists(deleted_at)",
                "ExpressionAttributeValues": to_attributes({":now": now.isoformat(), ":one": 1}),
            }
        },
        {
            "Update": {
                "TableName": table,
                "Key": to_attributes(REGISTRY_KEY),
                # A new version, so that a concurrent add or edit does not write it back as live.
                "UpdateExpression": "ADD version :one REMOVE live.#offer",
                "ConditionExpression": "attribute_exists(live)",
                "ExpressionAttributeNames": {"#offer": str(offer_id)},
                "ExpressionAttributeValues": to_attributes({":one": 1}),
            }
        },
    ]
    try:
        transact_write(writes)
    except TransactionCancelled as cancelled:
        if cancelled.condition_failed(0):
            return False
        raise OffersChanged from cancelled
    return True


def offer_page(limit: int, after: tuple[int, int] | None) -> tuple[list[Offer], bool]:
    """Up to `limit` offers not deleted, the latest to end first (those without an end first of
    all), after the offer `after` (its ends key and id); and whether more follow."""
    query: dict[str, Any] = {
        "TableName": settings.table_name(),
        "IndexName": "GSI1",
        "KeyConditionExpression": "GSI1PK = :offers",
        "ExpressionAttributeValues": to_attributes({":offers": OFFERS_PARTITION}),
        "ScanIndexForward": False,
    }
    if after is not None:
        ends, offer_id = after
        query["ExclusiveStartKey"] = to_attributes(
            {"GSI1PK": OFFERS_PARTITION, "GSI1SK": index_sort_key(ends, offer_id), **offer_key(offer_id)}
        )
    items, more = query_page(query, limit)
    return [offer_from_item(item) for item in items], more
