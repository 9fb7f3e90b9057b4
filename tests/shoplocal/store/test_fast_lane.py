"""The fast lane answers the hot reads as moto answers them: random items on two tables (string
and number keys, indexes projecting everything or keys only), random GetItem, BatchGetItem and
Query requests (limits, start keys, directions, every key condition, projections, names) sent to
moto's own path and to the fast lane; where the fast lane answers, the answer is moto's. Plain
requests (the shape the functions send) must be answered by the fast lane; odd ones (a filter, a
nested projection, a wrong key type, an unknown table or index, ...) must be left to moto."""

import json
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from botocore.awsrequest import AWSPreparedRequest, HeadersDict
from hypothesis import given, settings
from hypothesis import strategies as st
from moto.core.models import botocore_stubber
from moto.dynamodb.models import dynamodb_backends

from conftest import REGION, TABLE_NAME, calls_of
from shop_common.dynamo import client
from shoplocal.store import fast_lane

NUMBERED = "fast-lane-numbers"
URL = f"https://dynamodb.{REGION}.amazonaws.com/"
ACCOUNT = "123456789012"

texts = st.sampled_from(["a", "b", "c", "ab", "b#1", "é"])
partitions = st.sampled_from(["a", "b"])  # few partitions: pages of several items
numbers = st.sampled_from(["0", "1", "2.5", "-3", "10", "100"])


def _backend() -> Any:
    return dynamodb_backends[ACCOUNT][REGION]


def _moto(target: str, request: dict[str, Any]) -> tuple[int, Any]:
    """moto's own answer (its dispatch, past the fast lane)."""
    headers: Any = HeadersDict(
        {
            "X-Amz-Target": f"{fast_lane.TARGET_PREFIX}{target}",
            "Content-Type": fast_lane.CONTENT_TYPE,
            "Authorization": f"AWS4-HMAC-SHA256 Credential=testing/20260101/{REGION}/dynamodb/aws4_request, "
            "SignedHeaders=host, Signature=x",
        }
    )
    prepared = AWSPreparedRequest("POST", URL, headers, json.dumps(request).encode(), False)
    try:
        answer: Any = botocore_stubber.process_request(prepared)
        status, _, body = answer
    except (AttributeError, TypeError, ValueError) as error:  # moto's own failures (begins_with on a number)
        return 500, repr(error)
    return int(status), json.loads(body) if body else None


def _fast(target: str, request: dict[str, Any]) -> Any | None:
    found = fast_lane.answer(_backend(), f"{fast_lane.TARGET_PREFIX}{target}", json.dumps(request).encode())
    if found is None:
        return None
    body, headers = found
    assert dict(headers)["Content-Type"] == fast_lane.CONTENT_TYPE
    return orjson.loads(body)


def _numbered_table() -> None:
    if NUMBERED in _backend().tables:
        client().delete_table(TableName=NUMBERED)
    client().create_table(
        TableName=NUMBERED,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}, {"AttributeName": "n", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "id", "AttributeType": "N"},
            {"AttributeName": "n", "AttributeType": "N"},
            {"AttributeName": "g", "AttributeType": "S"},
            {"AttributeName": "r", "AttributeType": "N"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "byG",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}, {"AttributeName": "r", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )


@st.composite
def shop_item(draw: st.DrawFn) -> dict[str, Any]:
    item: dict[str, Any] = {"PK": {"S": draw(partitions)}, "SK": {"S": draw(texts)}}
    for index in ("GSI1", "GSI4"):
        if draw(st.booleans()):
            item[f"{index}PK"] = {"S": draw(st.sampled_from(["P", "Q"]))}
            item[f"{index}SK"] = {"S": draw(texts)}
    extras = draw(
        st.dictionaries(st.sampled_from(["name", "price", "tags", "meta", "flag", "signed"]), st.just(None), max_size=5)
    )
    values: dict[str, Any] = {
        "name": {"S": draw(texts)},
        "price": {"N": draw(numbers)},
        "tags": {"SS": ["x", "y"]},
        "meta": {"M": {"k": {"L": [{"N": "1"}, {"NULL": True}]}}},
        "flag": {"BOOL": draw(st.booleans())},
        "signed": draw(st.sampled_from([{"M": {"web": {"N": "1"}, "app": {"M": {"x": {"S": "y"}}}}}, {"M": {}}, {"S": "flat"}])),
    }
    item.update({name: values[name] for name in extras})
    return item


@st.composite
def numbered_item(draw: st.DrawFn) -> dict[str, Any]:
    item: dict[str, Any] = {"id": {"N": draw(st.sampled_from(["1", "2"]))}, "n": {"N": draw(numbers)}}
    if draw(st.booleans()):
        item["g"], item["r"] = {"S": draw(st.sampled_from(["G", "H"]))}, {"N": draw(numbers)}
    if draw(st.booleans()):
        item["note"] = {"S": draw(texts)}
    return item


