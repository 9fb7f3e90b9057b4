"""Lambda's event source mappings, locally: the template's `AWS::Lambda::EventSourceMapping`s
run their functions on the table's stream (the embedded store's `ItemStream`) and on SQS queues
(the store's moto SQS), as Lambda's pollers would.

- A stream mapping hands its function the records in order, in batches of `BatchSize`, only those
  its `FilterCriteria` let through; a batch item failure (or an error) sends the batch again from
  the record reported, after 1, 2, 4... seconds, `MaximumRetryAttempts` times, then the batch is
  logged as dead-lettered and the mapping goes on (in AWS its place goes to the on-failure
  destination).
- A queue mapping long-polls its queue, hands its function up to `BatchSize` messages and deletes
  those not reported as batch item failures (which SQS keeps, for the visibility timeout the
  function gave them).
"""

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shoplocal.gateway.containers import Invoker
from shoplocal.store.item_stream import ItemStream

log = logging.getLogger("shoplocal.api")


@dataclass(frozen=True)
class SourceMapping:
    logical_id: str
    function: str  # the function's logical id
    source: str  # the stream's table or the queue, by logical id
    kind: str  # "stream" or "queue"
    batch_size: int
    filters: tuple[str, ...]  # FilterCriteria patterns (JSON)
    retries: int


def event_source_mappings(template: Mapping[str, Any]) -> list[SourceMapping]:
    """Every event source mapping of the template whose function and source it defines."""
    found = []
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Lambda::EventSourceMapping":
            continue
        properties = resource["Properties"]
        function = properties["FunctionName"]["Ref"].split(".")[0]  # `Function.Alias`
        source, attribute = properties["EventSourceArn"]["Fn::GetAtt"]
        found.append(
            SourceMapping(
                logical_id=logical_id,
                function=function,
                source=source,
                kind="stream" if attribute == "StreamArn" else "queue",
                batch_size=int(properties.get("BatchSize", 100 if attribute == "StreamArn" else 10)),
                filters=tuple(entry["Pattern"] for entry in properties.get("FilterCriteria", {}).get("Filters", [])),
                retries=int(properties.get("MaximumRetryAttempts", 10)),
            )
        )
    return found


def matcher(filters: tuple[str, ...]) -> Callable[[dict[str, Any]], bool]:
    if not filters:
        return lambda record: True
    from moto.events.models import EventPattern  # EventBridge's pattern language, as Lambda's filters use it

    patterns = [EventPattern.load(pattern) for pattern in filters]
    return lambda record: any(pattern.matches_event(record) for pattern in patterns)  # type: ignore[arg-type]


class _Poller:
    def __init__(self, name: str) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll()
            except Exception:
                log.exception("%s: polling failed", self._thread.name)
                self._stop.wait(1)

    def poll(self) -> None:
        raise NotImplementedError


class StreamPoller(_Poller):
    def __init__(self, invoker: Invoker, mapping: SourceMapping, stream: ItemStream) -> None:
        super().__init__(f"stream-{mapping.function}")
        self.invoker = invoker
        self.mapping = mapping
        self.stream = stream
        self.matches = matcher(mapping.filters)
        self.position: str | None = None  # the last record handed over (or filtered out)
        self._retry: tuple[list[dict[str, Any]], int] | None = None  # (batch to send again, attempt)

    def poll(self) -> None:
        if self._retry is not None:
            batch, attempt = self._retry
        else:
            records = self.stream.records_after(self.position, self.mapping.batch_size, wait=0.5)
            if not records:
                return
            self.position = records[-1]["dynamodb"]["SequenceNumber"]
            batch, attempt = [record for record in records if self.matches(record)], 0
            if not batch:
                return
        failed = self._invoke(batch)
        if failed is None:
            self._retry = None
            return
        rest = batch[failed:]
        if attempt >= self.mapping.retries:
            first, last = rest[0]["dynamodb"]["SequenceNumber"], rest[-1]["dynamodb"]["SequenceNumber"]
            log.error("%s: %d stream records dead-lettered (sequence %s to %s)", self.mapping.function, len(rest), first, last)
            self._retry = None
            return
        self._retry = (rest, attempt + 1)
        self._stop.wait(min(2**attempt, 30))

    def _invoke(self, batch: list[dict[str, Any]]) -> int | None:
        """Index of the first record to send again, or None when the batch is done."""
        started = time.perf_counter()
        try:
            answer = self.invoker.invoke(self.mapping.function, {"Records": batch}).result
        except Exception:
            log.exception("%s failed on %d stream records", self.mapping.function, len(batch))
            return 0
        failures = (answer or {}).get("batchItemFailures") or []
        log.info("Stream %d records %.1f ms %s", len(batch), (time.perf_counter() - started) * 1000, self.mapping.function)
        if not failures:
            return None
        sequences = [record["dynamodb"]["SequenceNumber"] for record in batch]
        reported = [sequences.index(f["itemIdentifier"]) for f in failures if f.get("itemIdentifier") in sequences]
        return min(reported, default=0)


