"""The shared DynamoDB client behaves exactly as boto3's own: its compiled validation and parsing
(`dynamo_fast_paths`) and its attribute conversions are compared with botocore's and boto3's
on random requests, responses and values; errors, cancellations and retries end to end on moto."""

import base64
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from functools import cache
from typing import Any

import boto3
import botocore.session
import pytest
from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError
from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape
from botocore.parsers import create_parser
from botocore.validate import ParamValidator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import TABLE_NAME
from shop_common.dynamo import client, from_attributes, to_attributes
from shop_common.dynamo_fast_paths import DynamoFastPaths

SERVICE = botocore.session.get_session().get_service_model("dynamodb")
DATA_OPERATIONS = [
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "TransactWriteItems",
    "TransactGetItems",
]
HYPOTHESIS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def exact(value: Any) -> str:
    """A representation in which types count: 1, 1.0, True and Decimal(1) all differ."""
    return repr(value)


@cache
def plain_client() -> Any:
    """boto3's client as it comes, with the shared client's timeouts and retries."""
    config = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 4})
    return boto3.client("dynamodb", config=config)


# --- responses: compiled parsing against botocore's parser ---------------------------------------

text = st.text(max_size=8)
number = st.one_of(st.integers(-(10**20), 10**20).map(str), st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str))
blob = st.binary(max_size=8).map(lambda raw: base64.b64encode(raw).decode())
scalar_value = st.one_of(
    text.map(lambda s: {"S": s}),
    number.map(lambda n: {"N": n}),
    blob.map(lambda b: {"B": b}),
    st.lists(text, max_size=3).map(lambda v: {"SS": v}),
    st.lists(number, max_size=3).map(lambda v: {"NS": v}),
    st.lists(blob, max_size=3).map(lambda v: {"BS": v}),
    st.just({"NULL": True}),
    st.booleans().map(lambda v: {"BOOL": v}),
)
# What a service could send that the model does not describe: botocore drops unknown members
# and members that are null, keeps nulls in lists; the compiled parser must do the same.
odd_value: st.SearchStrategy[dict[str, Any]] = st.one_of(
    st.just({"S": None}),
    st.just({"Unknown": "x"}),
    st.just({"S": "a", "N": "1"}),
    st.just({"L": [None, {"S": "x"}]}),
    st.just({}),
)
attribute_value = st.recursive(
    st.one_of(scalar_value, scalar_value, odd_value),
    lambda children: st.one_of(
        st.dictionaries(text, children, max_size=3).map(lambda m: {"M": m}),
        st.lists(children, max_size=3).map(lambda v: {"L": v}),
    ),
    max_leaves=12,
)
item = st.dictionaries(text, attribute_value, max_size=5)
capacity = st.fixed_dictionaries(
    {"TableName": st.just("t"), "CapacityUnits": st.floats(0, 100)}, optional={"ReadCapacityUnits": st.integers(0, 9)}
)
extra = st.dictionaries(st.sampled_from(["NewMember", "Other"]), st.integers(), max_size=1)


def body_for(operation: str) -> st.SearchStrategy[dict[str, Any]]:
    bodies: dict[str, st.SearchStrategy[dict[str, Any]]] = {
        "GetItem": st.fixed_dictionaries({}, optional={"Item": item, "ConsumedCapacity": capacity}),
        "PutItem": st.fixed_dictionaries({}, optional={"Attributes": item}),
        "UpdateItem": st.fixed_dictionaries({}, optional={"Attributes": item}),
        "DeleteItem": st.fixed_dictionaries(
            {},
            optional={
                "Attributes": item,
                "ItemCollectionMetrics": st.fixed_dictionaries(
                    {"ItemCollectionKey": item, "SizeEstimateRangeGB": st.lists(st.floats(0, 10), max_size=2)}
                ),
            },
        ),
        "Query": st.fixed_dictionaries(
            {"Items": st.lists(item, max_size=4), "Count": st.integers(0, 4)},
            optional={"ScannedCount": st.integers(0, 9), "LastEvaluatedKey": item, "ConsumedCapacity": capacity},
        ),
        "BatchGetItem": st.fixed_dictionaries(
            {"Responses": st.dictionaries(st.sampled_from(["t", "u"]), st.lists(item, max_size=3), max_size=2)},
            optional={
                "UnprocessedKeys": st.dictionaries(
                    st.just("t"),
                    st.fixed_dictionaries({"Keys": st.lists(item, max_size=2)}, optional={"ProjectionExpression": text}),
                    max_size=1,
                )
            },
        ),
        "TransactWriteItems": st.fixed_dictionaries({}, optional={"ConsumedCapacity": st.lists(capacity, max_size=2)}),
        "TransactGetItems": st.fixed_dictionaries(
            {}, optional={"Responses": st.lists(st.fixed_dictionaries({}, optional={"Item": item}), max_size=3)}
        ),
    }
    return st.tuples(bodies[operation], extra).map(lambda pair: {**pair[0], **pair[1]})


