"""shop_common.offer_store: the active offers (one Query, cached per container for a stated time),
and the usage counters an order's transaction increments under conditions, under concurrency."""

import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pydantic import TypeAdapter

from shop_common import offer_store, settings
from shop_common.dynamo import client, from_attributes, to_attributes
from shop_common.offer_store import (
    MAX_LIVE_OFFERS,
    CountedUse,
    active_offers,
    counted_uses,
    customer_use_key,
    customer_use_keys,
    customer_uses,
    failed_offers,
    forget_active_offers,
    offer_item,
    offer_key,
    usage_returns,
    usage_writes,
)
from shop_common.offers import Offer, OfferTerms

NOW = datetime.now(UTC)
terms_adapter: TypeAdapter[OfferTerms] = TypeAdapter(OfferTerms)


def make_offer(offer_id: int, **terms: Any) -> Offer:
    fields = {"kind": "percent_off", "name": f"offer {offer_id}", "percent": "10", "starts_at": NOW - timedelta(days=1)} | terms
    return Offer(id=offer_id, terms=terms_adapter.validate_python(fields))


def store(*offers: Offer) -> None:
    for offer in offers:
        client().put_item(TableName=settings.table_name(), Item=to_attributes(offer_item(offer)))


def stored(offer_id: int, user_id: int | None = None) -> dict[str, Any]:
    key = offer_key(offer_id) if user_id is None else customer_use_key(offer_id, user_id)
    response = client().get_item(TableName=settings.table_name(), Key=to_attributes(key), ConsistentRead=True)
    return from_attributes(response.get("Item", {}))


# --- the active offers ------------------------------------------------------------------------


def test_the_read_is_one_query_of_the_offers_not_ended_scheduled_ones_included(dynamodb_calls: Any) -> None:
    ended = make_offer(1, ends_at=NOW - timedelta(seconds=1))
    running = make_offer(2, ends_at=NOW + timedelta(hours=1))
    scheduled = make_offer(3, starts_at=NOW + timedelta(days=1), ends_at=NOW + timedelta(days=2))
    open_ended = make_offer(4)
    store(ended, running, scheduled, open_ended)
    dynamodb_calls.clear()
    assert sorted(offer.id for offer in active_offers(NOW)) == [2, 3, 4]
    assert dynamodb_calls.operations == ["Query"]
    assert dynamodb_calls.items_read == 3  # the ended offer is not even read
    assert active_offers(NOW) == active_offers(NOW)  # the terms, versions and counters round-trip
    assert {offer.id: offer for offer in active_offers(NOW)}[2] == running


