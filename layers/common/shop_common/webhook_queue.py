"""The queue of webhook work (template.yaml's WebhookQueue): the bus's events, which the sender
fans out into deliveries, and one message per delivery attempt. The staff API queues
redeliveries; the sender queues deliveries and delays retries. boto3's SQS client, made once per
container on first use."""

import os
from collections.abc import Sequence
from functools import cache
from typing import Any


@cache
def client() -> Any:
    import boto3
    from botocore.config import Config

    retries: Any = {"mode": "standard", "max_attempts": 3}
    return boto3.client("sqs", config=Config(connect_timeout=2, read_timeout=5, retries=retries))


def forget_client() -> None:
    client.cache_clear()


def queue_url() -> str:
    return os.environ["WEBHOOK_QUEUE_URL"]


def send(bodies: Sequence[str]) -> None:
    """Queue messages, 10 a call; raises if any is refused (the caller's message is then retried)."""
    for start in range(0, len(bodies), 10):
        entries = [{"Id": str(n), "MessageBody": body} for n, body in enumerate(bodies[start : start + 10])]
        response = client().send_message_batch(QueueUrl=queue_url(), Entries=entries)
        if response.get("Failed"):
            raise RuntimeError(f"the queue refused {len(response['Failed'])} messages: {response['Failed'][0].get('Code')}")