def response(body: bytes, status: int = 200) -> dict[str, Any]:
    headers = {"x-amzn-requestid": "REQ", "content-type": "application/x-amz-json-1.0"}
    return {"status_code": status, "headers": headers, "body": body, "context": {"operation_name": "X"}}


def parse_as_botocore(operation: OperationModel, raw: dict[str, Any]) -> Any:
    assert operation.output_shape is not None
    return create_parser("json").parse(raw, operation.output_shape)


def parse_with_fast_paths(operation: OperationModel, raw: dict[str, Any], fast: DynamoFastPaths) -> Any:
    """What botocore's endpoint does around the `before-parse` event."""
    customized: dict[str, Any] = {}
    fast.parse(operation_model=operation, response_dict=raw, customized_response_dict=customized)
    assert operation.output_shape is not None
    parsed = create_parser("json").parse(raw, operation.output_shape)
    parsed.update(customized)
    return parsed


@pytest.mark.parametrize(
    "operation",
    ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "BatchGetItem", "TransactWriteItems", "TransactGetItems"],
)
@HYPOTHESIS
@given(data=st.data())
def test_responses_parse_exactly_as_botocore_parses_them(operation: str, data: st.DataObject) -> None:
    model = SERVICE.operation_model(operation)
    body = json.dumps(data.draw(body_for(operation))).encode()
    expected = parse_as_botocore(model, response(body))
    actual = parse_with_fast_paths(model, response(body), DynamoFastPaths())
    assert exact(dict(sorted(actual.items()))) == exact(dict(sorted(expected.items())))


ERROR_TYPE = "com.amazonaws.dynamodb.v20120810#"
CONDITION_FAILED = json.dumps({"__type": f"{ERROR_TYPE}ConditionalCheckFailedException", "message": "failed"}).encode()
REASONS = [{"Code": "ConditionalCheckFailed", "Item": {"q": {"N": "1"}}}, {"Code": "None"}]
TRANSACTION_CANCELLED = json.dumps(
    {"__type": f"{ERROR_TYPE}TransactionCanceledException", "message": "Transaction cancelled", "CancellationReasons": REASONS}
).encode()


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, CONDITION_FAILED),
        (400, TRANSACTION_CANCELLED),
        (500, b""),
        (200, b"not json"),
        (200, b"[1, 2]"),
        (200, b'{"Items": "not a list"}'),
        (200, b""),
    ],
)
def test_errors_and_malformed_responses_are_left_to_botocore(status: int, body: bytes) -> None:
    model = SERVICE.operation_model("Query")
    raw = response(body, status)
    customized: dict[str, Any] = {}
    DynamoFastPaths().parse(operation_model=model, response_dict=raw, customized_response_dict=customized)
    assert customized == {}
    assert raw["body"] == body


def test_a_successful_response_is_parsed_once_not_by_botocore_again() -> None:
    model = SERVICE.operation_model("Query")
    raw = response(b'{"Items": [{"PK": {"S": "a"}}], "Count": 1}')
    customized: dict[str, Any] = {}
    DynamoFastPaths().parse(operation_model=model, response_dict=raw, customized_response_dict=customized)
    assert customized == {"Items": [{"PK": {"S": "a"}}], "Count": 1}
    assert raw["body"] == b""  # botocore's parser then adds only ResponseMetadata


def test_operations_with_timestamps_are_left_to_botocore() -> None:
    model = SERVICE.operation_model("DescribeTable")
    raw = response(b'{"Table": {"TableName": "t", "CreationDateTime": 1700000000.5}}')
    customized: dict[str, Any] = {}
    DynamoFastPaths().parse(operation_model=model, response_dict=raw, customized_response_dict=customized)
    assert customized == {}


# --- requests: compiled validation against botocore's validator ---------------------------------

WRONG: st.SearchStrategy[Any] = st.sampled_from(
    [None, 1, -1, 0, "", "x", 1.5, True, [], {}, b"x", Decimal("NaN"), ("t",), Decimal(-1)]
)


