"""The store's speed patches answer exactly as moto does: the same random workload of writes,
then every kind of Query and Scan, answered with the patches and with moto's own code."""

import functools
import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import calls_of
from shop_common.dynamo import client as typed_client


def client() -> Any:
    """The shop's DynamoDB client, untyped: these tests send every shape of request."""
    return typed_client()


_tables = itertools.count()
HASHES = ["a", "b", "c"]
RANGES = ["1", "2", "3", "30", "4", "x", "xy", "y"]
INDEX_HASHES = ["p", "q"]
NUMBERS = ["-1", "0", "1", "1.0", "2.5", "10", "100"]


@contextmanager
def moto_unpatched() -> Iterator[None]:
    """moto's own Query, Scan, items, projections, request, condition and
    update expression parsing and response serialiser, for as long as the block runs (the items stay in the compact storage: see
    test_compact_items.py for that one against moto's own dicts)."""
    from moto.dynamodb import comparisons, models, responses
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]
    from moto.dynamodb.responses import DynamoHandler, DynamoResult

    patched = [
        (Table, "query"),
        (Table, "scan"),
        (Table, "all_items"),
        (Table, "__len__"),
        (DynamoResult, "execute_result"),
        (Item, "project"),
        (Item, "__init__"),
        *((module, "create_condition_expression_parser") for module in (comparisons, models, responses)),
        (DynamoHandler, "parse_parameters"),
        (UpdateExpressionParser, "make"),
    ]
    saved = [getattr(owner, name) for owner, name in patched]
    for owner, name in patched:
        setattr(owner, name, getattr(owner, name).__wrapped__)
    try:
        yield
    finally:
        for (owner, name), function in zip(patched, saved, strict=True):
            setattr(owner, name, function)


