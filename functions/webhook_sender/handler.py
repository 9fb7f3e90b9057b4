"""Lambda handler for the webhook queue: the bus's events are fanned out into deliveries, and
each delivery message is one attempt; a failed attempt's message comes back after the retry
schedule's delay (its visibility timeout) and is reported as a batch item failure so SQS keeps it
(docs/webhooks.md)."""

import json
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop_common import webhook_queue
from shop_common.snapstart import register_hooks
from webhook_sender.delivery_attempts import Decision, attempt
from webhook_sender.fan_out import fan_out
from webhook_sender.store import attempt_states

logger = Logger()
metrics = Metrics()
register_hooks()  # SnapStart: prepare before the snapshot, refresh after restore

clock: Callable[[], float] = time.time  # tests give their own


def _attempts(messages: list[tuple[Mapping[str, Any], Mapping[str, str]]], now: float) -> list[str]:
    """Attempt the deliveries these messages ask for, at once; the message ids to keep."""
    states = attempt_states((request["endpoint"], request["id"]) for _, request in messages)

    def one(message: Mapping[str, Any], request: Mapping[str, str]) -> Decision:
        return attempt(states[(request["endpoint"], request["id"])], request["token"], now)

    with ThreadPoolExecutor(max_workers=max(1, len(messages))) as pool:
        decisions = list(pool.map(lambda pair: one(*pair), messages))
    kept = []
    counts = {"WebhookDeliveriesSucceeded": 0, "WebhookDeliveriesFailed": 0, "WebhookEndpointsDisabled": 0}
    for (message, _), decision in zip(messages, decisions, strict=True):
        counts["WebhookDeliveriesSucceeded"] += decision.succeeded
        counts["WebhookDeliveriesFailed"] += decision.failed_for_good
        counts["WebhookEndpointsDisabled"] += decision.endpoint_disabled
        if decision.retry_in is not None:
            webhook_queue.client().change_message_visibility(
                QueueUrl=webhook_queue.queue_url(), ReceiptHandle=message["receiptHandle"], VisibilityTimeout=decision.retry_in
            )
            kept.append(str(message["messageId"]))
    _publish_metrics(counts)
    return kept


def _publish_metrics(counts: Mapping[str, int]) -> None:
    if not any(counts.values()):
        return
    try:
        for name, value in counts.items():
            if value:
                metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
        metrics.flush_metrics()
    except Exception:
        logger.exception("Could not publish webhook metrics")


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, list[dict[str, str]]]:
    now = clock()
    events, attempts = [], []
    for message in event.get("Records", []):
        try:
            body = json.loads(message["body"])
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("delivery"), dict):
            attempts.append((message, body["delivery"]))
        elif isinstance(body, dict) and isinstance(body.get("detail"), dict):
            events.append((str(message["messageId"]), body))
        else:
            logger.error(
                "Dropped a message that is neither an event nor a delivery", extra={"message_id": message.get("messageId")}
            )
    kept = fan_out(events, now) if events else []
    if attempts:
        kept += _attempts(attempts, now)
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in kept]}