@cache
def valid_params(shape: Shape, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values botocore's validator accepts (lengths and ranges at their minimum included)."""
    kind = shape.type_name
    minimum = shape.metadata.get("min", 0)
    if isinstance(shape, StructureShape):
        if depth > 4:
            return st.just({})
        members = {name: valid_params(member, depth + 1) for name, member in shape.members.items()}
        if shape.is_tagged_union:
            return st.sampled_from(sorted(members)).flatmap(lambda name: st.fixed_dictionaries({name: members[name]}))
        required = {name: members[name] for name in shape.required_members}
        return st.fixed_dictionaries(required, optional={name: value for name, value in members.items() if name not in required})
    if isinstance(shape, ListShape):
        if depth > 4:
            return st.just([])
        items = st.lists(valid_params(shape.member, depth + 1), min_size=minimum, max_size=max(3, minimum))
        return st.one_of(items, items.map(tuple))
    if isinstance(shape, MapShape):
        if depth > 4:
            return st.just({})
        return st.dictionaries(valid_params(shape.key, depth + 1), valid_params(shape.value, depth + 1), max_size=3)
    if kind == "string":
        enum = getattr(shape, "enum", None)
        return st.sampled_from(enum) if enum else st.text(min_size=minimum, max_size=minimum + 4)
    scalars: dict[str, st.SearchStrategy[Any]] = {
        "integer": st.integers(min_value=minimum, max_value=minimum + 200),
        "long": st.integers(min_value=minimum, max_value=minimum + 200),
        "boolean": st.booleans(),
        "double": st.one_of(
            st.floats(minimum, minimum + 10), st.decimals(minimum, minimum + 10), st.integers(minimum, minimum + 10)
        ),
        "blob": st.one_of(st.binary(max_size=3), st.text(max_size=3)),
        "timestamp": st.just("2024-01-01T00:00:00Z"),
    }
    return scalars[kind]


def places(value: Any) -> list[tuple[Any, Any]]:
    """Every (container, key or index) in a nested value of dicts and lists."""
    found: list[tuple[Any, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found += [(value, key), *places(item)]
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += [(value, index), *places(item)]
    return found


def corrupted(data: st.DataObject, params: dict[str, Any]) -> dict[str, Any]:
    """The same parameters with one mistake: a wrong value, a missing member, an unknown one."""
    spots = places(params)
    if not spots:
        return {**params, "NoSuchParameter": 1}
    container, key = spots[data.draw(st.integers(0, len(spots) - 1))]
    mistake = data.draw(st.sampled_from(["wrong", "missing", "unknown"]))
    if mistake == "wrong" or isinstance(container, list):
        container[key] = data.draw(WRONG)
    elif mistake == "missing":
        del container[key]
    else:
        container["NoSuchParameter"] = data.draw(WRONG)
    return params


@pytest.mark.parametrize("operation", DATA_OPERATIONS)
@HYPOTHESIS
@given(data=st.data())
def test_validation_accepts_only_what_botocore_accepts_and_fails_with_its_error(operation: str, data: st.DataObject) -> None:
    model = SERVICE.operation_model(operation)
    assert model.input_shape is not None
    params = data.draw(valid_params(model.input_shape))
    if data.draw(st.booleans()):
        params = corrupted(data, params)
    expected = ParamValidator().validate(params, model.input_shape)
    if expected.has_errors():
        with pytest.raises(ParamValidationError) as raised:
            DynamoFastPaths().validate(params=params, model=model)
        assert str(raised.value) == str(ParamValidationError(report=expected.generate_report()))
    else:
        DynamoFastPaths().validate(params=params, model=model)


def test_the_requests_this_project_makes_pass_the_compiled_check_without_botocore(monkeypatch: pytest.MonkeyPatch) -> None:
    from shop_common import dynamo_fast_paths

    def botocore_validation(*_: Any) -> None:
        raise AssertionError("deferred to botocore's validator")

    monkeypatch.setattr(dynamo_fast_paths, "validate_parameters", botocore_validation)
    key = to_attributes({"PK": "PRODUCT#1", "SK": "PRODUCT"})
    update = {
        "TableName": "t",
        "Key": key,
        "UpdateExpression": "SET q = q - :q",
        "ConditionExpression": "q >= :q",
        "ExpressionAttributeValues": to_attributes({":q": 2}),
    }
    order = to_attributes(
        {"PK": "ORDERS#1", "SK": "ORDER#1", "parts": [{"product": 1, "quantity_in_order": 2, "product_name": "x"}]}
    )
    requests: dict[str, dict[str, Any]] = {
        "GetItem": {"TableName": "t", "Key": key, "ProjectionExpression": "#n", "ExpressionAttributeNames": {"#n": "name"}},
        "Query": {
            "TableName": "t",
            "IndexName": "GSI1",
            "KeyConditionExpression": "GSI1PK = :b",
            "ExpressionAttributeValues": to_attributes({":b": "CATALOG#0"}),
            "ScanIndexForward": False,
            "Limit": 50,
            "ExclusiveStartKey": key,
        },
        "BatchGetItem": {"RequestItems": {"t": {"Keys": [key, key], "ProjectionExpression": "id"}}},
        "TransactWriteItems": {
            "TransactItems": [
                {"Update": update},
                {"Put": {"TableName": "t", "Item": order, "ConditionExpression": "attribute_not_exists(PK)"}},
            ],
            "ClientRequestToken": "x",
        },
    }
    fast = DynamoFastPaths()
    for operation, params in requests.items():
        fast.validate(params=params, model=SERVICE.operation_model(operation))


def test_first_uses_from_many_threads_at_once_all_see_complete_checks_and_converters() -> None:
    fast = DynamoFastPaths()
    model = SERVICE.operation_model("TransactGetItems")
    body = json.dumps({"Responses": [{"Item": {"a": {"M": {"b": {"L": [{"S": "x"}]}}}}}]}).encode()
    params = {"TransactItems": [{"Get": {"TableName": "t", "Key": {"a": {"M": {"b": {"L": [{"N": "1"}]}}}}}}]}
    start = threading.Barrier(8)

    def first_use() -> Any:
        start.wait(timeout=60)
        fast.validate(params=params, model=model)
        return parse_with_fast_paths(model, response(body), fast)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: first_use(), range(8)))
    assert all(result["Responses"] == [{"Item": {"a": {"M": {"b": {"L": [{"S": "x"}]}}}}}] for result in results)


# --- attribute conversions against boto3's TypeSerializer and TypeDeserializer -----------------

python_value = st.recursive(
    st.one_of(
        st.text(max_size=5),
        st.integers(-(10**40), 10**40),
        st.decimals(allow_nan=True, allow_infinity=True),
        st.booleans(),
        st.none(),
        st.binary(max_size=4),
        st.floats(allow_nan=False),
        st.sets(st.text(max_size=3), min_size=1, max_size=3),
        st.sets(st.integers(-5, 5), min_size=1, max_size=3),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=3), children, max_size=3), st.tuples(children)
    ),
    max_leaves=10,
)


