"""EventBridge's input paths parsed once: the same messages reach a rule's queue as with a parse
per event, and the grammar is built once per distinct path, not once per event."""

import json
from collections.abc import Iterator
from typing import Any

import boto3
import jsonpath_ng.ext
import jsonpath_ng.ext.parser
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws

from shoplocal.store.event_paths import parse_input_paths_once


@pytest.fixture
def parsed_once() -> Iterator[None]:
    original = getattr(jsonpath_ng.ext, "parse")  # noqa: B009 - not in the module's declared exports
    parse_input_paths_once()
    try:
        yield
    finally:
        setattr(jsonpath_ng.ext, "parse", original)  # noqa: B010


def _delivered(details: list[dict[str, Any]], transformer: dict[str, Any] | None) -> list[Any]:
    """What a rule's SQS target receives for these events (moto, in-process)."""
    with mock_aws():
        events, sqs = boto3.client("events", "us-east-1"), boto3.client("sqs", "us-east-1")
        queue = sqs.create_queue(QueueName="q")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name="r", EventPattern=json.dumps({"source": ["shop"]}))
        target: dict[str, Any] = {"Id": "t", "Arn": arn}
        if transformer:
            target["InputTransformer"] = transformer
        events.put_targets(Rule="r", Targets=[target])
        for detail in details:
            entry = {"Source": "shop", "DetailType": "order.placed", "Detail": json.dumps(detail)}
            events.put_events(Entries=[entry])
        bodies = []
        while True:
            messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                break
            bodies += [json.loads(message["Body"]) for message in messages]
            for message in messages:
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        # Ids and times differ between runs; what the paths picked is what is compared.
        for body in bodies:
            if isinstance(body, dict):
                for varying in ("id", "time"):
                    body.pop(varying, None)
        return bodies


details = st.lists(
    st.fixed_dictionaries({"id": st.integers(0, 10**6), "total": st.sampled_from(["1.50", "0", "999.99"])}),
    min_size=1,
    max_size=3,
)
transformers = st.sampled_from(
    [
        None,
        {"InputPathsMap": {"order": "$.detail.id"}, "InputTemplate": '{"order": <order>}'},
        {"InputPathsMap": {"t": "$.detail.total", "k": "$.detail-type"}, "InputTemplate": '{"t": "<t>", "k": "<k>"}'},
    ]
)


@settings(max_examples=15, deadline=None)
@given(details=details, transformer=transformers)
def test_messages_are_those_of_a_parse_per_event(details: list[dict[str, Any]], transformer: dict[str, Any] | None) -> None:
    expected = _delivered(details, transformer)
    original = getattr(jsonpath_ng.ext, "parse")  # noqa: B009 - not in the module's declared exports
    parse_input_paths_once()
    try:
        assert _delivered(details, transformer) == expected
    finally:
        setattr(jsonpath_ng.ext, "parse", original)  # noqa: B010


def test_each_path_is_parsed_once(parsed_once: None, monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[str] = []
    original_init = jsonpath_ng.ext.parser.ExtendedJsonPathParser.__init__

    def counting_init(self: Any, *args: Any, **kwargs: Any) -> None:
        built.append("parser")
        original_init(self, *args, **kwargs)

    monkeypatch.setattr(jsonpath_ng.ext.parser.ExtendedJsonPathParser, "__init__", counting_init)
    assert len(_delivered([{"id": n, "total": "1.00"} for n in range(6)], None)) == 6
    distinct_default_paths = 9  # moto's default input paths map: version, id, source, ...
    assert 0 < len(built) <= distinct_default_paths
