"""Webhook deliveries end to end: an order reaches a receiver, signed as Standard Webhooks says
(verified with the specification's own library, `standardwebhooks`); a receiver that fails gets
the same event again, with the same id, on the retry schedule (the sender's clock is the test's);
an endpoint failing for days is disabled; a rotated secret still verifies for a day; staff see
the deliveries and can send one again."""

import json
from decimal import Decimal
from typing import Any

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from event_pipeline import Pipeline, Received, receiver
from shop_common.catalog import add_products
from shop_common.models import NewProduct
from shoplocal.gateway.invoke import LocalApi
from shoplocal.template import load_template
from test_observability import published
from webhook_sender import delivery_attempts


@pytest.fixture
def shop(api: LocalApi, signed_in: Any) -> dict[str, Any]:
    (mug,) = add_products([NewProduct(name="Mug", price=Decimal("4.50"), quantity=100)])
    _, customer = signed_in()
    _, staff = signed_in(is_staff=True)
    return {"mug": mug.id, "customer": customer, "staff": staff}


@pytest.fixture
def schedule(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Set the sender's retry schedule (seconds) and how long an endpoint may fail."""

    def use(delays: str, disable_after: int = 432_000) -> None:
        monkeypatch.setenv("WEBHOOK_RETRY_SCHEDULE", delays)
        monkeypatch.setenv("WEBHOOK_DISABLE_AFTER_SECONDS", str(disable_after))

    return use


def subscribe(api: LocalApi, staff: dict[str, str], url: str, events: list[str] | None = None) -> dict[str, Any]:
    response = api.request("POST", "/api/webhooks", json_body={"url": url, "events": events or ["order.placed"]}, headers=staff)
    assert response.status == 201, response.body
    endpoint: dict[str, Any] = response.json()
    return endpoint


def place_order(api: LocalApi, shop: dict[str, Any], quantity: int = 1) -> dict[str, Any]:
    body = {"parts": [{"product": shop["mug"], "quantity_in_order": quantity}]}
    response = api.request("POST", "/api/order", json_body=body, headers=shop["customer"])
    assert response.status == 201
    placed: dict[str, Any] = response.json()
    return placed


def verified(secret: str, request: Received) -> Any:
    return Webhook(secret).verify(request.body, request.headers)


def deliveries(api: LocalApi, shop: dict[str, Any], endpoint: dict[str, Any]) -> list[dict[str, Any]]:
    response = api.request("GET", f"/api/webhooks/{endpoint['id']}/deliveries", headers=shop["staff"])
    assert response.status == 200
    found: list[dict[str, Any]] = response.json()
    return found


def test_an_order_reaches_the_receiver_signed_as_standard_webhooks_says(
    api: LocalApi, shop: dict[str, Any], events_pipeline: Pipeline
) -> None:
    with receiver() as hooks:
        endpoint = subscribe(api, shop["staff"], hooks.url)
        placed = place_order(api, shop)
        events_pipeline.publish()
        (event,) = events_pipeline.bus_events()
        events_pipeline.deliver()
    (request,) = hooks.received
    payload = verified(endpoint["secret"], request)
    assert payload == {"type": "order.placed", "timestamp": event["time"], "data": placed}
    assert request.headers["webhook-id"] == event["id"]
    assert request.headers["content-type"] == "application/json"
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 43 + "=").verify(request.body, request.headers)  # another secret
    (delivery,) = deliveries(api, shop, endpoint)
    assert delivery["event"] == {"id": event["id"], "type": "order.placed"}
    assert delivery["state"] == "succeeded"
    assert delivery["attempts"] == 1
    assert delivery["status_code"] == 200
    assert delivery["next_retry_at"] is None


def test_only_subscribed_enabled_endpoints_get_an_event(api: LocalApi, shop: dict[str, Any], events_pipeline: Pipeline) -> None:
    with receiver() as orders, receiver() as users, receiver() as paused:
        subscribe(api, shop["staff"], orders.url, ["order.placed"])
        subscribe(api, shop["staff"], users.url, ["user.registered"])
        off = subscribe(api, shop["staff"], paused.url, ["order.placed"])
        api.request("PATCH", f"/api/webhooks/{off['id']}", json_body={"enabled": False}, headers=shop["staff"])
        place_order(api, shop)
        events_pipeline.publish()
        events_pipeline.deliver()
    assert [json.loads(r.body)["type"] for r in orders.received] == ["order.placed"]
    assert users.received == []
    assert paused.received == []


