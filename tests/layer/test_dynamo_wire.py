"""The lean request path (`dynamo_wire`) sends what botocore sends and answers what boto3's
client answers: bodies, signatures, headers and endpoint keys against botocore's own on random
input; every operation it serves, its errors and its retries end to end on moto against a
plain boto3 client; credentials that refresh; and a fallback to boto3 whenever it cannot match."""

import datetime
import gzip
import json
import random
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import boto3.session
import botocore
import botocore.session
import jmespath  # type: ignore[import-untyped]
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.config import Config
from botocore.credentials import CredentialProvider, Credentials, ReadOnlyCredentials, RefreshableCredentials
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
from botocore.serialize import create_serializer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_dynamo_client import valid_params  # type: ignore[import-not-found]  # its folder is on the path in tests

from conftest import REGION, TABLE_NAME
from shop_common.dynamo import client, client_for, to_attributes
from shop_common.dynamo_fast_paths import DynamoFastPaths
from shop_common.dynamo_sigv4 import Scope, SigV4Signer
from shop_common.dynamo_wire import LeanDynamoDB, first_table
from shoplocal.template import table_definition

SERVICE = botocore.session.get_session().get_service_model("dynamodb")
LEAN = sorted(LeanDynamoDB.LEAN_OPERATIONS.values())
HYPOTHESIS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PLAIN_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 4})


def plain_client(session: boto3.session.Session | None = None) -> Any:
    """boto3's client as it comes, with the shared client's timeouts and retries."""
    return (session or boto3.session.Session()).client("dynamodb", config=PLAIN_CONFIG)


def lean(session: boto3.session.Session | None = None) -> Any:
    return client_for(session or boto3.session.Session())


# --- what is sent: bodies, signatures, endpoint keys, against botocore's -------------------------


@pytest.mark.parametrize("operation", LEAN)
@HYPOTHESIS
@given(data=st.data())
def test_request_bodies_are_the_bytes_botocores_serializer_sends(operation: str, data: st.DataObject) -> None:
    model = SERVICE.operation_model(operation)
    assert model.input_shape is not None
    params = data.draw(valid_params(model.input_shape))
    expected = create_serializer("json", include_validation=False).serialize_to_request(params, model)["body"]
    assert DynamoFastPaths().request_body(model, params) == expected


header_value = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=12)
header_value_with_spaces = st.builds(lambda a, b: f" {a}  {b} ", header_value, header_value)


