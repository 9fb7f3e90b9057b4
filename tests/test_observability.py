"""Alarms, dashboard, tracing and reserved concurrency in template.yaml, and the business metrics
the orders function publishes for them. A new function, table index or DynamoDB operation
without its alarms fails here."""

import json
import re
from decimal import Decimal
from typing import Any

import pytest

from orders import customer_orders
from orders import handler as orders_handler
from orders.store import OrderNotWritten
from shop_common.catalog import add_products
from shop_common.models import NewProduct
from shoplocal.gateway.invoke import LocalApi
from shoplocal.template import PROJECT_ROOT, functions, load_template

TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
ALARMS = {name: resource["Properties"] for name, resource in RESOURCES.items() if resource["Type"] == "AWS::CloudWatch::Alarm"}
METRICS_NAMESPACE = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
ORDERS_SERVICE = functions()["OrdersFunction"].environment["POWERTOOLS_SERVICE_NAME"]

Metric = tuple[str, str, dict[str, Any]]  # namespace, name, dimensions


def watched(alarm: dict[str, Any]) -> list[Metric]:
    """The metrics an alarm reads, directly or through metric math."""
    queries = alarm.get("Metrics", [])
    stats = [alarm] if "MetricName" in alarm else [query["MetricStat"]["Metric"] for query in queries if "MetricStat" in query]
    return [(s["Namespace"], s["MetricName"], {d["Name"]: d["Value"] for d in s.get("Dimensions", [])}) for s in stats]


def alarms_on(namespace: str, metric: str, **dimensions: Any) -> list[str]:
    return [
        name
        for name, alarm in ALARMS.items()
        for ns, metric_name, dims in watched(alarm)
        if (ns, metric_name) == (namespace, metric) and all(dims.get(key) == value for key, value in dimensions.items())
    ]


# --- alarms -----------------------------------------------------------------------------------


@pytest.mark.parametrize("function", sorted(functions()))
def test_every_function_has_error_throttle_and_p99_latency_alarms(function: str) -> None:
    ref = {"Ref": function}
    assert alarms_on("AWS/Lambda", "Errors", FunctionName=ref)
    assert alarms_on("AWS/Lambda", "Throttles", FunctionName=ref)
    (latency,) = alarms_on("AWS/Lambda", "Duration", FunctionName=ref)
    assert ALARMS[latency]["ExtendedStatistic"] == "p99"
    assert 0 < ALARMS[latency]["Threshold"] < 1000 * TEMPLATE["Globals"]["Function"]["Timeout"]


def test_every_alarm_notifies_the_topic_when_it_fires_and_clears() -> None:
    assert len(ALARMS) >= 3 * len(functions()) + 4
    for name, alarm in ALARMS.items():
        assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": "AlarmTopic"}], name
        assert alarm["TreatMissingData"] == "notBreaching", name  # no traffic is not an incident


def test_every_alarm_has_a_runbook() -> None:
    runbooks = (PROJECT_ROOT / "docs" / "operations.md").read_text()
    headings = {name for line in runbooks.splitlines() if line.startswith("### ") for name in re.findall(r"`(\w+)`", line)}
    assert set(ALARMS) <= headings, set(ALARMS) - headings
    for name, alarm in ALARMS.items():
        assert "docs/operations.md" in alarm["AlarmDescription"], name