def answered(call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        response = call()
    except ClientError as error:
        return {"error": error.response["Error"]}
    except (TypeError, ValueError, KeyError) as error:  # moto's own failures (a nested path into a NULL, a bad expression)
        return {"moto failed": repr(error)}
    response.pop("ResponseMetadata", None)
    response.pop("ConsumedCapacityUnits", None)  # unpatched moto's, not in DynamoDB's model (botocore drops it)
    return response


def sets_as_sets(value: Any) -> Any:
    """An answer with each SS/NS/BS in a fixed order: DynamoDB's sets are unordered (moto keeps
    them in a Python set's order, the compact storage in the order written)."""
    if isinstance(value, dict):
        return {
            key: sorted(item, key=repr) if key in ("SS", "NS", "BS") and isinstance(item, list) else sets_as_sets(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [sets_as_sets(item) for item in value]
    return value


def assert_same_answer(call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    patched = answered(call)
    with moto_unpatched():
        original = answered(call)
    assert sets_as_sets(patched) == sets_as_sets(original)
    return patched


def create_table() -> str:
    name = f"patches-{next(_tables)}"
    string, number = "S", "N"
    client().create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": attribute, "AttributeType": kind}
            for attribute, kind in (
                ("PK", string),
                ("SK", string),
                ("G1PK", string),
                ("G1SK", string),
                ("G2PK", string),
                ("G2SK", number),
            )
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "GS1",
                "KeySchema": [{"AttributeName": "G1PK", "KeyType": "HASH"}, {"AttributeName": "G1SK", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                "IndexName": "GS2",
                "KeySchema": [{"AttributeName": "G2PK", "KeyType": "HASH"}, {"AttributeName": "G2SK", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["note"]},
            },
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


keys = st.fixed_dictionaries({"PK": st.sampled_from(HASHES), "SK": st.sampled_from(RANGES)})
# Large payloads make pages end on DynamoDB's 1 MB limit as well as on Limit.
payloads = st.sampled_from([0, 0, 10, 10, 1000, 300_000])


@st.composite
def items(draw: st.DrawFn) -> dict[str, Any]:
    key = draw(keys)
    item: dict[str, Any] = {"PK": {"S": key["PK"]}, "SK": {"S": key["SK"]}, "note": {"S": "n" * draw(payloads)}}
    if draw(st.booleans()):
        item["G1PK"] = {"S": draw(st.sampled_from(INDEX_HASHES))}
        item["G1SK"] = {"S": draw(st.sampled_from(RANGES))}
    if draw(st.booleans()):
        item["G2PK"] = {"S": draw(st.sampled_from(INDEX_HASHES))}
        item["G2SK"] = {"N": draw(st.sampled_from(NUMBERS))}
        item["other"] = {"L": [{"N": "1"}, {"M": {"b": {"B": b"\x00\xff"}}}]}
    return item


def key_of(key: dict[str, str]) -> dict[str, Any]:
    return {"PK": {"S": key["PK"]}, "SK": {"S": key["SK"]}}


@st.composite
def writes(draw: st.DrawFn, table: str) -> Callable[[], Any]:
    kind = draw(st.sampled_from(["put", "update", "remove", "delete", "batch", "transaction"]))
    if kind == "put":
        item = draw(items())
        return lambda: client().put_item(TableName=table, Item=item)
    if kind == "update":
        key, value = draw(keys), draw(st.sampled_from(RANGES))
        return lambda: client().update_item(
            TableName=table,
            Key=key_of(key),
            UpdateExpression="SET G1SK = :v, G1PK = :p",
            ExpressionAttributeValues={":v": {"S": value}, ":p": {"S": "p"}},
        )
    if kind == "remove":
        key = draw(keys)
        return lambda: client().update_item(TableName=table, Key=key_of(key), UpdateExpression="REMOVE G1PK, G2SK")
    if kind == "delete":
        key = draw(keys)
        return lambda: client().delete_item(TableName=table, Key=key_of(key))
    if kind == "batch":
        puts = draw(st.lists(items(), min_size=1, max_size=3, unique_by=lambda item: (item["PK"]["S"], item["SK"]["S"])))
        return lambda: client().batch_write_item(RequestItems={table: [{"PutRequest": {"Item": item}} for item in puts]})
    put, key, fails = draw(items()), draw(keys), draw(st.booleans())
    condition = "attribute_exists(PK)" if fails else "attribute_exists(PK) OR attribute_not_exists(PK)"
    if (put["PK"]["S"], put["SK"]["S"]) == (key["PK"], key["SK"]):
        return lambda: client().put_item(TableName=table, Item=put)
    return lambda: client().transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": put}},
            {
                "Update": {
                    "TableName": table,
                    "Key": key_of(key),
                    "UpdateExpression": "SET G2PK = :p, G2SK = :n",
                    "ConditionExpression": condition,
                    "ExpressionAttributeValues": {":p": {"S": "q"}, ":n": {"N": "7"}},
                }
            },
        ]
    )


@st.composite
def queries(draw: st.DrawFn, table: str) -> dict[str, Any]:
    space = draw(st.sampled_from([None, "GS1", "GS2"]))
    hash_name, range_name, hashes, ranges = {
        None: ("PK", "SK", HASHES, [{"S": r} for r in RANGES]),
        "GS1": ("G1PK", "G1SK", INDEX_HASHES, [{"S": r} for r in RANGES]),
        "GS2": ("G2PK", "G2SK", INDEX_HASHES, [{"N": n} for n in NUMBERS]),
    }[space]
    values: dict[str, Any] = {":h": {"S": draw(st.sampled_from(hashes))}}
    condition = "#h = :h"
    comparison = draw(st.sampled_from([None, "=", "<", "<=", ">", ">=", "BETWEEN", "begins_with"]))
    if comparison == "BETWEEN":
        values[":low"], values[":high"] = draw(st.sampled_from(ranges)), draw(st.sampled_from(ranges))
        condition += " AND #r BETWEEN :low AND :high"
    elif comparison == "begins_with" and space != "GS2":
        values[":r"] = {"S": draw(st.sampled_from(["", "3", "x", "xy", "z"]))}
        condition += " AND begins_with(#r, :r)"
    elif comparison and comparison != "begins_with":
        values[":r"] = draw(st.sampled_from(ranges))
        condition += f" AND #r {comparison} :r"
    names = {"#h": hash_name}
    if "#r" in condition:
        names["#r"] = range_name
    request: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "ScanIndexForward": draw(st.booleans()),
    }
    if space:
        request["IndexName"] = space
    limit = draw(st.sampled_from([None, 1, 2, 3, 5]))
    if limit:
        request["Limit"] = limit
    if draw(st.booleans()):
        request["FilterExpression"] = "attribute_exists(G1SK)"
    if draw(st.booleans()):
        request["ProjectionExpression"] = "PK, SK, note"
    if draw(st.booleans()):
        request["ReturnConsumedCapacity"] = "TOTAL"
    return request


def all_pages(request: dict[str, Any], operation: Callable[..., dict[str, Any]]) -> list[dict[str, Any]]:
    """Every page of a Query or Scan, each answered the same with and without the patches."""
    pages = []
    while True:
        page = assert_same_answer(functools.partial(operation, **request))
        pages.append(page)
        if "LastEvaluatedKey" not in page or len(pages) > 40:
            return pages
        request = {**request, "ExclusiveStartKey": page["LastEvaluatedKey"]}


@pytest.fixture(scope="module")
def indexed_answers() -> Iterator[list[int]]:
    """Counts the Queries the sorted partitions answered (rather than moto's walk)."""
    from shoplocal.store import partition_index

    answers = [0]
    fast_query = partition_index.fast_query

    def counted(*args: Any) -> Any:
        result = fast_query(*args)
        answers[0] += 1
        return result

    partition_index.fast_query = counted  # type: ignore[assignment]
    yield answers
    partition_index.fast_query = fast_query
    assert answers[0] > 100, "the workload must reach the indexed Query, not only moto's fallback"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_queries_and_scans_are_answered_as_moto_answers_them(data: st.DataObject, indexed_answers: list[int]) -> None:
    table = create_table()
    try:
        for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
            for write in data.draw(st.lists(writes(table), min_size=1, max_size=8)):
                answered(write)
            for request in data.draw(st.lists(queries(table), min_size=1, max_size=4)):
                all_pages(request, client().query)
        all_pages({"TableName": table}, client().scan)
        all_pages({"TableName": table, "IndexName": "GS1", "Limit": 2}, client().scan)
    finally:
        client().delete_table(TableName=table)


def test_items_of_every_type_are_encoded_as_moto_encodes_them() -> None:
    table = create_table()
    item = {
        "PK": {"S": "a"},
        "SK": {"S": 'é\u2028\U0001f600 "quoted" \\'},
        "n": {"N": "-12.50"},
        "b": {"B": b"\x00\x01\xff"},
        "ss": {"SS": ["p", "q"]},
        "ns": {"NS": ["1", "2.5"]},
        "bs": {"BS": [b"x", b"\x00"]},
        "l": {"L": [{"N": "1"}, {"M": {"x": {"BOOL": True}, "y": {"NULL": True}}}, {"L": []}]},
        "m": {"M": {}},
        "yes": {"BOOL": False},
        "nothing": {"NULL": True},
    }
    key = {"PK": item["PK"], "SK": item["SK"]}
    try:
        assert client().put_item(TableName=table, Item=item, ReturnValues="ALL_OLD") == {}  # no old item
        assert (
            assert_same_answer(lambda: client().put_item(TableName=table, Item=item, ReturnValues="ALL_OLD"))["Attributes"]
            == item
        )
        assert assert_same_answer(lambda: client().get_item(TableName=table, Key=key))["Item"] == item
        assert_same_answer(lambda: client().batch_get_item(RequestItems={table: {"Keys": [key]}}))
        assert_same_answer(lambda: client().transact_get_items(TransactItems=[{"Get": {"TableName": table, "Key": key}}]))
        assert_same_answer(
            lambda: client().update_item(
                TableName=table,
                Key=key,
                UpdateExpression="SET n = :n",
                ExpressionAttributeValues={":n": {"N": "3"}},
                ReturnValues="ALL_NEW",
                ReturnConsumedCapacity="TOTAL",
            )
        )
        assert assert_same_answer(lambda: client().scan(TableName=table))["Items"][0]["b"] == {"B": b"\x00\x01\xff"}

        def put_then_delete() -> dict[str, Any]:
            client().put_item(TableName=table, Item=item)
            deleted: dict[str, Any] = client().delete_item(TableName=table, Key=key, ReturnValues="ALL_OLD")
            return deleted

        assert assert_same_answer(put_then_delete)["Attributes"] == item
        assert assert_same_answer(lambda: client().get_item(TableName=table, Key=key)) == {}
        assert "error" in assert_same_answer(lambda: client().get_item(TableName="no-such-table", Key=key))
    finally:
        client().delete_table(TableName=table)


def test_a_query_after_a_write_that_bypassed_the_requests_is_still_right() -> None:
    """An item removed from the backend directly (not by a request) makes the index stale; the
    Query notices the missing item, answers through moto's walk and rebuilds the index."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    from shoplocal.store.partition_index import _ATTRIBUTE

    table_name = create_table()
    try:
        for sk in ("1", "2", "3"):
            client().put_item(
                TableName=table_name, Item={"PK": {"S": "a"}, "SK": {"S": sk}, "G1PK": {"S": "p"}, "G1SK": {"S": sk}}
            )
        request = {
            "TableName": table_name,
            "IndexName": "GS1",
            "KeyConditionExpression": "G1PK = :p",
            "ExpressionAttributeValues": {":p": {"S": "p"}},
        }
        assert [i["SK"]["S"] for i in client().query(**request)["Items"]] == ["1", "2", "3"]
        table = backend_table(table_name)
        assert _ATTRIBUTE in table.__dict__  # the index was built by the first Query
        table.delete_item(DynamoType({"S": "a"}), DynamoType({"S": "2"}))
        assert [i["SK"]["S"] for i in client().query(**request)["Items"]] == ["1", "3"]
        assert [i["SK"]["S"] for i in assert_same_answer(lambda: client().query(**request))["Items"]] == ["1", "3"]
    finally:
        client().delete_table(TableName=table_name)


def backend_table(name: str) -> Any:
    from moto.dynamodb.models import dynamodb_backends

    from conftest import REGION

    return dynamodb_backends["123456789012"][REGION].get_table(name)


attribute_value = st.recursive(
    st.one_of(
        st.text(max_size=3).map(lambda text: {"S": text}),
        st.sampled_from(NUMBERS).map(lambda number: {"N": number}),
        st.binary(max_size=3).map(lambda raw: {"B": raw}),
        st.booleans().map(lambda flag: {"BOOL": flag}),
        st.just({"NULL": True}),
        st.sets(st.sampled_from(NUMBERS), min_size=1, max_size=3).map(lambda numbers: {"NS": sorted(numbers)}),
    ),
    lambda children: st.one_of(
        st.dictionaries(st.sampled_from(["x", "y"]), children, max_size=2).map(lambda inner: {"M": inner}),
        st.lists(children, max_size=2).map(lambda inner: {"L": inner}),
    ),
    max_leaves=6,
)
NAMES = ["a", "b", "c", "m"]
projection_path = st.one_of(
    st.sampled_from([*NAMES, "PK", "SK", "missing"]),
    st.sampled_from(["m.x", "m.y", "a[0]", "a[1].x", "b.x"]),  # nested paths and list elements: moto's own
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    items=st.lists(st.dictionaries(st.sampled_from(NAMES), attribute_value, max_size=4), min_size=1, max_size=3),
    paths=st.lists(projection_path, min_size=1, max_size=5),
)
def test_projections_are_answered_as_moto_answers_them(items: list[dict[str, Any]], paths: list[str]) -> None:
    table = create_table()
    try:
        keys = []
        for number, attributes in enumerate(items):
            key = {"PK": {"S": "a"}, "SK": {"S": str(number)}}
            client().put_item(TableName=table, Item={**key, **attributes})
            keys.append(key)
        projection = ", ".join(paths)
        for key in keys:
            assert_same_answer(functools.partial(client().get_item, TableName=table, Key=key, ProjectionExpression=projection))
        assert_same_answer(
            lambda: client().batch_get_item(RequestItems={table: {"Keys": keys, "ProjectionExpression": projection}})
        )
        query = {"KeyConditionExpression": "PK = :a", "ExpressionAttributeValues": {":a": {"S": "a"}}}
        assert_same_answer(lambda: client().query(TableName=table, ProjectionExpression=projection, **query))
    finally:
        client().delete_table(TableName=table)


def test_an_index_projects_its_items_as_moto_projects_them() -> None:
    table = create_table()
    try:
        item = {
            **{"PK": {"S": "a"}, "SK": {"S": "1"}, "note": {"S": "n"}, "m": {"M": {"x": {"N": "1"}}}},
            **{"G1PK": {"S": "p"}, "G1SK": {"S": "q"}, "G2PK": {"S": "p"}, "G2SK": {"N": "2.5"}},
        }
        client().put_item(TableName=table, Item=item)
        for index, key in (("GS1", "G1PK"), ("GS2", "G2PK")):  # all attributes; keys and `note`
            query = {"KeyConditionExpression": f"{key} = :p", "ExpressionAttributeValues": {":p": {"S": "p"}}}
            answer = assert_same_answer(functools.partial(client().query, TableName=table, IndexName=index, **query))
            assert answer["Items"]
    finally:
        client().delete_table(TableName=table)


# Condition expressions: valid ones (true or false on the item), with names and values, and
# faulty ones (bad syntax, a name or value missing or unused); each used many times.
CONDITIONS = [
    ("attribute_not_exists(PK)", None, None),
    ("attribute_exists(PK)", None, None),
    ("#n = :v", {"#n": "note"}, {":v": {"S": "n"}}),
    ("#n <> :v AND attribute_exists(SK)", {"#n": "note"}, {":v": {"S": ""}}),
    ("G2SK < :n OR attribute_not_exists(G2SK)", None, {":n": {"N": "2.5"}}),
    ("begins_with(G1PK, :p)", None, {":p": {"S": "i"}}),
    ("#missing = :v", None, {":v": {"S": "n"}}),
    ("note = :v", {"#unused": "note"}, {":v": {"S": "n"}}),
    ("note = :v", None, {":v": {"S": "n"}, ":unused": {"S": "x"}}),
    ("note = = :v", None, {":v": {"S": "n"}}),
    ("attribute_not_exists(PK", None, None),
    ("attribute_exists(#n)", {"#n": "note"}, None),
    ("attribute_exists(#n)", {"#n": "note", "#unused": "SK"}, None),
]


def expression_parameters(
    parameter: str, expression: str, names: dict[str, str] | None, values: dict[str, Any] | None
) -> dict[str, Any]:
    """A request's expression with its names and values (each only if there are any)."""
    parameters: dict[str, Any] = {parameter: expression}
    if names:
        parameters["ExpressionAttributeNames"] = names
    if values:
        parameters["ExpressionAttributeValues"] = values
    return parameters


@st.composite
def conditional_writes(draw: st.DrawFn) -> Callable[[str], Any]:
    condition = expression_parameters("ConditionExpression", *draw(st.sampled_from(CONDITIONS)))
    kind, item, key = draw(st.sampled_from(["put", "delete", "transaction"])), draw(items()), draw(keys)
    if kind == "put":
        return lambda table: client().put_item(TableName=table, Item=item, **condition)
    if kind == "delete":
        return lambda table: client().delete_item(TableName=table, Key=key_of(key), **condition)
    return lambda table: client().transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": item, **condition}},
            {
                "ConditionCheck": {
                    "TableName": table,
                    "Key": key_of({"PK": "c", "SK": "1"}),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
        ]
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(writes=st.lists(conditional_writes(), min_size=1, max_size=25))
def test_conditions_parsed_once_decide_and_fail_as_moto_decides(writes: list[Callable[[str], Any]]) -> None:
    """Each write's answer and each table's content, with conditions parsed once and kept, are
    moto's own (parsing every time), however often an expression comes back."""
    cached, parsed_each_time = create_table(), create_table()
    for write in writes:
        answer = answered(functools.partial(write, cached))
        with moto_unpatched():
            assert answered(functools.partial(write, parsed_each_time)) == answer
    assert (
        answered(lambda: client().scan(TableName=cached))["Items"]
        == answered(lambda: client().scan(TableName=parsed_each_time))["Items"]
    )


# Update expressions: valid ones with names and values (the same text with other values), and
# faulty ones (bad syntax, a name or value missing or unused, a path both set and removed).
UPDATES = [
    ("SET note = :v", None, {":v": {"S": "a"}}),
    ("SET note = :v", None, {":v": {"S": "b"}}),
    ("SET #n = :v, G2SK = :n", {"#n": "note"}, {":v": {"S": "c"}, ":n": {"N": "1"}}),
    ("SET G2SK = G2SK + :n", None, {":n": {"N": "2.5"}}),
    ("SET G2SK = G2SK - :n", None, {":n": {"N": "1"}}),
    ("ADD counter :n", None, {":n": {"N": "3"}}),
    ("ADD counter :n", None, {":n": {"N": "-1"}}),
    ("REMOVE other, G1SK", None, None),
    ("SET note = :v REMOVE note", None, {":v": {"S": "x"}}),
    ("SET #missing = :v", None, {":v": {"S": "x"}}),
    ("SET note = :v", {"#unused": "note"}, {":v": {"S": "x"}}),
    ("SET note = :missing", None, {":v": {"S": "x"}}),
    ("SET note == :v", None, {":v": {"S": "x"}}),
    ("DELETE", None, None),
]


@st.composite
def updates(draw: st.DrawFn) -> Callable[[str], Any]:
    update = expression_parameters("UpdateExpression", *draw(st.sampled_from(UPDATES)))
    key = key_of(draw(keys))
    if draw(st.booleans()):
        return lambda table: client().update_item(TableName=table, Key=key, ReturnValues="ALL_NEW", **update)
    return lambda table: client().transact_write_items(TransactItems=[{"Update": {"TableName": table, "Key": key, **update}}])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.lists(items(), max_size=6), writes=st.lists(updates(), min_size=1, max_size=25))
def test_update_expressions_parsed_once_apply_and_fail_as_moto_does(
    seed: list[dict[str, Any]], writes: list[Callable[[str], Any]]
) -> None:
    """Each update's answer and each table's content, with update expressions parsed once and
    kept, are moto's own (parsing every time), whatever values the same text comes with."""
    cached, parsed_each_time = create_table(), create_table()
    for item in seed:
        for table in (cached, parsed_each_time):
            client().put_item(TableName=table, Item=item)
    for write in writes:
        answer = answered(functools.partial(write, cached))
        answer.pop("ConsumedCapacity", None)  # names the table
        with moto_unpatched():
            expected = answered(functools.partial(write, parsed_each_time))
        expected.pop("ConsumedCapacity", None)
        assert answer == expected
    assert (
        answered(lambda: client().scan(TableName=cached))["Items"]
        == answered(lambda: client().scan(TableName=parsed_each_time))["Items"]
    )


def test_an_update_expression_is_parsed_once_whatever_its_values(monkeypatch: pytest.MonkeyPatch) -> None:
    """An order's stock update comes with a new quantity each time: its text is parsed once."""
    from moto.dynamodb.parsing.expressions import ExpressionTokenizer, UpdateExpressionParser  # type: ignore[attr-defined]

    tokenized = calls_of(monkeypatch, ExpressionTokenizer, "make_list")
    UpdateExpressionParser.make.cache_clear()
    table = create_table()
    key = key_of({"PK": "a", "SK": "1"})
    client().put_item(TableName=table, Item={**key, "stock": {"N": "10"}})
    for quantity in ("1", "2", "3"):
        client().update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET stock = stock - :quantity",
            ExpressionAttributeValues={":quantity": {"N": quantity}},
        )
    assert client().get_item(TableName=table, Key=key)["Item"]["stock"] == {"N": "4"}
    assert tokenized == [("SET stock = stock - :quantity",)]
