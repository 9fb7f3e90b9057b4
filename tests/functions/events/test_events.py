"""The events function: every API write produces exactly its documented events (docs/events.md),
with the data the API shows, on the stack's bus; ids are the same when the stream is read again;
the events of one item stay in order when publishing fails partway."""

import json
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from conftest import calls_of
from event_pipeline import Pipeline
from events import domain_events, event_bus
from shop_common.catalog import add_products
from shop_common.models import NewProduct
from shoplocal.gateway.invoke import LocalApi


def types(events: list[dict[str, Any]]) -> Counter[str]:
    return Counter(event["type"] for event in events)


@pytest.fixture
def shop(api: LocalApi, signed_in: Any) -> dict[str, Any]:
    mug, scarce = add_products(
        [
            NewProduct(name="Mug", price=Decimal("4.50"), quantity=10),
            NewProduct(name="Lamp", price=Decimal("20.00"), quantity=2),
        ]
    )
    customer_id, customer = signed_in()
    _, staff = signed_in(is_staff=True)
    return {"mug": mug.id, "scarce": scarce.id, "customer_id": customer_id, "customer": customer, "staff": staff}


def order(api: LocalApi, headers: dict[str, str], product: int, quantity: int) -> Any:
    body = {"parts": [{"product": product, "quantity_in_order": quantity}]}
    response = api.request("POST", "/api/order", json_body=body, headers=headers)
    assert response.status == 201, response.body
    return response.json()


def test_every_api_write_produces_exactly_its_documented_events(
    api: LocalApi, shop: dict[str, Any], events_pipeline: Pipeline
) -> None:
    events_pipeline.publish()
    events_pipeline.bus_events()  # what the fixtures wrote (users, products): not this test's writes
    staff, customer = shop["staff"], shop["customer"]
    mug, scarce = shop["mug"], shop["scarce"]
    writes: list[tuple[str, str, dict[str, Any], Counter[str]]] = [
        ("POST", "/api/register", {"json_body": {"username": "newbie", "password": "a fine passphrase"}},
         Counter(["user.registered"])),
        ("POST", "/api/order", {"json_body": {"parts": [{"product": mug, "quantity_in_order": 1}]}, "headers": customer},
         Counter(["order.placed"])),
        ("POST", "/api/order", {"json_body": {"parts": [{"product": scarce, "quantity_in_order": 2}]}, "headers": customer},
         Counter(["order.placed", "product.sold_out"])),
        ("POST", "/api/order/quote", {"json_body": {"parts": [{"product": mug, "quantity_in_order": 1}]}, "headers": customer},
         Counter()),
        ("PATCH", f"/api/products/{mug}", {"json_body": {"price": "5.00"}, "headers": staff}, Counter(["product.price_changed"])),
        ("PATCH", f"/api/products/{mug}", {"json_body": {"name": "Big mug"}, "headers": staff}, Counter()),
        ("PATCH", f"/api/products/{mug}", {"json_body": {"price": "6.00", "quantity": 0}, "headers": staff},
         Counter(["product.price_changed", "product.sold_out"])),
        ("POST", f"/api/products/{mug}/stock", {"json_body": {"delta": 3}, "headers": staff}, Counter(["product.back_in_stock"])),
        ("POST", f"/api/products/{mug}/stock", {"json_body": {"delta": -1}, "headers": staff}, Counter()),
        ("POST", f"/api/products/{mug}/stock", {"json_body": {"delta": -2}, "headers": staff}, Counter(["product.sold_out"])),
        ("POST", "/api/products", {"json_body": {"name": "New", "price": "1.00", "quantity": 1}, "headers": staff},
         Counter()),
        ("PATCH", "/api/me", {"json_body": {"first_name": "Ann"}, "headers": customer}, Counter()),
        ("POST", "/api/offers", {"json_body": {"kind": "percent_off", "name": "Ten", "starts_at": "2026-01-01T00:00:00Z",
                                               "percent": "10"}, "headers": staff}, Counter()),
        ("POST", "/api/webhooks", {"json_body": {"url": "http://127.0.0.1:9/x", "events": ["order.placed"]}, "headers": staff},
         Counter()),
    ]  # fmt: skip
    for method, path, arguments, expected in writes:
        response = api.request(method, path, **arguments)
        assert response.status < 300, (method, path, response.body)
        events_pipeline.publish()
        assert types(events_pipeline.bus_events()) == expected, (method, path, arguments)
    # Cancelling the order that sold the lamp out: the order, and the lamp back in stock.
    my_orders = api.request("GET", "/api/my-orders", headers=customer).json()
    (sold_out_order,) = [o for o in my_orders if o["parts"][0]["product"] == scarce]
    assert api.request("POST", f"/api/orders/{sold_out_order['id']}/cancel", headers=customer).status == 200
    events_pipeline.publish()
    assert types(events_pipeline.bus_events()) == Counter(["order.cancelled", "product.back_in_stock"])
    # Deleting a product, and cancelling an order already cancelled (409): nothing.
    assert api.request("DELETE", f"/api/products/{mug}", headers=staff).status == 204
    assert api.request("POST", f"/api/orders/{sold_out_order['id']}/cancel", headers=customer).status == 409
    events_pipeline.publish()
    assert events_pipeline.bus_events() == []