def test_a_receiver_failing_the_first_attempts_gets_the_same_event_again_with_the_same_id(
    api: LocalApi, shop: dict[str, Any], events_pipeline: Pipeline, schedule: Any
) -> None:
    schedule("0,0,0,0")  # retries due at once: the test needs no waiting
    with receiver(answers=[500, 503, 404]) as hooks:
        endpoint = subscribe(api, shop["staff"], hooks.url)
        place_order(api, shop)
        events_pipeline.publish()
        (event,) = events_pipeline.bus_events()
        events_pipeline.deliver()
    assert len(hooks.received) == 4
    assert {request.headers["webhook-id"] for request in hooks.received} == {event["id"]}
    assert {request.body for request in hooks.received} == {hooks.received[0].body}
    for request in hooks.received:
        assert verified(endpoint["secret"], request)["data"]["id"] == event["data"]["id"]
    (delivery,) = deliveries(api, shop, endpoint)
    assert (delivery["state"], delivery["attempts"], delivery["status_code"]) == ("succeeded", 4, 200)
    shown = api.request("GET", f"/api/webhooks/{endpoint['id']}", headers=shop["staff"]).json()
    assert shown["status"] == "healthy"  # a success clears the failure


def test_retries_follow_the_schedule_and_stop_after_its_last_delay(
    api: LocalApi, shop: dict[str, Any], events_pipeline: Pipeline, schedule: Any
) -> None:
    schedule("5,300")
    start = events_pipeline.now
    with receiver(answers=[500] * 10) as hooks:
        endpoint = subscribe(api, shop["staff"], hooks.url)
        place_order(api, shop)
        events_pipeline.publish()
        events_pipeline.deliver()  # attempt 1 fails: its message waits 5 s
        (delivery,) = deliveries(api, shop, endpoint)
        assert (delivery["state"], delivery["attempts"], delivery["status_code"]) == ("pending", 1, 500)
        assert delivery["next_retry_at"] == iso(start + 5)
        assert events_pipeline.invocations[-1]["batchItemFailures"]  # the message is kept for its retry
        shown = api.request("GET", f"/api/webhooks/{endpoint['id']}", headers=shop["staff"]).json()
        assert shown["status"] == "failing"
        assert shown["failing_since"] == iso(start)
        events_pipeline.now = start + 5
        events_pipeline.due()
        events_pipeline.deliver()  # attempt 2 fails: 300 s
        (delivery,) = deliveries(api, shop, endpoint)
        assert (delivery["attempts"], delivery["next_retry_at"]) == (2, iso(start + 305))
        events_pipeline.now = start + 305
        events_pipeline.due()
        events_pipeline.deliver()  # attempt 3, the last the schedule allows, fails: done
        (delivery,) = deliveries(api, shop, endpoint)
        events_pipeline.due()
        assert events_pipeline.deliver() == 0  # nothing left in the queue
    assert (delivery["state"], delivery["attempts"], delivery["next_retry_at"]) == ("failed", 3, None)
    assert len(hooks.received) == 3


def test_a_message_back_before_its_time_waits_again_without_an_attempt(
    api: LocalApi, shop: dict[str, Any], events_pipeline: Pipeline, schedule: Any
) -> None:
    schedule("600")
    with receiver(answers=[500]) as hooks:
        subscribe(api, shop["staff"], hooks.url)
        place_order(api, shop)
        events_pipeline.publish()
        events_pipeline.deliver()
        events_pipeline.now += 100
        events_pipeline.due()  # SQS let it go early (a lost visibility change, say)
        events_pipeline.deliver()
    assert len(hooks.received) == 1


def test_the_default_schedule_retries_for_over_a_day_and_first_within_30_seconds() -> None:
    delays = [int(part) for part in load_template()["Parameters"]["WebhookRetrySchedule"]["Default"].split(",")]
    assert delays[0] <= 30
    assert sum(delays) >= 24 * 3600
    assert delays == sorted(delays)
    assert max(delays) <= delivery_attempts.MAX_DELAY