def test_the_alarm_email_is_optional_for_dev_and_required_for_prod() -> None:
    assert TEMPLATE["Parameters"]["AlarmEmail"]["Default"] == ""
    assert TEMPLATE["Parameters"]["Stage"]["Default"] == "prod"  # a stack that does not say is live
    (rule,) = TEMPLATE["Rules"].values()
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}
    (assertion,) = rule["Assertions"]
    assert assertion["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}
    pattern = re.compile(TEMPLATE["Parameters"]["AlarmEmail"]["AllowedPattern"])
    for value in ("", "ops@example.com", "on-call+shop@mail.example.co.uk"):
        assert pattern.fullmatch(value), value
    for value in ("ops", "ops@example", "a b@example.com", "@example.com"):
        assert not pattern.fullmatch(value), value
    subscription = RESOURCES["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert TEMPLATE["Conditions"]["HasAlarmEmail"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}
    assert subscription["Properties"]["TopicArn"] == {"Ref": "AlarmTopic"}


def test_the_api_5xx_alarm_is_a_rate_of_the_http_api_requests() -> None:
    (alarm,) = set(alarms_on("AWS/ApiGateway", "5xx", ApiId={"Ref": "ShopHttpApi"}))
    assert ("AWS/ApiGateway", "Count", {"ApiId": {"Ref": "ShopHttpApi"}}) in watched(ALARMS[alarm])
    (expression,) = [query["Expression"] for query in ALARMS[alarm]["Metrics"] if "Expression" in query]
    assert "errors / requests" in expression


def test_dynamodb_throttle_alarm_covers_the_table_and_every_index() -> None:
    table = {"Ref": "ShopTable"}
    indexes = [index["IndexName"] for index in RESOURCES["ShopTable"]["Properties"]["GlobalSecondaryIndexes"]]
    for metric in ("ReadThrottleEvents", "WriteThrottleEvents"):
        covered = {dims.get("GlobalSecondaryIndexName") for name in alarms_on("AWS/DynamoDB", metric, TableName=table)
                   for ns, m, dims in watched(ALARMS[name]) if m == metric}  # fmt: skip
        assert covered >= {None, *indexes}, metric


def test_dynamodb_system_errors_alarm_covers_every_operation_a_function_may_call() -> None:
    granted = {
        str(action).removeprefix("dynamodb:")
        for spec in functions().values()
        for statement in spec.policy_statements
        for action in (statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
        if str(action).startswith("dynamodb:")
    }
    # The stream's reads are the event source mapping's (Lambda retries them itself): not table operations.
    granted -= {"DescribeStream", "GetRecords", "GetShardIterator", "ListStreams"}
    # Item writes inside a transaction are granted per item; the request itself is TransactWriteItems.
    expected = (granted - {"ConditionCheckItem"}) | {"TransactWriteItems"}
    (alarm,) = set(alarms_on("AWS/DynamoDB", "SystemErrors", TableName={"Ref": "ShopTable"}))
    operations = {dims["Operation"] for _, _, dims in watched(ALARMS[alarm])}
    assert expected <= operations, expected - operations


def test_the_conflicts_alarm_reads_what_the_orders_function_publishes() -> None:
    assert orders_handler.REFUSAL_METRICS["conflict"] == "OrderConflicts"
    (alarm,) = set(alarms_on(METRICS_NAMESPACE, "OrderConflicts", service=ORDERS_SERVICE))
    assert (METRICS_NAMESPACE, "OrdersPlaced", {"service": ORDERS_SERVICE}) in watched(ALARMS[alarm])


def test_the_fallbacks_alarm_fires_on_any_aws_call_boto3_serves_in_any_function_of_the_lean_client() -> None:
    """shop_common.aws.fallback counts each call boto3's client serves, per function (its service
    name): one alarm sums every function that makes AWS calls through the lean client, from 1."""
    from shop_common.aws import fallback

    services = {
        spec.environment["POWERTOOLS_SERVICE_NAME"]
        for spec in functions().values()
        if "POWERTOOLS_SERVICE_NAME" in spec.environment
    }
    (alarm,) = set(alarms_on(METRICS_NAMESPACE, fallback.METRIC))
    properties = ALARMS[alarm]
    assert {dims["service"] for _, _, dims in watched(properties)} == services
    assert len(watched(properties)) <= 10  # CloudWatch's limit of metrics in one alarm's metric math
    assert all(query["MetricStat"]["Stat"] == "Sum" for query in properties["Metrics"] if "MetricStat" in query)
    (expression,) = [query for query in properties["Metrics"] if "Expression" in query]
    assert expression["Expression"] == "SUM(FILL(METRICS(), 0))"
    assert expression.get("ReturnData", True)
    assert [query.get("ReturnData", True) for query in properties["Metrics"]].count(True) == 1
    assert (properties["ComparisonOperator"], properties["Threshold"]) == ("GreaterThanThreshold", 0)


# --- dashboard ----------------------------------------------------------------------------------


def dashboard() -> tuple[str, dict[str, Any]]:
    """The dashboard body as written (with ${...}) and parsed, references replaced by their names."""
    body = RESOURCES["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    return body, json.loads(re.sub(r"\$\{([^}]+)\}", r"\1", body))


def test_the_dashboard_references_only_what_the_template_defines() -> None:
    body, _ = dashboard()
    for reference in re.findall(r"\$\{([^}]+)\}", body):
        name = reference if reference.startswith("AWS::") else reference.split(".")[0]  # X.Arn, X.QueueName
        assert name in RESOURCES or name.startswith("AWS::"), reference


def test_the_dashboard_shows_every_alarm_function_and_business_metric() -> None:
    _, parsed = dashboard()
    alarm_widgets = [widget for widget in parsed["widgets"] if widget["type"] == "alarm"]
    shown_alarms = {arn.removesuffix(".Arn") for widget in alarm_widgets for arn in widget["properties"]["alarms"]}
    assert shown_alarms == set(ALARMS)
    rows = [row for widget in parsed["widgets"] if widget["type"] == "metric" for row in widget["properties"]["metrics"]]
    for function in functions():
        shown = {row[1] for row in rows if row[0] == "AWS/Lambda" and function in row}
        assert shown >= {"Invocations", "Errors", "Throttles", "Duration", "ConcurrentExecutions"}, function
    business = {row[1] for row in rows if row[0] == METRICS_NAMESPACE}
    assert business == {
        "OrdersPlaced", "OrderLines", "SoldOutRefusals", "OrderConflicts",
        "WebhookDeliveriesSucceeded", "WebhookDeliveriesFailed", "WebhookEndpointsDisabled",
    }  # fmt: skip
    assert {row[1] for row in rows if row[0] == "AWS/DynamoDB"} >= {"ConsumedReadCapacityUnits", "SystemErrors"}


# --- tracing and concurrency ------------------------------------------------------------------


def test_tracing_is_a_parameter_off_by_default() -> None:
    parameter = TEMPLATE["Parameters"]["Tracing"]
    assert parameter["Default"] == "Disabled"
    assert set(parameter["AllowedValues"]) == {"Disabled", "Active"}
    assert TEMPLATE["Globals"]["Function"]["Tracing"] == {"Ref": "Tracing"}


@pytest.mark.parametrize("function", sorted(functions()))
def test_each_function_reserves_its_own_concurrency(function: str) -> None:
    parameter = function.removesuffix("Function") + "ReservedConcurrency"
    condition = "Reserve" + function.removesuffix("Function") + "Concurrency"
    reserved = RESOURCES[function]["Properties"]["ReservedConcurrentExecutions"]
    assert reserved == {"Fn::If": [condition, {"Ref": parameter}, {"Ref": "AWS::NoValue"}]}
    assert TEMPLATE["Conditions"][condition] == {"Fn::Not": [{"Fn::Equals": [{"Ref": parameter}, "0"]}]}
    assert int(TEMPLATE["Parameters"][parameter]["Default"]) > 0


def test_two_stacks_of_default_reservations_fit_a_default_account() -> None:
    """Lambda refuses reservations that leave fewer than 100 of the account's executions
    (1,000 by default) unreserved; a dev and a prod stack may share an account."""
    total = sum(
        int(TEMPLATE["Parameters"][name]["Default"]) for name in TEMPLATE["Parameters"] if name.endswith("ReservedConcurrency")
    )
    assert 2 * total <= 1000 - 100


# --- business metrics of the orders function ------------------------------------------------------


def published(output: str) -> dict[str, float]:
    """The metrics in the CloudWatch embedded-metric-format lines of the function's output."""
    values: dict[str, float] = {}
    for line in output.splitlines():
        document = json.loads(line) if line.startswith("{") else {}
        for directive in document.get("_aws", {}).get("CloudWatchMetrics", []):
            assert directive["Namespace"] == METRICS_NAMESPACE
            for metric in directive["Metrics"]:
                value = document[metric["Name"]]  # one number, or a list when recorded more than once
                values[metric["Name"]] = values.get(metric["Name"], 0) + (sum(value) if isinstance(value, list) else value)
    return values


def place(api: LocalApi, headers: dict[str, str], product: int, quantity: int) -> Any:
    body = {"parts": [{"product": product, "quantity_in_order": quantity}]}
    return api.request("POST", "/api/order", json_body=body, headers=headers)


@pytest.fixture
def product() -> int:
    (added,) = add_products([NewProduct(name="Mug", price=Decimal("2.50"), quantity=3)])
    return added.id


def test_a_placed_order_counts_the_order_and_its_lines(
    api: LocalApi, signed_in: Any, product: int, capsys: pytest.CaptureFixture[str]
) -> None:
    _, headers = signed_in()
    capsys.readouterr()
    assert place(api, headers, product, 2).status == 201
    assert published(capsys.readouterr().out) == {"OrdersPlaced": 1, "OrderLines": 1}


def test_an_order_beyond_the_stock_counts_a_sold_out_refusal(
    api: LocalApi, signed_in: Any, product: int, capsys: pytest.CaptureFixture[str]
) -> None:
    _, headers = signed_in()
    capsys.readouterr()
    assert place(api, headers, product, 4).status == 400
    assert published(capsys.readouterr().out) == {"SoldOutRefusals": 1}


def test_an_order_lost_to_conflicts_counts_a_conflict(
    api: LocalApi, signed_in: Any, product: int, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def always_conflicting(*_: Any) -> None:
        raise OrderNotWritten("TransactionConflict")

    monkeypatch.setattr(customer_orders, "write_order", always_conflicting)
    _, headers = signed_in()
    capsys.readouterr()
    assert place(api, headers, product, 1).status == 409
    assert published(capsys.readouterr().out) == {"OrderConflicts": 1}


def test_other_refusals_count_nothing(api: LocalApi, signed_in: Any, product: int, capsys: pytest.CaptureFixture[str]) -> None:
    _, headers = signed_in()
    capsys.readouterr()
    assert place(api, headers, product + 1000, 1).status == 400  # unknown product
    assert place(api, headers, product, 0).status == 400  # invalid quantity
    assert published(capsys.readouterr().out) == {}


def test_the_api_429_alarm_is_a_rate_counted_from_the_access_log() -> None:
    """API Gateway has no 429 metric: a filter on the access log counts them, by the API's id."""
    (alarm,) = set(alarms_on("ShopApi", "ThrottledRequests", ApiId={"Ref": "ShopHttpApi"}))
    assert ("AWS/ApiGateway", "Count", {"ApiId": {"Ref": "ShopHttpApi"}}) in watched(ALARMS[alarm])
    (expression,) = [query["Expression"] for query in ALARMS[alarm]["Metrics"] if "Expression" in query]
    assert "throttled, 0) / requests" in expression
    (counter,) = [r["Properties"] for r in RESOURCES.values() if r["Type"] == "AWS::Logs::MetricFilter"]
    assert counter["LogGroupName"] == {"Ref": "ApiAccessLogs"}
    (transformation,) = counter["MetricTransformations"]
    assert (transformation["MetricNamespace"], transformation["MetricName"]) == ("ShopApi", "ThrottledRequests")
    assert transformation["Dimensions"] == [{"Key": "ApiId", "Value": "$.apiId"}]
    # The access log writes the fields the filter reads, with the values it compares.
    log_format = json.loads(RESOURCES["ShopHttpApi"]["Properties"]["AccessLogSettings"]["Format"])
    assert log_format["status"] == "$context.status"
    assert log_format["apiId"] == "$context.apiId"
    assert counter["FilterPattern"] == '{ $.status = "429" }'
