"""The local queue poller does what Lambda's SQS event source does: it receives up to its batch
size, hands the function the messages as SQS records, and deletes those the function did not
report as failed (which come back after their visibility timeout). It calls SQS through the
functions' lean JSON client (boto3's client cost a millisecond of the store's interpreter at
every receive)."""

from typing import Any

import boto3

from conftest import REGION, calls_of
from shoplocal.gateway.containers import Invocation
from shoplocal.gateway.event_sources import QueuePoller, SourceMapping


class RecordingInvoker:
    """A function that reports the messages whose body says so as failed."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Invocation:
        self.events.append(event)
        failed = [{"itemIdentifier": record["messageId"]} for record in event["Records"] if record["body"] == "fail"]
        return Invocation({"batchItemFailures": failed}, cold_start=False)


def test_a_queue_poller_hands_over_a_batch_and_deletes_what_did_not_fail(monkeypatch: Any) -> None:
    from shop_common.aws.json_client import AwsJsonClient

    sqs = boto3.client("sqs", REGION)
    url = sqs.create_queue(QueueName="poller", Attributes={"VisibilityTimeout": "600"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    for body in ("one", "fail", "two", "three"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    lean_calls = calls_of(monkeypatch, AwsJsonClient, "call")
    invoker = RecordingInvoker()
    mapping = SourceMapping("Mapping", function="Sender", source="Queue", kind="queue", batch_size=3, filters=(), retries=0)

    QueuePoller(invoker, mapping, url, arn, REGION).poll()

    (event,) = invoker.events
    assert [record["body"] for record in event["Records"]] == ["one", "fail", "two"]
    record = event["Records"][0]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == arn
    assert record["awsRegion"] == REGION
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert [operation for _, operation, _ in lean_calls] == ["ReceiveMessage", "DeleteMessageBatch"]
    counts = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    assert counts == {"ApproximateNumberOfMessages": "1", "ApproximateNumberOfMessagesNotVisible": "1"}  # three; fail