projections: st.SearchStrategy[dict[str, Any]] = st.sampled_from(
    [
        {},
        {"ProjectionExpression": "PK, SK, #n", "ExpressionAttributeNames": {"#n": "name"}},
        {"ProjectionExpression": "price, flag"},
        {"ProjectionExpression": "PK, signed.#f", "ExpressionAttributeNames": {"#f": "web"}},
        {"ProjectionExpression": "signed.#f, signed.app.x", "ExpressionAttributeNames": {"#f": "none"}},
        {"ProjectionExpression": "signed.app, signed.web"},
        {"ProjectionExpression": "signed, signed.web"},  # overlapping paths: moto's
        {"ProjectionExpression": "meta.k[0]"},  # nested: moto's
        {"ProjectionExpression": "#n", "ExpressionAttributeNames": {"#n": "name", "#unused": "x"}},  # moto's error
        {"ProjectionExpression": ""},  # moto's error
    ]
)
ODD_PROJECTIONS = ("meta.k[0]", "", "signed, signed.web")


def _odd_projection(parts: dict[str, Any]) -> bool:
    return parts.get("ProjectionExpression") in ODD_PROJECTIONS or "#unused" in parts.get("ExpressionAttributeNames", {})


@st.composite
def get_item(draw: st.DrawFn) -> tuple[str, dict[str, Any], bool]:
    parts = draw(projections)
    key: dict[str, Any] = {"PK": {"S": draw(partitions)}, "SK": {"S": draw(texts)}}
    odd = _odd_projection(parts)
    if draw(st.integers(0, 9)) == 0:
        key, odd = {"PK": {"N": "1"}, "SK": {"S": "a"}}, True  # a key of the wrong type
    return "GetItem", {"TableName": TABLE_NAME, "Key": key, **parts}, odd


@st.composite
def batch_get(draw: st.DrawFn) -> tuple[str, dict[str, Any], bool]:
    parts = draw(projections)
    keys = draw(st.lists(st.tuples(partitions, texts), min_size=1, max_size=6, unique=True))
    request_keys = [{"PK": {"S": pk}, "SK": {"S": sk}} for pk, sk in keys]
    odd = _odd_projection(parts)
    if draw(st.integers(0, 9)) == 0:
        request_keys.append(dict(request_keys[0]))  # duplicates: moto's error
        odd = True
    tables: dict[str, Any] = {TABLE_NAME: {"Keys": request_keys, **parts}}
    if draw(st.booleans()):
        tables[NUMBERED] = {"Keys": [{"id": {"N": "1"}, "n": {"N": draw(numbers)}}]}
    return "BatchGetItem", {"RequestItems": tables}, odd


@st.composite
def query(draw: st.DrawFn) -> tuple[str, dict[str, Any], bool]:
    on = draw(st.sampled_from(["table", "GSI1", "GSI4", "numbers", "numbers-index"]))
    odd = False
    if on.startswith("numbers"):
        request: dict[str, Any] = {"TableName": NUMBERED}
        hash_name, range_name, hash_value = (
            ("g", "r", {"S": draw(st.sampled_from(["G", "H"]))}) if on == "numbers-index" else ("id", "n", {"N": "1"})
        )
        if on == "numbers-index":
            request["IndexName"] = "byG"

        def bound() -> dict[str, str]:
            return {"N": draw(numbers)}

    else:
        request = {"TableName": TABLE_NAME}
        hash_name, range_name = ("PK", "SK") if on == "table" else (f"{on}PK", f"{on}SK")
        hash_value = {"S": draw(st.sampled_from(["P", "Q"]) if on != "table" else partitions)}
        if on != "table":
            request["IndexName"] = on

        def bound() -> dict[str, str]:
            return {"S": draw(texts)}

    names, values = {"#h": hash_name, "#r": range_name}, {":h": hash_value}
    comparison = draw(st.sampled_from([None, "=", "<", "<=", ">", ">=", "between", "begins_with"]))
    condition = "#h = :h"
    if comparison in ("=", "<", "<=", ">", ">="):
        condition += f" AND #r {comparison} :a"
        values[":a"] = bound()
    elif comparison == "between":
        low, high = sorted([bound(), bound()], key=lambda value: float(value["N"]) if "N" in value else value["S"])
        condition += " AND #r BETWEEN :a AND :b"
        values[":a"], values[":b"] = low, high
    elif comparison == "begins_with":
        condition += " AND begins_with(#r, :a)"
        values[":a"] = bound()
        odd = "N" in values[":a"]  # begins_with on a number: moto's error
    if comparison is None:
        del names["#r"]
    request.update({"KeyConditionExpression": condition, "ExpressionAttributeNames": names, "ExpressionAttributeValues": values})
    if draw(st.booleans()):
        request["Limit"] = draw(st.integers(1, 3))
    if draw(st.booleans()):
        request["ScanIndexForward"] = False
    projection = draw(st.sampled_from([None, None, None, "#h, price", "price", "#h, nope", "meta.k", "meta.k[0]"]))
    if projection is not None:
        request["ProjectionExpression"] = projection
        odd = odd or projection == "meta.k[0]"  # into a list: moto's
    extra = draw(st.sampled_from([None, None, None, None, "filter", "consistent-index", "unknown-index", "capacity"]))
    if extra == "filter":
        request["FilterExpression"] = "attribute_exists(#h)"
    elif extra == "consistent-index" and "IndexName" in request:
        request["ConsistentRead"] = True  # on a GSI: moto's error
    elif extra == "unknown-index":
        request["IndexName"] = "nope"
    elif extra == "capacity":
        request["ReturnConsumedCapacity"] = "TOTAL"
    odd = odd or (extra is not None and not (extra == "consistent-index" and "IndexName" not in request))
    return "Query", request, odd