def test_the_read_is_cached_for_the_stated_time_and_can_be_forgotten(
    monkeypatch: pytest.MonkeyPatch, dynamodb_calls: Any
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(offer_store, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    monkeypatch.setattr(offer_store, "ACTIVE_OFFERS_CACHE_SECONDS", 30.0)
    forget_active_offers()
    store(make_offer(1))
    dynamodb_calls.clear()
    assert [offer.id for offer in active_offers(NOW)] == [1]
    store(make_offer(2))  # added meanwhile: not seen until the cached read expires
    clock[0] += 29.9
    assert [offer.id for offer in active_offers(NOW)] == [1]
    assert dynamodb_calls.operations.count("Query") == 1
    clock[0] += 0.1
    assert sorted(offer.id for offer in active_offers(NOW)) == [1, 2]
    assert dynamodb_calls.operations.count("Query") == 2
    store(make_offer(3))
    forget_active_offers()  # e.g. after an order's transaction found an offer changed
    assert sorted(offer.id for offer in active_offers(NOW)) == [1, 2, 3]
    assert dynamodb_calls.operations.count("Query") == 3


def test_a_cached_offer_that_ended_meanwhile_stops_at_its_exact_end(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(offer_store, "time", SimpleNamespace(monotonic=lambda: 1000.0))
    monkeypatch.setattr(offer_store, "ACTIVE_OFFERS_CACHE_SECONDS", 30.0)
    ends_at = NOW + timedelta(seconds=5)
    store(make_offer(1, ends_at=ends_at))
    (cached,) = active_offers(NOW)
    (still_cached,) = active_offers(ends_at)  # the same read, 5 s later
    assert still_cached.available(ends_at - timedelta(microseconds=1), 0)
    assert not still_cached.available(ends_at, 0)  # pricing checks the window at the order's time
    assert cached is still_cached


# --- usage counters ---------------------------------------------------------------------------


def transact(writes: list[Any]) -> str | None:
    """Run one transaction; None when it was applied, else the cancellation's reasons."""
    try:
        client().transact_write_items(TransactItems=writes)
    except ClientError as error:
        return ",".join(reason.get("Code", "") for reason in error.response.get("CancellationReasons", []))
    return None


def race(count: int, attempt: Callable[[int], str | None]) -> list[str | None]:
    start = threading.Barrier(count)
    results: list[str | None] = [None] * count

    def run(index: int) -> None:
        start.wait()
        results[index] = attempt(index)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def until_settled(attempt: Callable[[], str | None]) -> str | None:
    """Retry a transaction cancelled only by a conflict (as the order service does)."""
    for _ in range(50):
        result = attempt()
        if result is None or "ConditionalCheckFailed" in result:
            return result
    return result


def test_an_offer_limited_to_n_uses_is_never_used_n_plus_one_times() -> None:
    offer = make_offer(1, max_uses=5)
    store(offer)
    results = race(20, lambda user: until_settled(lambda: transact(usage_writes([offer], user + 1))))
    assert Counter(result is None for result in results) == {True: 5, False: 15}
    assert stored(1)["times_used"] == 5


def test_a_per_customer_limit_holds_under_concurrency_and_for_each_customer_alone() -> None:
    offer = make_offer(1, max_uses_per_customer=2)
    store(offer)
    results = race(10, lambda _: until_settled(lambda: transact(usage_writes([offer], 7))))
    assert Counter(result is None for result in results) == {True: 2, False: 8}
    assert stored(1, user_id=7)["uses"] == 2
    assert transact(usage_writes([offer], 8)) is None  # another customer still may
    assert stored(1, user_id=8)["uses"] == 1
    assert stored(1)["times_used"] == 3  # every counted order, for exact returns


def test_both_limits_together_under_concurrency() -> None:
    offer = make_offer(1, max_uses=4, max_uses_per_customer=1)
    store(offer)
    results = race(12, lambda index: until_settled(lambda: transact(usage_writes([offer], index % 6 + 1))))
    assert sum(result is None for result in results) == 4
    assert stored(1)["times_used"] == 4
    assert all(stored(1, user_id=user).get("uses", 0) <= 1 for user in range(1, 7))


def test_offers_without_limits_write_nothing() -> None:
    assert usage_writes([make_offer(1)], 1) == []
    assert counted_uses([make_offer(1)]) == []


def test_an_offer_edited_or_deleted_since_it_was_priced_cancels_the_order_and_is_named() -> None:
    priced = make_offer(1, max_uses=10)
    other = make_offer(2, max_uses_per_customer=3)
    store(priced.model_copy(update={"version": 2}), other)  # edited after the order read it
    writes = usage_writes([other, priced], 1)
    try:
        client().transact_write_items(TransactItems=writes)
    except ClientError as error:
        reasons = error.response.get("CancellationReasons", [])
    else:
        pytest.fail("the transaction should have been cancelled")
    assert failed_offers(writes, reasons) == {1}
    assert stored(1)["times_used"] == 0  # nothing was written
    assert "uses" not in stored(2, user_id=1)


def test_usage_returns_give_back_exactly_what_the_order_counted() -> None:
    offer = make_offer(1, max_uses=1, max_uses_per_customer=1)
    unlimited = make_offer(2)
    store(offer, unlimited)
    counted = counted_uses([offer, unlimited])
    assert counted == [CountedUse(1, per_customer=True)]
    assert [CountedUse.from_json(use.to_json()) for use in counted] == counted
    assert transact(usage_writes([offer, unlimited], 5)) is None
    assert transact(usage_writes([offer], 6)) is not None  # the limit of 1 is reached
    assert transact(usage_returns(counted, 5)) is None  # the order is cancelled
    assert stored(1)["times_used"] == 0
    assert stored(1, user_id=5)["uses"] == 0
    assert transact(usage_writes([offer], 6)) is None  # the use is free again


def test_returns_do_not_depend_on_the_offer_as_it_is_now() -> None:
    """Limits removed after the order: the cancellation still gives back what was counted."""
    offer = make_offer(1, max_uses=3, max_uses_per_customer=2)
    store(offer)
    assert transact(usage_writes([offer], 5)) is None
    store(make_offer(1).model_copy(update={"version": 2, "times_used": 1}))  # edited: no limits now
    assert transact(usage_returns([CountedUse(1, per_customer=True)], 5)) is None
    assert stored(1)["times_used"] == 0
    assert stored(1, user_id=5)["uses"] == 0


def test_customer_uses_are_read_with_the_orders_batch_and_parsed() -> None:
    limited = make_offer(1, max_uses_per_customer=3)
    overall_only = make_offer(2, max_uses=3)
    store(limited, overall_only)
    assert transact(usage_writes([limited], 5)) is None
    assert transact(usage_writes([limited], 6)) is None
    keys = customer_use_keys([limited, overall_only, make_offer(3, max_uses_per_customer=1)], 5)
    assert [from_attributes(key) for key in keys] == [customer_use_key(1, 5), customer_use_key(3, 5)]
    product_key = to_attributes({"PK": "PRODUCT#1", "SK": "PRODUCT"})
    response = client().batch_get_item(RequestItems={settings.table_name(): {"Keys": [*keys, product_key]}})
    items = response["Responses"][settings.table_name()]
    assert customer_uses(items, 5) == {1: 1}  # offer 3: never used; other items ignored
    assert customer_uses(items, 6) == {}


def test_the_most_live_offers_fit_an_order_of_the_most_products_in_one_transaction() -> None:
    """50 products + profile check + order + id guard (+ the in-stock counter) = 54 items, and
    every live offer with both limits: 2 items each, within DynamoDB's 100."""
    offers = [make_offer(n, max_uses=10, max_uses_per_customer=1) for n in range(1, MAX_LIVE_OFFERS + 1)]
    assert len(usage_writes(offers, 1)) == 2 * MAX_LIVE_OFFERS <= 100 - 54
