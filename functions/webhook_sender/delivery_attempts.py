"""One attempt of one delivery, and what follows from its outcome (docs/webhooks.md).

At least once: a delivery is attempted until its receiver answers 2xx, each retry after the next
delay of the retry schedule (template parameter WebhookRetrySchedule; by default 5 s, 5 min,
30 min, 2 h, 5 h, 10 h, 10 h: 27.6 hours in all), with the same `webhook-id` (the event's id)
and payload every time, freshly timestamped and signed. A failure (a timeout, a connection
error, a non-2xx, a refused address) marks its endpoint failing from then on; an endpoint still
failing `WEBHOOK_DISABLE_AFTER_SECONDS` (5 days by default) after its first failure is disabled,
which an alarm reports and the API shows. Each decision takes the time from `now`: tests give
their own clock.
"""

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from aws_lambda_powertools import Logger

from shop_common.webhook_items import Delivery
from shop_common.webhook_urls import Resolver, UrlPolicy, resolve
from webhook_sender.guarded_http import Outcome, post
from webhook_sender.signatures import signature_header
from webhook_sender.store import AttemptState, disable, mark_failing, mark_healthy, record_attempt

logger = Logger(child=True)

MAX_DELAY = 43_200  # 12 hours: the longest an SQS message can stay invisible after a receive
USER_AGENT = "shop-webhooks/1"

Send = Callable[[str, bytes, dict[str, str], UrlPolicy, Resolver], Outcome]

# How an attempt reaches the receiver, and where host names are looked up (tests give their own).
send: Send = post
resolver: Resolver = resolve


def retry_schedule() -> list[int]:
    """Seconds before each retry (template parameter WebhookRetrySchedule)."""
    raw = os.environ.get("WEBHOOK_RETRY_SCHEDULE", "5,300,1800,7200,18000,36000,36000")
    return [min(int(part), MAX_DELAY) for part in raw.split(",") if part.strip()]


def disable_after() -> int:
    """Seconds an endpoint may keep failing before it is disabled."""
    return int(os.environ.get("WEBHOOK_DISABLE_AFTER_SECONDS") or 432_000)


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Decision:
    """What becomes of the message that asked for the attempt."""

    retry_in: int | None = None  # seconds until the message comes back; None: done with it
    endpoint_disabled: bool = False
    succeeded: bool = False
    failed_for_good: bool = False


DONE = Decision()


def attempt(state: AttemptState, token: str, now: float) -> Decision:
    """Attempt the delivery this message asks for, if it still should be, and record it."""
    endpoint, secrets, delivery = state.endpoint, state.secrets, state.delivery
    if delivery is None or delivery.token != token or delivery.state != "pending":
        return DONE  # delivered already, redelivered under a new token, or expired
    if endpoint is None or secrets is None:
        return DONE  # the endpoint was deleted: its deliveries expire with it
    if not endpoint.enabled:
        record_attempt(delivery, {"state": "skipped", "error": "the webhook is disabled"}, ("next_attempt_at",))
        return DONE
    if delivery.next_attempt_at is not None and delivery.next_attempt_at > now + 1:
        return Decision(retry_in=min(delivery.next_attempt_at - int(now), MAX_DELAY))  # came back early
    timestamp = int(now)
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": delivery.event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets.valid_at(now), delivery.event_id, timestamp, delivery.payload),
    }
    outcome = send(endpoint.url, delivery.payload.encode(), headers, UrlPolicy.from_environment(), resolver)
    return _after(delivery, endpoint.failing_since, outcome, now)


def _after(delivery: Delivery, failing_since: int | None, outcome: Outcome, now: float) -> Decision:
    attempts = delivery.attempts + 1
    result = {
        "attempts": attempts,
        "last_attempt_at": _iso(now),
        "status_code": outcome.status_code,
        "latency_ms": outcome.latency_ms,
        "error": outcome.error,
    }
    extra = {"delivery_id": delivery.id, "webhook_id": delivery.endpoint_id, "attempt": attempts, "status": outcome.status_code}
    if outcome.succeeded:
        record_attempt(delivery, {**result, "state": "succeeded"}, ("next_attempt_at",))
        if failing_since is not None:
            mark_healthy(delivery.endpoint_id)
        logger.info("Delivered", extra=extra)
        return Decision(succeeded=True)
    schedule = retry_schedule()
    retry = attempts <= len(schedule)
    if failing_since is None:
        mark_failing(delivery.endpoint_id, int(now))
    disabled = failing_since is not None and now - failing_since >= disable_after()
    if disabled:
        disabled = disable(
            delivery.endpoint_id, failing_since or 0, _iso(now), f"deliveries failed since {_iso(failing_since or 0)}"
        )
        if disabled:
            logger.warning("Webhook disabled: its deliveries kept failing", extra=extra)
    if retry and not disabled:
        delay = schedule[attempts - 1]
        if not record_attempt(delivery, {**result, "next_attempt_at": int(now) + delay}):
            return DONE  # redelivered meanwhile: that message carries on
        logger.info("Delivery failed; retried later", extra={**extra, "error": outcome.error, "retry_in": delay})
        return Decision(retry_in=delay)
    record_attempt(delivery, {**result, "state": "skipped" if disabled else "failed"}, ("next_attempt_at",))
    if not disabled:
        logger.warning("Delivery failed after every retry", extra={**extra, "error": outcome.error})
    return Decision(endpoint_disabled=disabled, failed_for_good=not disabled)
