"""With tracing on (the invocation sampled), each lean call is an X-Ray subsegment of the
invocation's segment, as the X-Ray SDK writes one; otherwise nothing is recorded."""

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import REGION, TABLE_NAME
from shop_common.aws import tracing
from shop_common.dynamo import client, to_attributes

ROOT, PARENT = "1-5759e988-bd862e3fe1be46a994272793", "53995c3f42cd8ad8"
KEY = to_attributes({"PK": "P#1", "SK": "X"})


@pytest.fixture
def recorded() -> Iterator[list[dict[str, Any]]]:
    documents: list[dict[str, Any]] = []
    tracing.use_recorder(documents.append)
    yield documents
    tracing.use_recorder(None)


def test_a_sampled_invocations_calls_are_subsegments(recorded: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_X_AMZN_TRACE_ID", f"Root={ROOT};Parent={PARENT};Sampled=1")
    client().put_item(TableName=TABLE_NAME, Item=to_attributes({"PK": "P#1", "SK": "X", "q": 1}))
    with pytest.raises(ClientError):
        client().put_item(TableName=TABLE_NAME, Item=KEY, ConditionExpression="attribute_not_exists(PK)")
    written, refused = recorded
    assert {name: written[name] for name in ("name", "trace_id", "parent_id", "type", "namespace")} == {
        "name": "DynamoDB",
        "trace_id": ROOT,
        "parent_id": PARENT,
        "type": "subsegment",
        "namespace": "aws",
    }
    aws = {name: value for name, value in written["aws"].items() if name != "request_id"}  # moto's, random
    assert aws == {"operation": "PutItem", "region": REGION, "table_name": TABLE_NAME, "retries": 0}
    assert written["http"] == {"response": {"status": 200}}
    assert written["start_time"] <= written["end_time"]
    assert "error" not in written
    assert len(written["id"]) == 16
    assert refused["http"] == {"response": {"status": 400}}
    assert refused["error"] is True
    assert written["id"] != refused["id"]


@pytest.mark.parametrize(
    "header",
    [None, f"Root={ROOT};Parent={PARENT};Sampled=0", f"Root={ROOT};Sampled=1"],
    ids=["no trace", "not sampled", "no parent"],
)
def test_without_a_sampled_trace_nothing_is_recorded(
    header: str | None, recorded: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    if header is None:
        monkeypatch.delenv("_X_AMZN_TRACE_ID", raising=False)
    else:
        monkeypatch.setenv("_X_AMZN_TRACE_ID", header)
    client().get_item(TableName=TABLE_NAME, Key=KEY)
    assert recorded == []


def test_powertools_switch_turns_it_off(recorded: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_X_AMZN_TRACE_ID", f"Root={ROOT};Parent={PARENT};Sampled=1")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    client().get_item(TableName=TABLE_NAME, Key=KEY)
    assert recorded == []


def test_subsegments_reach_the_daemon_over_udp(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as daemon:
        daemon.bind(("127.0.0.1", 0))
        daemon.settimeout(10)
        monkeypatch.setenv("AWS_XRAY_DAEMON_ADDRESS", f"tcp:127.0.0.1:1 udp:127.0.0.1:{daemon.getsockname()[1]}")
        monkeypatch.setenv("_X_AMZN_TRACE_ID", f"Root={ROOT};Parent={PARENT};Sampled=1")
        client().get_item(TableName=TABLE_NAME, Key=KEY)
        header, _, document = daemon.recv(65536).partition(b"\n")
    assert json.loads(header) == {"format": "json", "version": 1}
    sent = json.loads(document)
    assert (sent["name"], sent["aws"]["operation"], sent["trace_id"]) == ("DynamoDB", "GetItem", ROOT)


def test_a_daemon_that_is_not_there_fails_no_call(monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable(_: dict[str, Any]) -> None:
        raise OSError("network unreachable")

    tracing.use_recorder(unreachable)
    try:
        monkeypatch.setenv("_X_AMZN_TRACE_ID", f"Root={ROOT};Parent={PARENT};Sampled=1")
        assert "Item" not in client().get_item(TableName=TABLE_NAME, Key=KEY)  # answered: no such item
    finally:
        tracing.use_recorder(None)
