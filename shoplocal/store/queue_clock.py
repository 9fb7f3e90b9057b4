"""SQS queues that read the clock once per pass over their messages, not once per message.

moto's SQS works out a queue's attributes (its counts of visible, in-flight and delayed messages)
on every SendMessage, and again for every message a ReceiveMessage looks at (to read the
retention period); each count walks the queue's messages and reads the clock for each one.
Under `make run` every placed order sends its event to the webhook queue, and with a backlog of
a thousand messages the store spent two thirds of its time reading the clock: sends and receives
grew slower as the queue grew, so the queue grew faster. Here each walk reads the clock once, and
the retention period is read from the queue itself. The counts are those of the same instant.
"""

import functools
from typing import Any


def read_the_clock_once_per_pass() -> None:
    """Idempotent: moto's queue counts and receives read the clock once per walk."""
    from moto.core import utils
    from moto.sqs.models import Queue, SQSBackend

    if getattr(Queue.messages, "_clock_once", False):
        return

    def messages(self: Any) -> list[Any]:
        now = utils.unix_time_millis()
        return [message for message in self._messages if now > message.visible_at and not now < message.delayed_until]

    def delayed(self: Any) -> int:
        now = utils.unix_time_millis()
        return sum(1 for message in self._messages if now < message.delayed_until)

    def not_visible(self: Any) -> int:
        now = utils.unix_time_millis()
        return sum(1 for message in self._messages if not now > message.visible_at)

    def visible(self: Any) -> int:
        return len(messages(self))

    walks: tuple[tuple[str, Any], ...] = (
        ("messages", messages),
        ("approximate_number_of_messages_delayed", delayed),
        ("approximate_number_of_messages_not_visible", not_visible),
        ("approximate_number_of_messages", visible),
    )
    for name, count in walks:
        count._clock_once = True
        setattr(Queue, name, property(functools.wraps(getattr(Queue, name).fget)(count)))

    original = SQSBackend.is_message_valid_based_on_retention_period

    @functools.wraps(original)
    def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
        # The queue's own value (what its attributes give), not all its attributes and counts.
        retention_period = self.get_queue(queue_name).message_retention_period
        return bool(retention_period + message.sent_timestamp / 1000 > utils.unix_time())

    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period  # type: ignore[method-assign]