def outcome(convert: Callable[[], Any]) -> str:
    try:
        return exact(convert())
    except Exception as error:  # the same error, with the same message, counts as the same
        return f"{type(error).__name__}: {error}"


@HYPOTHESIS
@given(values=st.dictionaries(st.text(max_size=4), python_value, max_size=4))
def test_to_attributes_is_boto3s_type_serializer(values: dict[str, Any]) -> None:
    serializer = TypeSerializer()
    expected = outcome(lambda: {name: serializer.serialize(value) for name, value in values.items()})
    assert outcome(lambda: to_attributes(values)) == expected


wire_value = st.recursive(
    st.one_of(scalar_value, odd_value, st.just({"n": "1"}), st.just({"N": "1e999"}), st.just({"N": "x"})),
    lambda children: st.one_of(
        st.dictionaries(text, children, max_size=3).map(lambda m: {"M": m}),
        st.lists(children, max_size=3).map(lambda v: {"L": v}),
    ),
    max_leaves=10,
)


@HYPOTHESIS
@given(item=st.dictionaries(text, wire_value, max_size=4))
def test_from_attributes_is_boto3s_type_deserializer(item: dict[str, Any]) -> None:
    parsed = {
        name: ({kind: base64.b64decode(raw)} if kind == "B" else value)
        for name, value in item.items()
        for kind, raw in list(value.items())[:1]
    }
    deserializer: Any = TypeDeserializer()
    expected = outcome(lambda: {name: deserializer.deserialize(value) for name, value in parsed.items()})
    assert outcome(lambda: from_attributes(parsed)) == expected


def test_round_trip_of_every_type() -> None:
    values = {
        "s": "x",
        "n": 12,
        "d": Decimal("9.99"),
        "b": Binary(b"\x00"),
        "t": True,
        "z": None,
        "l": [1, "a"],
        "m": {"k": [{"x": 1}]},
    }
    values |= {"ss": {"a", "b"}, "ns": {Decimal(1), Decimal(2)}, "bs": {Binary(b"x")}}
    assert from_attributes(to_attributes(values)) == values