class QueuePoller(_Poller):
    def __init__(self, invoker: Invoker, mapping: SourceMapping, queue_url: str, queue_arn: str, region: str) -> None:
        super().__init__(f"queue-{mapping.function}")
        self.invoker = invoker
        self.mapping = mapping
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.region = region
        self.sqs = _queue_client()

    def poll(self) -> None:
        response = self.sqs(
            "ReceiveMessage",
            {
                "QueueUrl": self.queue_url,
                "MaxNumberOfMessages": self.mapping.batch_size,
                "WaitTimeSeconds": 1,
                "AttributeNames": ["All"],
            },
        )
        messages = response.get("Messages", [])
        if not messages:
            return
        event = {"Records": [self._record(message) for message in messages]}
        started = time.perf_counter()
        try:
            answer = self.invoker.invoke(self.mapping.function, event).result
        except Exception:
            log.exception("%s failed on %d messages (back after their visibility timeout)", self.mapping.function, len(messages))
            return
        kept = {failure.get("itemIdentifier") for failure in (answer or {}).get("batchItemFailures") or []}
        done = [message for message in messages if message["MessageId"] not in kept]
        for start in range(0, len(done), 10):
            entries = [{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done[start : start + 10])]
            self.sqs("DeleteMessageBatch", {"QueueUrl": self.queue_url, "Entries": entries})
        log.info("Queue %d messages %.1f ms %s", len(messages), (time.perf_counter() - started) * 1000, self.mapping.function)

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {},
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.region,
        }


def _queue_client() -> Callable[[str, dict[str, Any]], dict[str, Any]]:
    """SQS calls (operation, parameters) for a queue poller: the functions' lean JSON client where
    the environment decides the endpoint (the local store's, always under `make run`), as boto3's
    client cost a poller a millisecond of the store's interpreter per receive; boto3's otherwise."""
    from shop_common.aws import lean_client
    from shop_common.aws.services import SQS

    lean = lean_client(SQS, connect_timeout=2, read_timeout=5)  # read: beyond the 1 s long poll
    if lean is not None:
        return lean.call
    import boto3
    from botocore import xform_name

    sqs = boto3.client("sqs")
    return lambda operation, parameters: dict(getattr(sqs, xform_name(operation))(**parameters))


def create_integration_resources(template: Mapping[str, Any], prefix: str) -> dict[str, str]:
    """The template's SQS queues, EventBridge buses and rules (with their SQS targets) in the
    local store; returns what `Ref` gives for each (a queue's URL, a bus's name) by logical id.
    Queues get their redrive policy; a rule's target its queue."""
    import boto3

    sqs, events = boto3.client("sqs"), boto3.client("events")
    resources = template.get("Resources", {})
    refs: dict[str, str] = {}
    arns: dict[str, str] = {}
    queues = {name: r for name, r in resources.items() if r.get("Type") == "AWS::SQS::Queue"}
    # Dead-letter queues first: a redrive policy names one.
    for name in sorted(queues, key=lambda n: "RedrivePolicy" in queues[n].get("Properties", {})):
        attributes: dict[str, str] = {}
        redrive = queues[name].get("Properties", {}).get("RedrivePolicy")
        if redrive:
            target = arns[redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]]
            policy = {"deadLetterTargetArn": target, "maxReceiveCount": redrive["maxReceiveCount"]}
            attributes["RedrivePolicy"] = json.dumps(policy)
        url = sqs.create_queue(QueueName=f"{prefix}-{name}", Attributes=attributes)["QueueUrl"]
        refs[name] = url
        arns[name] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    for name, resource in resources.items():
        if resource.get("Type") == "AWS::Events::EventBus":
            refs[name] = f"{prefix}-{name}"
            if refs[name] not in {bus["Name"] for bus in events.list_event_buses()["EventBuses"]}:
                events.create_event_bus(Name=refs[name])
    for name, resource in resources.items():
        if resource.get("Type") != "AWS::Events::Rule":
            continue
        properties = resource["Properties"]
        bus = refs[properties["EventBusName"]["Ref"]]
        events.put_rule(Name=f"{prefix}-{name}", EventBusName=bus, EventPattern=json.dumps(properties["EventPattern"]))
        targets = [
            {"Id": target["Id"], "Arn": arns[target["Arn"]["Fn::GetAtt"][0]]}
            for target in properties.get("Targets", [])
            if target["Arn"]["Fn::GetAtt"][0] in arns
        ]
        events.put_targets(Rule=f"{prefix}-{name}", EventBusName=bus, Targets=targets)
    refs.update({f"{name}.Arn": arn for name, arn in arns.items()})
    return refs