@pytest.fixture(autouse=True)
def numbered_table_dropped() -> Iterator[None]:
    yield
    if NUMBERED in _backend().tables:
        client().delete_table(TableName=NUMBERED)


@settings(max_examples=80, deadline=None)
@given(
    shop_items=st.lists(shop_item(), min_size=4, max_size=25),
    numbered_items=st.lists(numbered_item(), min_size=2, max_size=12),
    reads=st.lists(st.one_of(get_item(), batch_get(), query(), query()), min_size=4, max_size=12),
)
def test_the_fast_lane_answers_as_moto(
    shop_items: list[dict[str, Any]], numbered_items: list[dict[str, Any]], reads: list[tuple[str, dict[str, Any], bool]]
) -> None:
    _numbered_table()
    for found in client().scan(TableName=TABLE_NAME, ProjectionExpression="PK, SK")["Items"]:
        client().delete_item(TableName=TABLE_NAME, Key=found)
    for item in shop_items:
        client().put_item(TableName=TABLE_NAME, Item=item)
    for item in numbered_items:
        client().put_item(TableName=NUMBERED, Item=item)
    for target, request, odd in reads:
        status, expected = _moto(target, request)
        answered = _fast(target, request)
        if odd:
            assert answered is None, (target, request)
            continue
        assert answered is not None, (target, request, status, expected)
        assert status == 200, (target, request, expected)
        assert answered == expected, (target, request)
        if "LastEvaluatedKey" in answered:  # the next page too
            follow = {**request, "ExclusiveStartKey": answered["LastEvaluatedKey"]}
            assert _fast(target, follow) == _moto(target, follow)[1]


def _batch_items(request: dict[str, Any]) -> Any:
    answered = _fast("BatchGetItem", request)
    assert answered is not None
    return answered["Responses"][TABLE_NAME]


def test_a_listed_item_is_projected_once_until_it_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first page of a listing is read again and again: the projections of a BatchGetItem's
    items are kept, and a changed item is projected afresh (never an answer from before the
    change), in place of its old projection (an item written often does not fill the store's
    memory). A GetItem's projection is not kept."""
    projections = calls_of(monkeypatch, fast_lane, "_project")
    fast_lane._projections.clear()
    key = {"PK": {"S": "PRODUCT#kept"}, "SK": {"S": "PRODUCT"}}
    client().put_item(TableName=TABLE_NAME, Item={**key, "name": {"S": "Mug"}, "GSI1PK": {"S": "x"}})
    projection = {"ProjectionExpression": "#n", "ExpressionAttributeNames": {"#n": "name"}}
    batch = {"RequestItems": {TABLE_NAME: {"Keys": [key], **projection}}}

    assert _batch_items(batch) == [{"name": {"S": "Mug"}}]
    assert _batch_items(batch) == [{"name": {"S": "Mug"}}]
    assert len(projections) == 1
    assert _fast("GetItem", {"TableName": TABLE_NAME, "Key": key, **projection}) == {"Item": {"name": {"S": "Mug"}}}
    assert len(projections) == 2

    client().update_item(
        TableName=TABLE_NAME,
        Key=key,
        UpdateExpression="SET #n = :n",
        ExpressionAttributeNames={"#n": "name"},
        ExpressionAttributeValues={":n": {"S": "Jug"}},
    )
    assert _batch_items(batch) == [{"name": {"S": "Jug"}}]
    assert _batch_items(batch) == [{"name": {"S": "Jug"}}]
    assert len(projections) == 3
    assert len(fast_lane._projections) == 1
