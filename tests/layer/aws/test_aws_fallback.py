"""A call boto3's client serves instead of the lean client is logged once per kind and counted:
in Lambda, one embedded-metric-format line per call (the CloudWatch metric AwsClientFallbacks)."""

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import TABLE_NAME
from shop_common import dynamo, secrets
from shop_common.aws import fallback
from shop_common.dynamo import client, to_attributes

KEY = to_attributes({"PK": "P#1", "SK": "X"})


@pytest.fixture
def in_lambda(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "shop-OrdersFunction")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "orders")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "ShopApi")
    fallback.forget_logged()
    yield
    fallback.forget_logged()


@pytest.fixture
def boto3_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """An environment the lean client cannot serve: a profile only botocore reads."""
    config = tmp_path / "config"
    config.write_text("[default]\nretry_mode = standard\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    dynamo.forget_client()
    secrets.forget_client()
    yield
    monkeypatch.undo()
    dynamo.forget_client()
    secrets.forget_client()


def metric_lines(output: str) -> list[dict[str, Any]]:
    return [line for line in map(json.loads, output.splitlines()) if fallback.METRIC in line]


@pytest.mark.usefixtures("in_lambda", "boto3_only")
def test_each_call_boto3_serves_is_counted_and_the_first_of_a_kind_logged(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    shared: Any = client()
    assert shared.lean is None
    with caplog.at_level(logging.WARNING, logger=fallback.__name__):
        for _ in range(3):
            shared.get_item(TableName=TABLE_NAME, Key=KEY)
        shared.query(TableName=TABLE_NAME, KeyConditionExpression="PK = :p", ExpressionAttributeValues=to_attributes({":p": "P"}))
    lines = metric_lines(capsys.readouterr().out)
    assert [(line["operation"], line[fallback.METRIC]) for line in lines] == [("GetItem", 1)] * 3 + [("Query", 1)]
    emf = lines[0]["_aws"]
    assert emf["CloudWatchMetrics"] == [
        {"Namespace": "ShopApi", "Dimensions": [["service"]], "Metrics": [{"Name": fallback.METRIC, "Unit": "Count"}]}
    ]
    assert lines[0]["service"] == "orders"
    assert isinstance(emf["Timestamp"], int)
    logged = [record.getMessage() for record in caplog.records if record.name == fallback.__name__]
    assert len(logged) == 2  # once for GetItem, once for Query
    assert "GetItem" in logged[0]
    assert "does not decide" in logged[0]


@pytest.mark.usefixtures("in_lambda", "boto3_only")
def test_secrets_read_by_boto3_are_counted(capsys: pytest.CaptureFixture[str]) -> None:
    secrets.forget_signing_keys()
    secrets.signing_keys()
    assert {line["aws_service"] for line in metric_lines(capsys.readouterr().out)} == {"secretsmanager"}


@pytest.mark.usefixtures("in_lambda")
def test_the_lean_path_counts_nothing_and_an_operation_it_does_not_make_is_counted(capsys: pytest.CaptureFixture[str]) -> None:
    shared: Any = client()
    assert shared.lean is not None
    shared.get_item(TableName=TABLE_NAME, Key=KEY)
    assert metric_lines(capsys.readouterr().out) == []
    shared.describe_table(TableName=TABLE_NAME)
    (line,) = metric_lines(capsys.readouterr().out)
    assert (line["operation"], line["reason"]) == ("describe_table", "an operation the lean client does not make")


@pytest.mark.usefixtures("boto3_only")
def test_outside_lambda_nothing_is_written(capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    """Tests, `make run` and shopctl administer tables through boto3: not a fallback to report."""
    client().get_item(TableName=TABLE_NAME, Key=KEY)
    assert capsys.readouterr().out == ""
    assert not [record for record in caplog.records if record.name == fallback.__name__]
