"""The events and webhooks pipeline, driven step by step in the test process: the table's stream
(shoplocal's ItemStream on the in-process moto), the events function, the bus (moto's
EventBridge with the template's rule), the webhook queue (moto's SQS) and the sender, with the
sender's clock given by the test. Nothing waits on time: a message whose retry is due is made
visible by the test (`due`), as the passing of its delay would."""

import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3

from shoplocal.gateway.invoke import Handler, LambdaContext
from shoplocal.store.item_stream import ItemStream
from shoplocal.store.moto_atomic import observe_requests
from shoplocal.template import load_template

TAP_QUEUE = "shop-test-bus-tap"  # every event on the bus, for tests to read


def create_event_resources(bus: str, queue: str) -> None:
    """The bus, the webhook queue and the rule between them (its pattern from template.yaml),
    and a tap: a rule sending every event to TAP_QUEUE."""
    events, sqs = boto3.client("events"), boto3.client("sqs")
    events.create_event_bus(Name=bus)
    for name, pattern in (
        (queue, load_template()["Resources"]["WebhookEventsRule"]["Properties"]["EventPattern"]),
        (TAP_QUEUE, {"source": ["shop.api"]}),
    ):
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name=f"to-{name}", EventBusName=bus, EventPattern=json.dumps(pattern))
        events.put_targets(Rule=f"to-{name}", EventBusName=bus, Targets=[{"Id": name, "Arn": arn}])


def _queue_url(name: str) -> str:
    return str(boto3.client("sqs").get_queue_url(QueueName=name)["QueueUrl"])


def drain(name: str) -> list[dict[str, Any]]:
    """Every visible message of a queue, deleted."""
    sqs, url = boto3.client("sqs"), _queue_url(name)
    found: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
        if not messages:
            return found
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        found += messages


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """Lambda's SQS event of received messages."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "eu-west-1",
            }
            for message in messages
        ]
    }


@dataclass
class Pipeline:
    stream: ItemStream
    webhook_queue: str
    now: float  # the sender's clock
    position: str | None = None  # the last stream record the events function was given
    invocations: list[dict[str, Any]] = field(default_factory=list)  # the sender's answers

    def new_records(self) -> list[dict[str, Any]]:
        records = self.stream.records_after(self.position, limit=10_000)
        if records:
            self.position = records[-1]["dynamodb"]["SequenceNumber"]
        return records

    def publish(self, records: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """Run the events function on the new stream records (or `records`); its answer."""
        from events import handler as events_handler

        batch = self.new_records() if records is None else records
        handler: Handler = events_handler.lambda_handler
        answer: dict[str, Any] = handler({"Records": batch}, LambdaContext("EventsFunction"))
        return answer

    def bus_events(self) -> list[dict[str, Any]]:
        """The events that reached the bus since last asked (their `detail`), in order."""
        return [json.loads(message["Body"])["detail"] for message in drain(TAP_QUEUE)]

    def deliver(self, rounds: int = 20) -> int:
        """Run the sender on the webhook queue until no message is visible; the batches run."""
        from webhook_sender import handler as webhook_sender_handler

        sqs, url = boto3.client("sqs"), _queue_url(self.webhook_queue)
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        for batch in range(rounds):
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
            if not messages:
                return batch
            webhook_sender_handler.clock = lambda: self.now
            handler: Handler = webhook_sender_handler.lambda_handler
            answer = handler(sqs_event(messages, arn), LambdaContext("WebhookSenderFunction"))
            self.invocations.append(answer)
            kept = {failure["itemIdentifier"] for failure in answer["batchItemFailures"]}
            for message in messages:
                if message["MessageId"] not in kept:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        raise AssertionError(f"the webhook queue still has messages after {rounds} batches")

    def due(self) -> None:
        """Every message waiting for its retry becomes visible (its delay has passed)."""
        sqs, url = boto3.client("sqs"), _queue_url(self.webhook_queue)
        from moto.sqs.models import sqs_backends

        queue = sqs_backends["123456789012"]["eu-west-1"].queues[self.webhook_queue]
        for message in list(queue._messages):
            if message.receipt_handle:
                sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message.receipt_handle, VisibilityTimeout=0)


@contextmanager
def pipeline(table_name: str, webhook_queue: str, now: float) -> Iterator[Pipeline]:
    """The pipeline of a fresh table: its stream from now on, empty queues."""
    stream = ItemStream(table_name, region="eu-west-1")
    stop = observe_requests(stream)
    drain(TAP_QUEUE)
    drain(webhook_queue)
    try:
        yield Pipeline(stream, webhook_queue, now)
    finally:
        stop()


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


class Receiver:
    """A webhook receiver on 127.0.0.1 (a port of the system's choosing): records every request
    and answers the statuses of `answers` in turn, then 200."""

    def __init__(self, answers: list[int] | None = None, path: str = "/hooks") -> None:
        self.received: list[Received] = []
        self.answers = list(answers or [])
        self._arrived = threading.Condition()
        self.path = path
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with receiver._arrived:
                    receiver.received.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
                    status = receiver.answers.pop(0) if receiver.answers else 200
                    receiver._arrived.notify_all()
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def wait_for(self, count: int, timeout: float = 60.0) -> list[Received]:
        """The first `count` requests, once they have come (AssertionError after `timeout` s)."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.received) >= count, timeout):
                raise AssertionError(f"{len(self.received)} of {count} deliveries came within {timeout} s")
            return self.received[:count]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.path}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@contextmanager
def receiver(answers: list[int] | None = None) -> Iterator[Receiver]:
    running = Receiver(answers)
    try:
        yield running
    finally:
        running.close()