# --- end to end on moto: same results, same errors, same retries --------------------------------


def put(pk: str, **values: Any) -> None:
    client().put_item(TableName=TABLE_NAME, Item=to_attributes({"PK": pk, "SK": "X", **values}))


@HYPOTHESIS
@given(
    values=st.dictionaries(
        st.sampled_from(["a", "b", "c", "d"]),
        st.one_of(
            st.text(max_size=5),
            st.integers(-999, 999),
            st.binary(min_size=1, max_size=3),
            st.booleans(),
            st.none(),
            st.lists(st.integers(0, 9), max_size=3),
            st.sets(st.text(min_size=1, max_size=2), min_size=1, max_size=2),
        ),
        max_size=4,
    )
)
def test_reads_return_what_boto3s_own_client_returns(values: dict[str, Any]) -> None:
    put("P#1", **values)
    put("P#2", **values)
    plain = plain_client()
    key = to_attributes({"PK": "P#1", "SK": "X"})
    calls: list[tuple[str, dict[str, Any]]] = [
        ("get_item", {"TableName": TABLE_NAME, "Key": key}),
        (
            "query",
            {
                "TableName": TABLE_NAME,
                "KeyConditionExpression": "PK = :p",
                "ExpressionAttributeValues": to_attributes({":p": "P#2"}),
            },
        ),
        ("batch_get_item", {"RequestItems": {TABLE_NAME: {"Keys": [key, to_attributes({"PK": "P#2", "SK": "X"})]}}}),
        (
            "update_item",
            {
                "TableName": TABLE_NAME,
                "Key": key,
                "UpdateExpression": "SET z = :z",
                "ExpressionAttributeValues": to_attributes({":z": 1}),
                "ReturnValues": "ALL_OLD",
            },
        ),
    ]
    for method, params in calls:
        ours, theirs = getattr(client(), method)(**params), getattr(plain, method)(**params)
        for parsed in (ours, theirs):
            metadata = parsed.pop("ResponseMetadata")
            assert metadata["HTTPStatusCode"] == 200
        if method == "batch_get_item":
            ours["Responses"][TABLE_NAME].sort(key=repr)
            theirs["Responses"][TABLE_NAME].sort(key=repr)
        if method == "update_item":
            ours["Attributes"].pop("z", None)
            theirs["Attributes"].pop("z", None)
        assert exact(ours) == exact(theirs), method


def failure(call: Callable[[], Any]) -> dict[str, Any]:
    with pytest.raises(ClientError) as raised:
        call()
    error: Any = raised.value.response
    retries = error["ResponseMetadata"].get("RetryAttempts")
    error = {name: value for name, value in error.items() if name != "ResponseMetadata"}
    return {"class": type(raised.value).__name__, "response": error, "operation": raised.value.operation_name, "retries": retries}