def test_event_data_is_what_the_api_shows(api: LocalApi, shop: dict[str, Any], events_pipeline: Pipeline) -> None:
    events_pipeline.publish()
    events_pipeline.bus_events()
    placed = order(api, shop["customer"], shop["scarce"], 2)
    registered = api.request("POST", "/api/register", json_body={"username": "zoe", "password": "a fine passphrase"}).json()
    events_pipeline.publish()
    by_type = {event["type"]: event for event in events_pipeline.bus_events()}
    assert by_type["order.placed"]["data"] == api.request("GET", f"/api/orders/{placed['id']}", headers=shop["customer"]).json()
    assert by_type["product.sold_out"]["data"] == api.request("GET", f"/api/products/{shop['scarce']}").json()
    assert by_type["user.registered"]["data"] == registered
    assert api.request("PATCH", f"/api/products/{shop['mug']}", json_body={"price": "3.99"}, headers=shop["staff"]).status == 200
    events_pipeline.publish()
    (changed,) = events_pipeline.bus_events()
    assert changed["data"] == {**api.request("GET", f"/api/products/{shop['mug']}").json(), "previous_price": 4.5}
    for event in [*by_type.values(), changed]:
        assert event["id"].startswith("evt_")
        assert len(event["id"]) == 30
        assert event["time"].endswith("Z")


def test_replaying_the_stream_gives_the_same_ids(api: LocalApi, shop: dict[str, Any], events_pipeline: Pipeline) -> None:
    order(api, shop["customer"], shop["scarce"], 2)
    api.request("PATCH", f"/api/products/{shop['mug']}", json_body={"price": "9.00"}, headers=shop["staff"])
    records = events_pipeline.new_records()
    events_pipeline.publish(records)
    first = events_pipeline.bus_events()
    events_pipeline.publish(records)  # Lambda's retry, or a replay of the stream
    again = events_pipeline.bus_events()
    assert [event["id"] for event in again] == [event["id"] for event in first]
    assert again == first
    assert types(first) == Counter(["order.placed", "product.sold_out", "product.price_changed"])
    assert len({event["id"] for event in first}) == 3


def test_no_record_means_no_event_and_unrelated_items_make_none() -> None:
    record = {"eventName": "MODIFY", "dynamodb": {"Keys": {"PK": {"S": "CATALOG"}, "SK": {"S": "META"}}, "SequenceNumber": "1",
                                                  "ApproximateCreationDateTime": 1.0}}  # fmt: skip
    assert domain_events.events_of(record) == []


def test_an_event_id_depends_on_the_item_the_change_and_the_type_only() -> None:
    ids = {
        domain_events.event_id(subject, sequence, kind)
        for subject in ("PRODUCT#1/PRODUCT", "PRODUCT#2/PRODUCT")
        for sequence in ("100", "101")
        for kind in ("product.sold_out", "product.price_changed")
    }
    assert len(ids) == 8
    assert domain_events.event_id("PRODUCT#1/PRODUCT", "100", "product.sold_out") in ids


