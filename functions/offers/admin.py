"""The offers API's rules, independent of HTTP: what the public sees, the staff's list, and each
staff change, with the cap on live offers (docs/offers.md, "Storage and API")."""

from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from offers.store import OffersChanged, delete_offer, insert_offer, offer_page, read_offer, read_registry, replace_terms
from shop_common.api import validation_message
from shop_common.cursors import decode_cursor_numbers, encode_cursor
from shop_common.errors import Conflict, InvalidRequest, NotFound
from shop_common.offer_store import MAX_LIVE_OFFERS, active_offers, ends_key, forget_active_offers
from shop_common.offers import Offer, OfferTerms

logger = Logger(child=True)

# Attempts when another staff write (or, for an edit, an order) came between our read and write.
_WRITE_ATTEMPTS = 3
_AFTER = "f"  # cursor tag: the page starts after this offer (its ends key and id)


def current_offers(now: datetime) -> list[Offer]:
    """The offers a customer can use at `now` (window open, overall limit not reached), in the
    order they apply: higher priority first, then lower id. From the container's cached read,
    as orders price with."""
    # A customer who has not used an offer yet may use it (its per-customer limit is at least 1).
    usable = [offer for offer in active_offers(now) if offer.available(now, customer_uses=0)]
    return sorted(usable, key=lambda offer: (-offer.terms.priority, offer.id))


def staff_page(limit: int, cursor: str | None) -> tuple[list[Offer], str | None]:
    """Every offer not deleted (ended and scheduled ones too), the latest to end first, and the
    cursor of the next page. Only for staff: the handler checks the caller before routing."""
    after = decode_cursor_numbers(cursor, _AFTER, counts=(2,))[1] if cursor else None
    offers, more = offer_page(limit, (after[0], after[1]) if after else None)
    if not (more and offers):
        return offers, None
    last = offers[-1]
    return offers, encode_cursor(_AFTER, ends_key(last.terms.ends_at), last.id)


def _over_the_cap() -> Conflict:
    message = f"At most {MAX_LIVE_OFFERS} offers may be running or scheduled; end or delete one first."
    return Conflict(message, code="too_many_offers")


def _kept_changing() -> Conflict:
    return Conflict("The offers kept changing; nothing was written. Retrying is safe.", code="conflict")


def _not_found(offer_id: int) -> NotFound:
    return NotFound("Not found.", errors=[{"field": "offer_id", "message": f"No offer with id {offer_id}."}])


def add(terms: OfferTerms, now: datetime) -> Offer:
    for _ in range(_WRITE_ATTEMPTS):
        registry = read_registry()
        if ends_key(terms.ends_at) >= ends_key(now) and len(registry.live_at(now)) >= MAX_LIVE_OFFERS:
            raise _over_the_cap()
        try:
            offer = insert_offer(terms, registry, now)
        except OffersChanged:
            continue
        forget_active_offers()  # this container shows it at once; others within the cache's time
        logger.info("Offer added", extra={"offer_id": offer.id, "kind": terms.kind})
        return offer
    raise _kept_changing()


def _merged_terms(current: Offer, changes: dict[str, Any]) -> OfferTerms:
    kind = current.terms.kind
    if changes.get("kind", kind) != kind:
        message = f"An offer's kind cannot change (this one is {kind}); delete it and add another."
        raise InvalidRequest("Invalid request.", errors=[{"field": "kind", "message": message}])
    merged = current.terms.model_dump(mode="json") | changes
    try:
        return type(current.terms).model_validate(merged)
    except ValidationError as invalid:
        errors = [
            {"field": ".".join(str(part) for part in error["loc"]) or "body", "message": validation_message(error)}
            for error in invalid.errors()
        ]
        raise InvalidRequest("Invalid request.", errors=errors) from invalid


def change(offer_id: int, changes: dict[str, Any], now: datetime) -> Offer:
    """The offer with `changes` merged into its terms, checked as a whole; a new version."""
    for _ in range(_WRITE_ATTEMPTS):
        current = read_offer(offer_id)
        if current is None:
            raise _not_found(offer_id)
        terms = _merged_terms(current, changes)
        if terms == current.terms:
            return current
        registry = read_registry()
        others = registry.live_at(now) - {offer_id}
        if ends_key(terms.ends_at) >= ends_key(now) and len(others) >= MAX_LIVE_OFFERS:
            raise _over_the_cap()
        try:
            offer = replace_terms(current, terms, registry, now)
        except OffersChanged:
            continue
        forget_active_offers()
        logger.info("Offer changed", extra={"offer_id": offer_id, "fields": sorted(changes), "version": offer.version})
        return offer
    raise _kept_changing()


def remove(offer_id: int, now: datetime) -> None:
    for _ in range(_WRITE_ATTEMPTS):
        try:
            deleted = delete_offer(offer_id, now)
        except OffersChanged:
            continue
        if not deleted:
            raise _not_found(offer_id)
        forget_active_offers()
        logger.info("Offer deleted", extra={"offer_id": offer_id})
        return
    raise _kept_changing()