def test_conditional_check_failures_are_the_same_client_error() -> None:
    put("P#1", q=1)
    params: Any = {
        "TableName": TABLE_NAME,
        "Key": to_attributes({"PK": "P#1", "SK": "X"}),
        "UpdateExpression": "SET q = q - :q",
        "ConditionExpression": "q >= :q",
        "ExpressionAttributeValues": to_attributes({":q": 5}),
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    ours = failure(lambda: client().update_item(**params))
    assert ours == failure(lambda: plain_client().update_item(**params))
    assert ours["response"]["Error"]["Code"] == "ConditionalCheckFailedException"
    assert ours["response"]["Item"] == to_attributes({"PK": "P#1", "SK": "X", "q": 1})


def test_transaction_cancellations_are_the_same_client_error_with_their_reasons() -> None:
    put("P#1", q=1)
    writes: Any = [
        {
            "Update": {
                "TableName": TABLE_NAME,
                "Key": to_attributes({"PK": "P#1", "SK": "X"}),
                "UpdateExpression": "SET q = q - :q",
                "ConditionExpression": "q >= :q",
                "ExpressionAttributeValues": to_attributes({":q": 5}),
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        },
        {
            "Put": {
                "TableName": TABLE_NAME,
                "Item": to_attributes({"PK": "P#2", "SK": "X"}),
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        },
    ]
    ours = failure(lambda: client().transact_write_items(TransactItems=writes))
    assert ours == failure(lambda: plain_client().transact_write_items(TransactItems=writes))
    assert ours["response"]["Error"]["Code"] == "TransactionCanceledException"
    reasons = ours["response"]["CancellationReasons"]
    assert [reason["Code"] for reason in reasons] == ["ConditionalCheckFailed", "None"]
    assert reasons[0]["Item"] == to_attributes({"PK": "P#1", "SK": "X", "q": 1})


@pytest.mark.parametrize(
    "params",
    [
        {"TableName": TABLE_NAME},
        {"TableName": TABLE_NAME, "Key": {"PK": "not an attribute value"}},
        {"TableName": TABLE_NAME, "Key": {}, "Unknown": 1},
        {"TableName": TABLE_NAME, "Key": {"PK": {"S": 1}, "SK": {"N": 2}}},
    ],
)
def test_invalid_requests_raise_botocores_own_validation_error(params: dict[str, Any]) -> None:
    with pytest.raises(ParamValidationError) as ours:
        client().get_item(**params)
    with pytest.raises(ParamValidationError) as theirs:
        plain_client().get_item(**params)
    assert str(ours.value) == str(theirs.value)


def test_a_table_name_of_the_wrong_type_is_a_validation_error_before_endpoint_resolution() -> None:
    """The one difference: botocore resolves the endpoint (which reads TableName) before it
    validates, so its own client raises EndpointResolutionError here; ours validates first."""
    with pytest.raises(ParamValidationError, match="Invalid type for parameter TableName"):
        client().get_item(TableName=7, Key={})  # type: ignore[arg-type]


def refuse(status: int, code: str, times: int) -> Any:
    """A `before-send` handler answering the first `times` requests with an error, as DynamoDB
    does when it throttles or fails; later requests go on to moto."""
    refused = [0]

    class Raw:
        def stream(self, **_: Any) -> Any:
            yield json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "try again"}).encode()

    def answer(request: Any, **_: Any) -> AWSResponse | None:
        if refused[0] >= times:
            return None
        refused[0] += 1
        return AWSResponse(request.url, status, {"x-amzn-requestid": "R"}, Raw())  # type: ignore[arg-type]

    return answer


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "ProvisionedThroughputExceededException"),
        (400, "ThrottlingException"),
        (500, "InternalServerError"),
        (503, "ServiceUnavailable"),
    ],
)
def test_throttling_and_transient_errors_are_retried_as_before(monkeypatch: pytest.MonkeyPatch, status: int, code: str) -> None:
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    put("P#1")
    answer = refuse(status, code, times=2)
    client().meta.events.register_first("before-send.dynamodb", answer)
    try:
        found = client().get_item(TableName=TABLE_NAME, Key=to_attributes({"PK": "P#1", "SK": "X"}))
    finally:
        client().meta.events.unregister("before-send.dynamodb", answer)
    assert found["Item"]["PK"] == {"S": "P#1"}
    assert found["ResponseMetadata"]["RetryAttempts"] == 2
    assert len(slept) == 2


def test_retries_stop_after_five_attempts_with_the_services_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "sleep", lambda _: None)
    answer = refuse(400, "ProvisionedThroughputExceededException", times=10)
    client().meta.events.register_first("before-send.dynamodb", answer)
    try:
        raised = failure(lambda: client().get_item(TableName=TABLE_NAME, Key=to_attributes({"PK": "P#1", "SK": "X"})))
    finally:
        client().meta.events.unregister("before-send.dynamodb", answer)
    assert raised["class"] == "ProvisionedThroughputExceededException"
    assert raised["response"]["Error"] == {"Message": "try again", "Code": "ProvisionedThroughputExceededException"}
    assert raised["retries"] == 4


def test_the_client_keeps_its_timeouts_and_retry_mode() -> None:
    config: Any = client().meta.config
    assert (config.connect_timeout, config.read_timeout) == (2, 5)
    assert config.retries == {"mode": "standard", "total_max_attempts": 5}  # `max_attempts: 4` retries


def test_the_shared_client_parses_its_responses_with_the_fast_path() -> None:
    put("P#1", n=3)
    seen: list[bytes] = []

    def body_botocore_parses(response_dict: dict[str, Any], **_: Any) -> None:
        seen.append(response_dict["body"])

    client().meta.events.register("before-parse.dynamodb", body_botocore_parses)
    try:
        found = client().get_item(TableName=TABLE_NAME, Key=to_attributes({"PK": "P#1", "SK": "X"}))
    finally:
        client().meta.events.unregister("before-parse.dynamodb", body_botocore_parses)
    assert seen == [b""]
    assert from_attributes(found["Item"]) == {"PK": "P#1", "SK": "X", "n": 3}