def test_events_of_one_item_keep_their_order_when_publishing_fails_partway(
    api: LocalApi, shop: dict[str, Any], events_pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    events_pipeline.publish()
    events_pipeline.bus_events()
    placed = [order(api, shop["customer"], shop["mug"], 1) for _ in range(3)]
    for placed_order in placed:
        assert api.request("POST", f"/api/orders/{placed_order['id']}/cancel", headers=shop["customer"]).status == 200
    records = events_pipeline.new_records()
    real_client = event_bus._events_client()

    class Flaky:
        """PutEvents refuses the second entry of its second call, accepting the others."""

        calls = 0

        def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
            Flaky.calls += 1
            if Flaky.calls != 2 or len(Entries) < 2:
                return dict(real_client.put_events(Entries=Entries))
            accepted = real_client.put_events(Entries=[Entries[0], *Entries[2:]])["Entries"]
            return {"FailedEntryCount": 1, "Entries": [accepted[0], {"ErrorCode": "ThrottlingException"}, *accepted[1:]]}

    monkeypatch.setattr(event_bus, "_events_client", lambda: Flaky())
    answer = events_pipeline.publish(records)
    (failure,) = answer["batchItemFailures"]
    # Lambda's retry: the batch again from the record reported.
    sequences = [record["dynamodb"]["SequenceNumber"] for record in records]
    retried = records[sequences.index(failure["itemIdentifier"]) :]
    assert events_pipeline.publish(retried) == {"batchItemFailures": []}
    seen = events_pipeline.bus_events()
    for placed_order in placed:
        mine = [event["type"] for event in seen if event["data"].get("id") == placed_order["id"] and "parts" in event["data"]]
        first_placed, last_cancelled = mine.index("order.placed"), len(mine) - 1 - mine[::-1].index("order.cancelled")
        assert first_placed < last_cancelled
        assert mine.index("order.cancelled") > first_placed, mine  # never cancelled before placed
    assert {event["id"] for event in seen} == {event.id for record in records for event in domain_events.events_of(record)}


def test_each_putevents_call_holds_one_event_per_item_and_at_most_ten() -> None:
    events = [
        domain_events.DomainEvent(f"evt_{n}", "product.sold_out", "2026-01-01T00:00:00.000Z", f"PRODUCT#{n % 3}/PRODUCT", {})
        for n in range(30)
    ]
    calls = event_bus.calls(events)
    assert [index for call in calls for index in call] == list(range(30))
    for call in calls:
        assert len(call) <= 10
        assert len({events[index].subject for index in call}) == len(call)


def test_a_record_that_cannot_be_read_stops_the_batch_there(
    api: LocalApi, shop: dict[str, Any], events_pipeline: Pipeline
) -> None:
    events_pipeline.publish()
    events_pipeline.bus_events()
    order(api, shop["customer"], shop["mug"], 1)
    order(api, shop["customer"], shop["mug"], 2)
    records = events_pipeline.new_records()
    orders = [n for n, record in enumerate(records) if record["dynamodb"]["Keys"]["PK"]["S"].startswith("ORDERS#")]
    broken = json.loads(json.dumps(records))
    del broken[orders[1]]["dynamodb"]["NewImage"]["parts"]  # a malformed order item
    answer = events_pipeline.publish(broken)
    assert answer == {"batchItemFailures": [{"itemIdentifier": records[orders[1]]["dynamodb"]["SequenceNumber"]}]}
    published = events_pipeline.bus_events()
    assert [event["type"] for event in published] == ["order.placed"]  # the first order's; nothing from the second on


def test_a_records_time_reads_as_lambda_and_the_aws_cli_give_it() -> None:
    assert domain_events.record_time(1_800_000_000) == "2027-01-15T08:00:00.000Z"
    assert domain_events.record_time("1800000000.25") == "2027-01-15T08:00:00.250Z"
    assert domain_events.record_time("2027-01-15T09:00:00+01:00") == "2027-01-15T08:00:00.000Z"


def test_the_stream_filters_pass_every_record_that_makes_an_event_and_few_others(
    api: LocalApi, shop: dict[str, Any], events_pipeline: Pipeline
) -> None:
    from shoplocal.gateway.event_sources import event_source_mappings, matcher
    from shoplocal.template import load_template

    (mapping,) = [m for m in event_source_mappings(load_template()) if m.kind == "stream"]
    passes = matcher(mapping.filters)
    placed = order(api, shop["customer"], shop["scarce"], 2)
    api.request("POST", f"/api/orders/{placed['id']}/cancel", headers=shop["customer"])
    api.request("PATCH", f"/api/products/{shop['mug']}", json_body={"price": "1.00"}, headers=shop["staff"])
    api.request("POST", "/api/register", json_body={"username": "kim", "password": "a fine passphrase"})
    api.request(
        "POST", "/api/webhooks", json_body={"url": "http://127.0.0.1:9/", "events": ["order.placed"]}, headers=shop["staff"]
    )
    records = events_pipeline.new_records()
    for record in records:
        if domain_events.events_of(record):
            assert passes(record), record["dynamodb"]["Keys"]
    let_through = {record["dynamodb"]["Keys"]["PK"]["S"].split("#")[0] for record in records if passes(record)}
    assert let_through == {"ORDERS", "PRODUCT", "USER"}  # not the id guard, counters, logins, emails, webhooks


def test_events_reach_the_bus_through_the_lean_client(
    api: LocalApi, shop: dict[str, Any], events_pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PutEvents goes through the functions' lean JSON client (boto3's cost this function ~2 ms
    a call), with the events' times as the JSON protocol's epoch seconds."""
    from shop_common.aws.json_client import AwsJsonClient

    events_pipeline.publish()
    events_pipeline.bus_events()
    event_bus._events_client.cache_clear()
    lean_calls = calls_of(monkeypatch, AwsJsonClient, "call")
    placed = order(api, shop["customer"], shop["mug"], 1)

    assert events_pipeline.publish() == {"batchItemFailures": []}

    (put,) = [parameters for _, operation, parameters in lean_calls if operation == "PutEvents"]
    assert all(isinstance(entry["Time"], float) for entry in put["Entries"])
    seen = [event for event in events_pipeline.bus_events() if event["type"] == "order.placed"]
    assert [event["data"]["id"] for event in seen] == [placed["id"]]