@HYPOTHESIS
@given(
    url=st.sampled_from(
        [
            "https://dynamodb.eu-west-1.amazonaws.com/",
            "https://dynamodb.eu-west-1.amazonaws.com:443",
            "http://127.0.0.1:8000/",
            "http://LOCALHOST:80/",
            "http://[::1]:8000/",
            "https://123456789012.ddb.eu-west-1.amazonaws.com/prefix/../a%20b?x=2&a=1",
        ]
    ),
    region=st.sampled_from(["eu-west-1", "us-east-1"]),
    requests=st.lists(
        st.tuples(
            st.datetimes(datetime.datetime(2020, 1, 1), datetime.datetime(2040, 1, 1)),  # days change between requests
            st.dictionaries(
                st.sampled_from(["X-Amz-Target", "Content-Type", "User-Agent", "X-Amzn-Trace-Id", "X-Extra"]),
                st.one_of(header_value, header_value_with_spaces),
            ),
            st.binary(max_size=64),
            st.sampled_from(["secret", "other secret"]),
            st.one_of(st.none(), header_value),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_signatures_are_botocores_whatever_the_day_key_and_headers(
    url: str, region: str, requests: list[tuple[datetime.datetime, dict[str, str], bytes, str, str | None]]
) -> None:
    signer = SigV4Signer(Scope(url, region, "dynamodb"))  # one signer: its day key must follow
    for moment, headers, body, secret, token in requests:
        amz_date = moment.strftime("%Y%m%dT%H%M%SZ")
        credentials = ReadOnlyCredentials("AKIDEXAMPLE", secret, token)
        signed = {**headers, "X-Amz-Date": amz_date} | ({"X-Amz-Security-Token": token} if token else {})
        theirs = AWSRequest(method="POST", url=url, headers=dict(headers), data=body)
        auth = SigV4Auth(Credentials("AKIDEXAMPLE", secret, token), "dynamodb", region)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(botocore.auth, "get_current_datetime", lambda *_, at=moment, **__: at)
            auth.add_auth(theirs)
        assert signer.authorization(signed, body, credentials, amz_date) == theirs.headers["Authorization"]


@pytest.mark.parametrize("operation", LEAN)
@HYPOTHESIS
@given(data=st.data())
def test_the_route_key_is_the_resource_the_endpoint_rules_read(operation: str, data: st.DataObject) -> None:
    model = SERVICE.operation_model(operation)
    assert model.input_shape is not None
    params = data.draw(valid_params(model.input_shape))
    for parameter in model.context_parameters:
        assert parameter.name == "ResourceArn"
        assert first_table(operation, params) == params.get(parameter.member_name)
    context_parameters: dict[str, Any] = dict(model.operation_context_parameters or {})
    for name, spec in context_parameters.items():
        assert name == "ResourceArnList"
        resources = jmespath.search(spec["path"], params) or [None]
        assert first_table(operation, params) == resources[0]


def test_the_endpoint_rules_read_only_the_first_resource_of_a_list() -> None:
    """Why the route key holds only the first table: the rules take `ResourceArnList[0]`."""
    rules_file = next(Path(botocore.__file__).parent.glob("data/dynamodb/2012-08-10/endpoint-rule-set-1.json*"))
    raw = rules_file.read_bytes()
    rules = json.loads(gzip.decompress(raw) if rules_file.suffix == ".gz" else raw)
    uses: list[tuple[str, list[Any]]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if {"ref": "ResourceArnList"} in node.get("argv", []):
                uses.append((node["fn"], node["argv"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(rules)
    assert uses
    allowed = [("isSet", [{"ref": "ResourceArnList"}]), ("getAttr", [{"ref": "ResourceArnList"}, "[0]"])]
    assert all(use in allowed for use in uses), uses


# --- end to end on moto: every operation, its errors, its retries --------------------------------


def fresh_table() -> None:
    client().delete_table(TableName=TABLE_NAME)
    client().create_table(TableName=TABLE_NAME, **table_definition())


def key(pk: str) -> Any:
    return to_attributes({"PK": pk, "SK": "X"})


def item(pk: str, **values: Any) -> Any:
    return to_attributes({"PK": pk, "SK": "X", **values})


def outcome(call: Callable[[], dict[str, Any]]) -> Any:
    """What a caller sees, without what differs between any two calls (request ids, dates)."""
    try:
        result: dict[str, Any] = call()
    except ClientError as error:
        result = {"raised": type(error).__name__, "operation": error.operation_name, **error.response}
    except BotoCoreError as error:
        return repr({"raised": type(error).__name__, "message": str(error)})
    metadata = result.pop("ResponseMetadata", {})
    return repr({**result, "status": metadata.get("HTTPStatusCode"), "retries": metadata.get("RetryAttempts")})


def scenario(dynamodb: Any) -> list[Any]:
    """Every operation the lean path serves, with results, conditional failures and a cancelled
    transaction, on a fresh table."""
    fresh_table()
    t = TABLE_NAME
    calls: list[Callable[[], Any]] = [
        lambda: dynamodb.put_item(TableName=t, Item=item("A", n=1, s="x", b=b"\x00\x01", l=[1, "a"], m={"k": True})),
        lambda: dynamodb.put_item(TableName=t, Item=item("A", n=2), ReturnValues="ALL_OLD"),
        lambda: dynamodb.put_item(TableName=t, Item=item("A"), ConditionExpression="attribute_not_exists(PK)"),
        lambda: dynamodb.get_item(TableName=t, Key=key("A"), ConsistentRead=True),
        lambda: dynamodb.get_item(TableName=t, Key=key("missing")),
        lambda: dynamodb.update_item(
            TableName=t,
            Key=key("A"),
            UpdateExpression="ADD n :one",
            ExpressionAttributeValues=to_attributes({":one": 1}),
            ReturnValues="ALL_NEW",
        ),
        lambda: dynamodb.update_item(
            TableName=t,
            Key=key("A"),
            UpdateExpression="SET n = :z",
            ConditionExpression="n > :big",
            ExpressionAttributeValues=to_attributes({":z": 0, ":big": 100}),
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        ),
        lambda: dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": t, "Item": item("B", n=5)}},
                {"Update": {"TableName": t, "Key": key("A"), "UpdateExpression": "REMOVE s"}},
            ]
        ),
        lambda: dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": t, "Item": item("C"), "ConditionExpression": "attribute_not_exists(PK)"}},
                {
                    "ConditionCheck": {
                        "TableName": t,
                        "Key": key("B"),
                        "ConditionExpression": "n > :big",
                        "ExpressionAttributeValues": to_attributes({":big": 100}),
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
            ]
        ),
        lambda: dynamodb.query(
            TableName=t, KeyConditionExpression="PK = :a", ExpressionAttributeValues=to_attributes({":a": "A"})
        ),
        lambda: dynamodb.query(TableName=t, KeyConditionExpression="nonsense ="),
        lambda: dynamodb.batch_get_item(RequestItems={t: {"Keys": [key("A")], "ConsistentRead": True}}),
        lambda: dynamodb.delete_item(TableName=t, Key=key("B"), ReturnValues="ALL_OLD"),
        lambda: dynamodb.delete_item(TableName=t, Key=key("A"), ConditionExpression="attribute_not_exists(PK)"),
    ]
    return [outcome(call) for call in calls]


@pytest.fixture
def botocore_requests() -> Callable[[Any], list[str]]:
    """Watches a client: the operations of the requests botocore itself creates
    (`request-created` fires), which the lean path never does."""

    def watch(dynamodb: Any) -> list[str]:
        created: list[str] = []
        dynamodb.meta.events.register(
            "request-created.dynamodb", lambda request, operation_name, **_: created.append(operation_name)
        )
        return created

    return watch


def test_every_lean_operation_answers_and_fails_as_boto3s_client(botocore_requests: Callable[[Any], list[str]]) -> None:
    ours = lean()
    expected = scenario(plain_client())
    assert scenario(ours) == expected  # learning each route through boto3
    assert {operation for operation, _table in ours.routes()} == set(LEAN)
    created = botocore_requests(ours)
    assert scenario(ours) == expected  # every call on the lean path
    assert created == []


def test_the_shared_client_is_the_lean_one_and_keeps_boto3s_other_methods() -> None:
    shared: Any = client()
    assert isinstance(shared, LeanDynamoDB)
    assert shared.describe_table(TableName=TABLE_NAME)["Table"]["TableName"] == TABLE_NAME
    assert shared.meta.service_model.service_name == "dynamodb"
    assert shared.exceptions.ConditionalCheckFailedException.__name__ == "ConditionalCheckFailedException"
    pages = list(
        shared.get_paginator("query").paginate(
            TableName=TABLE_NAME, KeyConditionExpression="PK = :a", ExpressionAttributeValues=to_attributes({":a": "A"})
        )
    )
    assert pages[0]["Items"] == []


class Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def failing_transport(failures: list[Any]) -> Callable[..., AWSResponse | None]:
    """A `before-send` handler: each request takes the next failure (an (HTTP status, error code)
    to answer, or an exception to raise); once they are used up, moto answers."""
    remaining = list(failures)

    def answer(request: Any, **_: Any) -> AWSResponse | None:
        if not remaining:
            return None
        failure = remaining.pop(0)
        if isinstance(failure, Exception):
            raise failure
        status, code = failure
        body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "try again"}).encode()
        headers = {"x-amzn-requestid": "R", "Date": "Wed, 25 Nov 2026 12:00:00 GMT"}
        return AWSResponse(request.url, status, headers, Raw(body))  # type: ignore[arg-type]

    return answer


def retried(dynamodb: Any, failures: list[Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A GetItem through `failures`: its outcome, the sleeps between attempts and each attempt's
    `amz-sdk-request` (its ttl, a time, replaced by a mark)."""
    slept: list[float] = []
    attempts: list[str] = []
    monkeypatch.setattr(time, "sleep", slept.append)

    def note(request: Any, **_: Any) -> None:
        attempts.append(re.sub(r"ttl=\d{8}T\d{6}Z", "ttl=T", request.headers["amz-sdk-request"].decode()))

    answer = failing_transport(failures)
    dynamodb.meta.events.register_first("before-send.dynamodb", note)  # first of the first: before `answer`
    dynamodb.meta.events.register_first("before-send.dynamodb", answer)
    random.seed(7)  # the standard mode's jitter
    try:
        result = outcome(lambda: dynamodb.get_item(TableName=TABLE_NAME, Key=key("A")))
    finally:
        dynamodb.meta.events.unregister("before-send.dynamodb", answer)
        dynamodb.meta.events.unregister("before-send.dynamodb", note)
    return {"outcome": result, "slept": slept, "attempts": attempts}


@pytest.mark.parametrize(
    "failures",
    [
        [(400, "ProvisionedThroughputExceededException")] * 2,
        [(400, "ThrottlingException"), (500, "InternalServerError"), (503, "ServiceUnavailable")],
        [EndpointConnectionError(endpoint_url="https://dynamodb")] * 2,
        [(400, "ThrottlingException")] * 10,  # more than the 5 attempts: the service's error
        [EndpointConnectionError(endpoint_url="https://dynamodb")] * 10,
        [(400, "ValidationException")],  # not retried
    ],
    ids=["throttled", "transient", "unreachable", "throttled-out", "unreachable-out", "invalid"],
)
def test_retries_are_botocores_attempts_back_off_and_headers(
    monkeypatch: pytest.MonkeyPatch, failures: list[Any], botocore_requests: Callable[[Any], list[str]]
) -> None:
    client().put_item(TableName=TABLE_NAME, Item=item("A", n=1))
    ours = lean()
    ours.get_item(TableName=TABLE_NAME, Key=key("A"))  # learns the route
    created = botocore_requests(ours)
    expected = retried(plain_client(), failures, monkeypatch)
    got = retried(ours, failures, monkeypatch)
    assert got == expected
    assert created == []
    assert got["attempts"][0] == "attempt=1; max=5"
    retryable = not isinstance(failures[0], tuple) or failures[0][1] != "ValidationException"
    assert len(got["attempts"]) == (min(len(failures) + 1, 5) if retryable else 1)


def test_requests_carry_botocores_headers_url_and_body(monkeypatch: pytest.MonkeyPatch) -> None:
    # In Lambda, botocore forwards the trace id; session credentials add their token.
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "OrdersFunction")
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
    session = boto3.session.Session(
        aws_access_key_id="AKID", aws_secret_access_key="secret", aws_session_token="token", region_name=REGION
    )
    sent: list[Any] = []

    def keep(request: Any, **_: Any) -> None:
        sent.append(request)

    writes: Any = [{"Put": {"TableName": TABLE_NAME, "Item": item("A", b=b"\xff")}}]
    ours, theirs = lean(session), plain_client(session)
    ours.transact_write_items(TransactItems=writes)  # learns the route
    for dynamodb in (theirs, ours):
        dynamodb.meta.events.register("before-send.dynamodb", keep)
        dynamodb.transact_write_items(TransactItems=writes, ClientRequestToken="same")
    theirs_sent, ours_sent = sent
    assert (ours_sent.method, ours_sent.url, ours_sent.body) == (theirs_sent.method, theirs_sent.url, theirs_sent.body)
    assert list(ours_sent.headers) == list(theirs_sent.headers)
    varying = {"X-Amz-Date", "Authorization", "amz-sdk-invocation-id"}
    assert {name: value for name, value in ours_sent.headers.items() if name not in varying} == {
        name: value for name, value in theirs_sent.headers.items() if name not in varying
    }
    # The signature is the one botocore computes for the same request at the same time.
    moment = datetime.datetime.strptime(ours_sent.headers["X-Amz-Date"].decode(), "%Y%m%dT%H%M%SZ")
    unsigned = {
        name: value.decode()
        for name, value in ours_sent.headers.items()
        if name
        not in {
            "X-Amz-Date",
            "X-Amz-Security-Token",
            "Authorization",
            "amz-sdk-invocation-id",
            "amz-sdk-request",
            "Content-Length",
        }
    }
    check = AWSRequest(method="POST", url=ours_sent.url, headers=unsigned, data=ours_sent.body)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *_, **__: moment)
    SigV4Auth(Credentials("AKID", "secret", "token"), "dynamodb", REGION).add_auth(check)
    assert ours_sent.headers["Authorization"].decode() == check.headers["Authorization"]


class RotatingCredentials(CredentialProvider):
    """Session credentials valid for an hour on a clock the test moves, refreshed (new keys and
    token) once they come within botocore's refresh window, as Lambda's and assumed roles' are."""

    METHOD = "rotating"

    def __init__(self) -> None:
        self.issued = 0
        self.now = datetime.datetime(2026, 11, 25, 12, 0, tzinfo=datetime.UTC)

    def _next(self) -> dict[str, str]:
        self.issued += 1
        expiry = self.now + datetime.timedelta(hours=1)
        return {
            "access_key": f"AKID{self.issued}",
            "secret_key": f"secret{self.issued}",
            "token": f"token{self.issued}",
            "expiry_time": expiry.isoformat(),
        }

    def load(self) -> RefreshableCredentials:
        first = self._next()
        expiry = datetime.datetime.fromisoformat(first["expiry_time"])
        return RefreshableCredentials(
            first["access_key"],
            first["secret_key"],
            first["token"],
            expiry,
            self._next,
            self.METHOD,
            time_fetcher=lambda: self.now,
        )


def test_refreshed_session_credentials_sign_the_next_requests(botocore_requests: Callable[[Any], list[str]]) -> None:
    provider = RotatingCredentials()
    core = botocore.session.get_session()
    core.get_component("credential_provider").insert_before("env", provider)
    ours = lean(boto3.session.Session(botocore_session=core, region_name=REGION))
    sent: list[Any] = []
    ours.meta.events.register("before-send.dynamodb", lambda request, **_: sent.append(request))
    ours.get_item(TableName=TABLE_NAME, Key=key("A"))  # learns the route, signed by botocore
    created = botocore_requests(ours)
    for _ in range(3):
        provider.now += datetime.timedelta(minutes=55)  # inside the refresh window: new credentials
        ours.get_item(TableName=TABLE_NAME, Key=key("A"))
    assert created == []
    signed_with = [
        (
            re.findall(r"Credential=(\w+)/", request.headers["Authorization"].decode())[0],
            request.headers["X-Amz-Security-Token"].decode(),
        )
        for request in sent
    ]
    assert signed_with == [("AKID1", "token1"), ("AKID2", "token2"), ("AKID3", "token3"), ("AKID4", "token4")]
    # Each signature is botocore's for those credentials at that time.
    for request, number in zip(sent[1:], (2, 3, 4), strict=True):
        moment = datetime.datetime.strptime(request.headers["X-Amz-Date"].decode(), "%Y%m%dT%H%M%SZ")
        signer = SigV4Signer(Scope(request.url, REGION, "dynamodb"))
        unsigned = {
            name: value.decode()
            for name, value in request.headers.items()
            if name in ("X-Amz-Target", "Content-Type", "User-Agent")
        }
        headers = unsigned | {"X-Amz-Date": moment.strftime("%Y%m%dT%H%M%SZ"), "X-Amz-Security-Token": f"token{number}"}
        credentials = ReadOnlyCredentials(f"AKID{number}", f"secret{number}", f"token{number}")
        assert request.headers["Authorization"].decode() == signer.authorization(
            headers, request.body, credentials, headers["X-Amz-Date"]
        )


def test_credentials_refreshed_while_botocore_signs_teach_no_route() -> None:
    provider = RotatingCredentials()
    core = botocore.session.get_session()
    core.get_component("credential_provider").insert_before("env", provider)
    ours = lean(boto3.session.Session(botocore_session=core, region_name=REGION))

    def refresh_now(**_: Any) -> None:
        provider.now += datetime.timedelta(minutes=55)

    ours.meta.events.register("after-call.dynamodb", refresh_now)
    ours.get_item(TableName=TABLE_NAME, Key=key("A"))
    assert ours.routes() == {}


def test_no_route_is_kept_when_botocore_signs_differently(botocore_requests: Callable[[Any], list[str]]) -> None:
    """A header added after signing (by a handler this module knows nothing of) would not be in
    the lean signature: the check fails, and every call stays on botocore's path."""
    ours = lean()

    def add_header(request: Any, **_: Any) -> None:
        request.headers["X-Unknown"] = "1"

    ours.meta.events.register_first("request-created.dynamodb", add_header)
    created = botocore_requests(ours)
    for _ in range(3):
        ours.get_item(TableName=TABLE_NAME, Key=key("A"))
    assert ours.routes() == {}
    assert created == ["GetItem"] * 3


def test_a_handler_returning_a_response_before_the_call_answers_it(botocore_requests: Callable[[Any], list[str]]) -> None:
    """`before-call` may answer a call itself (botocore's Stubber does): the lean path honours it."""
    ours = lean()
    ours.get_item(TableName=TABLE_NAME, Key=key("A"))

    class Answered:
        status_code = 200

    answer = (Answered(), {"Item": {"PK": {"S": "stubbed"}}, "ResponseMetadata": {}})
    ours.meta.events.register("before-call.dynamodb.GetItem", lambda **_: answer)
    assert ours.get_item(TableName=TABLE_NAME, Key=key("A"))["Item"] == {"PK": {"S": "stubbed"}}


def test_the_route_key_follows_the_table() -> None:
    ours = lean()
    ours.get_item(TableName=TABLE_NAME, Key=key("A"))
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        ours.get_item(TableName="other-table", Key=key("A"))
    assert set(ours.routes()) == {("GetItem", TABLE_NAME), ("GetItem", "other-table")}


def test_the_events_not_fired_hold_only_handlers_whose_work_is_done_here_or_learned() -> None:
    """`request-created`, `choose-signer` and `before-sign` are not fired on the lean path. Their
    handlers: botocore's signer, user agent and retry headers (done in dynamo_wire), and
    powertools' user agent suffix (a constant, in the `User-Agent` learned from botocore)."""
    events: Any = plain_client().meta.events
    handlers = {
        event: {
            getattr(handler, "__qualname__", repr(handler))
            for handler in events._emitter._handlers.prefix_search(f"{event}.dynamodb.GetItem")
        }
        for event in ("request-created", "choose-signer", "before-sign")
    }
    botocores = {
        "RequestSigner.handler",
        "MaxAttemptsSeeder.seed_max_attempts",
        "UserAgentString.rebuild_and_replace_user_agent_handler",
        "add_retry_headers",
    }
    powertools = {"_create_feature_function.<locals>.add_powertools_feature"}
    assert botocores <= handlers["request-created"] <= botocores | powertools
    assert handlers["choose-signer"] == {"set_operation_specific_signer", "_set_auth_scheme_preference_signer"}
    assert handlers["before-sign"] == set()
    for operation in LEAN:
        model = SERVICE.operation_model(operation)
        assert not model.http_checksum
        assert not model.request_compression
        assert not model.has_streaming_input


def test_the_user_agent_is_botocores_with_what_its_handlers_added() -> None:
    from aws_lambda_powertools.shared.user_agent import register_feature_to_client

    ours = lean()
    register_feature_to_client(ours.boto3_client, "logger")  # type: ignore[no-untyped-call]  # what powertools does
    ours.get_item(TableName=TABLE_NAME, Key=key("A"))
    sent: list[Any] = []
    ours.meta.events.register("before-send.dynamodb", lambda request, **_: sent.append(request))
    ours.get_item(TableName=TABLE_NAME, Key=key("A"))
    plain = plain_client()
    register_feature_to_client(plain, "logger")  # type: ignore[no-untyped-call]
    plain.meta.events.register("before-send.dynamodb", lambda request, **_: sent.append(request))
    plain.get_item(TableName=TABLE_NAME, Key=key("A"))
    ours_agent, plain_agent = (request.headers["User-Agent"] for request in sent)
    assert b" PT/logger/" in ours_agent
    assert ours_agent == plain_agent


def test_first_calls_from_many_threads_at_once_all_answer() -> None:
    from concurrent.futures import ThreadPoolExecutor

    client().put_item(TableName=TABLE_NAME, Item=item("A", n=1))
    ours = lean()
    with ThreadPoolExecutor(8) as pool:
        found = list(pool.map(lambda _: ours.get_item(TableName=TABLE_NAME, Key=key("A"))["Item"], range(32)))
    assert found == [item("A", n=1)] * 32
    assert set(ours.routes()) == {("GetItem", TABLE_NAME)}
