"""SQS queues read the clock once per walk over their messages: the same counts and the same
messages received as moto's own, and a queue's attributes cost one clock reading however many
messages it holds."""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.core import utils
from moto.sqs import models

from shoplocal.store.queue_clock import read_the_clock_once_per_pass

PATCHED = (
    "messages",
    "approximate_number_of_messages_delayed",
    "approximate_number_of_messages_not_visible",
    "approximate_number_of_messages",
)
COUNTS = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"]


@pytest.fixture
def clock_once() -> Iterator[None]:
    names = [
        "messages",
        "approximate_number_of_messages_delayed",
        "approximate_number_of_messages_not_visible",
        "approximate_number_of_messages",
    ]
    saved = {name: models.Queue.__dict__[name] for name in names}
    saved_retention = models.SQSBackend.is_message_valid_based_on_retention_period
    read_the_clock_once_per_pass()
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(models.Queue, name, value)
        models.SQSBackend.is_message_valid_based_on_retention_period = saved_retention  # type: ignore[method-assign]


def _a_queue_in_every_state(name: str) -> tuple[Any, str]:
    sqs = boto3.client("sqs", "eu-west-1")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    for number in range(6):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{number}")
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=600)
    sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, VisibilityTimeout=600)  # in flight
    return sqs, url


def _state(sqs: Any, url: str) -> tuple[dict[str, str], list[str]]:
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=COUNTS)["Attributes"]
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
    return counts, sorted(message["Body"] for message in received)


def test_counts_and_receives_are_moto_s() -> None:
    expected = _state(*_a_queue_in_every_state("clock-moto"))
    saved = {
        name: models.Queue.__dict__[name]
        for name in (
            "messages",
            "approximate_number_of_messages_delayed",
            "approximate_number_of_messages_not_visible",
            "approximate_number_of_messages",
        )
    }
    saved_retention = models.SQSBackend.is_message_valid_based_on_retention_period
    read_the_clock_once_per_pass()
    try:
        assert _state(*_a_queue_in_every_state("clock-once")) == expected
        assert expected[0] == {COUNTS[0]: "4", COUNTS[1]: "2", COUNTS[2]: "1"}
    finally:
        for name, value in saved.items():
            setattr(models.Queue, name, value)
        models.SQSBackend.is_message_valid_based_on_retention_period = saved_retention  # type: ignore[method-assign]


def test_attributes_read_the_clock_once_per_count_whatever_the_queue_holds(
    clock_once: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    sqs, url = _a_queue_in_every_state("clock-count")
    for number in range(50):
        sqs.send_message(QueueUrl=url, MessageBody=f"more {number}")
    readings: list[int] = []
    real = utils.unix_time_millis

    def counted() -> float:
        readings.append(1)
        return real()

    monkeypatch.setattr(models, "unix_time_millis", counted)  # moto's own walks
    monkeypatch.setattr(utils, "unix_time_millis", counted)  # the patched ones
    sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    assert 0 < len(readings) <= 3
