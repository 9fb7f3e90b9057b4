"""The shared DynamoDB client: the functions' hot operations go through the lean client and
answer what boto3's own client answers on moto (reads, conditional failures, cancellations);
everything else is boto3's own client, made only when first needed; the attribute conversions
are boto3's TypeSerializer and TypeDeserializer on random values."""

import base64
import json
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attribute_values import scalar_value, text
from conftest import TABLE_NAME
from shop_common import dynamo
from shop_common.dynamo import client, from_attributes, to_attributes

HYPOTHESIS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def exact(value: Any) -> str:
    """A representation in which types count: 1, 1.0, True and Decimal(1) all differ."""
    return repr(value)


def typed(value: Any) -> str:
    """A form in which types count (1, 1.0, True differ) and the order of a dict's keys does not
    (botocore orders nested structures by its model, the lean client as the service sent them)."""
    return json.dumps(value, sort_keys=True, default=lambda other: f"{type(other).__name__}:{other!r}")


@cache
def plain_client() -> Any:
    """boto3's client as it comes, with the shared client's timeouts and retries."""
    config = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 4})
    return boto3.client("dynamodb", config=config)


# What a service could send that the model does not describe: botocore drops unknown members
# and members that are null, keeps nulls in lists; the compiled parser must do the same.
odd_value: st.SearchStrategy[dict[str, Any]] = st.one_of(
    st.just({"S": None}),
    st.just({"Unknown": "x"}),
    st.just({"S": "a", "N": "1"}),
    st.just({"L": [None, {"S": "x"}]}),
    st.just({}),
)
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
        assert theirs.pop("ResponseMetadata")["HTTPStatusCode"] == 200
        ours = {name: ours[name] for name in theirs}  # what botocore keeps (no `ResponseMetadata`: no caller reads it)
        if method == "batch_get_item":
            ours["Responses"][TABLE_NAME].sort(key=repr)
            theirs["Responses"][TABLE_NAME].sort(key=repr)
        if method == "update_item":
            ours["Attributes"].pop("z", None)
            theirs["Attributes"].pop("z", None)
        assert typed(ours) == typed(theirs), method


def failure(call: Callable[[], Any]) -> dict[str, Any]:
    """The ClientError a caller catches: its code, message and the error's members."""
    with pytest.raises(ClientError) as raised:
        call()
    error: Any = raised.value.response
    error = {name: value for name, value in error.items() if name not in ("ResponseMetadata", "message", "Message")}
    return {"response": error, "operation": raised.value.operation_name}


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


def test_the_hot_operations_are_lean_and_the_rest_is_boto3s_own_client() -> None:
    shared: Any = client()
    assert isinstance(shared, dynamo.DynamoDB)
    assert shared.lean is not None  # the environment decides endpoint and credentials, as in Lambda
    dynamo._boto3_client.cache_clear()
    shared.get_item(TableName=TABLE_NAME, Key=to_attributes({"PK": "P#1", "SK": "X"}))
    shared.query(TableName=TABLE_NAME, KeyConditionExpression="PK = :a", ExpressionAttributeValues=to_attributes({":a": "A"}))
    assert dynamo._boto3_client.cache_info().currsize == 0  # no botocore client was made for them
    assert shared.describe_table(TableName=TABLE_NAME)["Table"]["TableName"] == TABLE_NAME
    assert dynamo._boto3_client.cache_info().currsize == 1
    pages = list(
        shared.get_paginator("query").paginate(
            TableName=TABLE_NAME, KeyConditionExpression="PK = :a", ExpressionAttributeValues=to_attributes({":a": "A"})
        )
    )
    assert pages[0]["Items"] == []
    assert shared.exceptions.ConditionalCheckFailedException.__name__ == "ConditionalCheckFailedException"
    with pytest.raises(AttributeError):  # powertools hooks botocore's events where it finds them: not here
        shared.meta  # noqa: B018 - the attribute lookup is the test


def test_where_the_environment_does_not_decide_every_operation_is_boto3s(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("[default]\nretry_mode = standard\n")  # a profile only botocore reads
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    dynamo.forget_client()
    try:
        shared: Any = client()
        assert shared.lean is None
        put("P#1", q=1)
        assert (
            from_attributes(shared.get_item(TableName=TABLE_NAME, Key=to_attributes({"PK": "P#1", "SK": "X"}))["Item"])["q"] == 1
        )
        assert shared.exceptions is dynamo._boto3_client().exceptions
    finally:
        dynamo.forget_client()