def test_an_endpoint_failing_for_days_is_disabled_and_staff_are_told(
    api: LocalApi, shop: dict[str, Any], events_pipeline: Pipeline, schedule: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    schedule("60", disable_after=3 * 86_400)
    start = events_pipeline.now
    with receiver(answers=[500] * 10) as hooks:
        endpoint = subscribe(api, shop["staff"], hooks.url)
        place_order(api, shop)
        events_pipeline.publish()
        events_pipeline.deliver()  # failing from `start`
        events_pipeline.now = start + 3 * 86_400
        place_order(api, shop)
        events_pipeline.publish()
        capsys.readouterr()
        events_pipeline.deliver()  # still failing three days on: disabled
        metrics = published(capsys.readouterr().out)
        events_pipeline.due()
        events_pipeline.deliver()  # the first order's retry finds it disabled: skipped, not sent
    shown = api.request("GET", f"/api/webhooks/{endpoint['id']}", headers=shop["staff"]).json()
    assert shown["status"] == "disabled"
    assert shown["enabled"] is False
    assert shown["disabled_reason"] == f"deliveries failed since {iso(start, milliseconds=True)}"
    assert metrics == {"WebhookEndpointsDisabled": 1}
    assert len(hooks.received) == 2
    assert sorted(d["state"] for d in deliveries(api, shop, endpoint)) == ["skipped", "skipped"]


def test_for_a_day_after_a_rotation_both_secrets_verify_then_only_the_new(
    api: LocalApi, shop: dict[str, Any], events_pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    with receiver() as hooks:
        endpoint = subscribe(api, shop["staff"], hooks.url)
        monkeypatch.setattr("webhooks.handler.clock", lambda: events_pipeline.now)
        rotated = api.request("POST", f"/api/webhooks/{endpoint['id']}/rotate-secret", headers=shop["staff"]).json()
        place_order(api, shop)
        events_pipeline.publish()
        events_pipeline.deliver()
        events_pipeline.now += 24 * 3600 + 1
        place_order(api, shop)
        events_pipeline.publish()
        events_pipeline.deliver()
    during, after = hooks.received
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert verified(endpoint["secret"], during)
    assert verified(rotated["secret"], during)
    # The next day (by the sender's clock, which the library then reads too): only the new secret.
    monkeypatch.setattr("standardwebhooks.webhooks.datetime", _Frozen(events_pipeline.now))
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    assert Webhook(rotated["secret"]).verify(after.body, after.headers)["type"] == "order.placed"
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        Webhook(endpoint["secret"]).verify(after.body, after.headers)


def test_staff_redeliver_a_delivery_with_the_same_webhook_id(
    api: LocalApi, shop: dict[str, Any], events_pipeline: Pipeline
) -> None:
    with receiver() as hooks:
        endpoint = subscribe(api, shop["staff"], hooks.url)
        place_order(api, shop)
        events_pipeline.publish()
        events_pipeline.deliver()
        (delivery,) = deliveries(api, shop, endpoint)
        path = f"/api/webhooks/{endpoint['id']}/deliveries/{delivery['id']}/redeliver"
        queued = api.request("POST", path, headers=shop["staff"])
        assert queued.status == 202
        assert queued.json()["state"] == "pending"
        events_pipeline.deliver()
    first, again = hooks.received
    assert again.headers["webhook-id"] == first.headers["webhook-id"]
    assert again.body == first.body
    (delivery,) = deliveries(api, shop, endpoint)
    assert (delivery["state"], delivery["attempts"]) == ("succeeded", 2)
    missing = f"/api/webhooks/{endpoint['id']}/deliveries/0000000000000-000000000000/redeliver"
    assert api.request("POST", missing, headers=shop["staff"]).status == 404


def test_deliveries_are_listed_newest_first_in_pages(api: LocalApi, shop: dict[str, Any], events_pipeline: Pipeline) -> None:
    with receiver() as hooks:
        endpoint = subscribe(api, shop["staff"], hooks.url, ["order.placed", "product.sold_out"])
        for _ in range(3):
            place_order(api, shop)
            events_pipeline.publish()
            events_pipeline.now += 1
        events_pipeline.deliver()
    path = f"/api/webhooks/{endpoint['id']}/deliveries"
    first = api.request("GET", path, query_string="limit=2", headers=shop["staff"])
    assert len(first.json()) == 2
    next_url = first.headers["link"].split(";")[0].strip("<>")
    rest = api.request("GET", path, query_string=next_url.split("?", 1)[1], headers=shop["staff"]).json()
    listed = first.json() + rest
    assert len(listed) == 3
    assert [d["id"] for d in listed] == sorted((d["id"] for d in listed), reverse=True)
    assert api.request("GET", path, query_string="cursor=bm9wZQ", headers=shop["staff"]).status == 400


def test_a_deleted_endpoint_gets_nothing_more(api: LocalApi, shop: dict[str, Any], events_pipeline: Pipeline) -> None:
    with receiver() as hooks:
        endpoint = subscribe(api, shop["staff"], hooks.url)
        place_order(api, shop)
        events_pipeline.publish()
        assert api.request("DELETE", f"/api/webhooks/{endpoint['id']}", headers=shop["staff"]).status == 204
        events_pipeline.deliver()
    assert hooks.received == []


def iso(seconds: float, *, milliseconds: bool = False) -> str:
    from datetime import UTC, datetime

    text = datetime.fromtimestamp(int(seconds), UTC)
    return text.isoformat(timespec="milliseconds" if milliseconds else "seconds").replace("+00:00", "Z")


class _Frozen:
    """`datetime` for the library, its `now` at a given time (the rest as usual)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def now(self, tz: Any = None) -> Any:
        from datetime import datetime

        return datetime.fromtimestamp(self.seconds, tz)

    def fromtimestamp(self, *args: Any, **kwargs: Any) -> Any:
        from datetime import datetime

        return datetime.fromtimestamp(*args, **kwargs)
