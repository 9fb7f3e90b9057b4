"""The lean JSON-protocol client answers, fails and retries as boto3's client does, for what a
caller reads: its parse of random responses and errors against botocore's parser; binary values
decoded and only then; every operation end to end on moto against a plain boto3 client; the same
failures driven through both (what is retried, how often, the outcome); what it sends against
what botocore sends; credentials that rotate; and the errors it raises."""

import base64
import datetime
import json
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
import boto3.session
import botocore
import botocore.session
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.config import Config
from botocore.credentials import CredentialProvider, RefreshableCredentials
from botocore.credentials import Credentials as BotocoreCredentials
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, ParamValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attribute_values import scalar_value, text
from botocore_check import UNREAD, botocore_parse
from conftest import REGION, TABLE_NAME, checked_in_process
from shop_common.aws import json_client
from shop_common.aws.credentials import BotocoreCredentials as ChainCredentials
from shop_common.aws.credentials import Credentials as LeanCredentials
from shop_common.aws.credentials import CredentialSource, StaticCredentials, default_source
from shop_common.aws.endpoints import lean_endpoint
from shop_common.aws.json_client import AwsJsonClient, parse_response
from shop_common.aws.services import DYNAMODB
from shop_common.aws.transport import HttpResponse, Transport
from shop_common.dynamo import to_attributes
from shoplocal.template import table_definition

SERVICE = botocore.session.get_session().get_service_model("dynamodb")
HYPOTHESIS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PLAIN_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 4})


def plain_client(session: boto3.session.Session | None = None) -> Any:
    """boto3's client as it comes, with the functions' timeouts and retries."""
    return (session or boto3.session.Session()).client("dynamodb", config=PLAIN_CONFIG)


def lean(transport: Transport | None = None, credentials: CredentialSource | None = None) -> AwsJsonClient:
    endpoint = lean_endpoint(DYNAMODB.endpoint_prefix, DYNAMODB.env_name)
    assert endpoint is not None
    return AwsJsonClient(DYNAMODB, endpoint, credentials or default_source(), transport or checked_in_process(2, 5))


class Methods:
    """A lean client called as boto3's is: `client.get_item(**params)`."""

    def __init__(self, client: AwsJsonClient) -> None:
        self.client = client

    def __getattr__(self, method: str) -> Callable[..., dict[str, Any]]:
        operation = "".join(part.title() for part in method.split("_"))
        return lambda **params: self.client.call(operation, params)


# --- responses and errors: the parse is botocore's parser's ---------------------------------------

attribute_value = st.recursive(
    scalar_value,
    lambda children: st.one_of(
        st.dictionaries(text, children, max_size=3).map(lambda m: {"M": m}),
        st.lists(children, max_size=3).map(lambda v: {"L": v}),
    ),
    max_leaves=12,
)
# Attribute names include "B" and "BS", which an attribute value's type names are too.
attribute_name = st.one_of(text, st.sampled_from(["B", "BS", "S", "M"]))
item = st.dictionaries(attribute_name, attribute_value, max_size=5)
capacity = st.fixed_dictionaries(
    {"TableName": st.just("t"), "CapacityUnits": st.floats(0, 100)}, optional={"ReadCapacityUnits": st.integers(0, 9)}
)
# What a service could send that the model does not describe: botocore drops unknown members
# and members that are null.
extra = st.dictionaries(st.sampled_from(["NewMember", "Other"]), st.one_of(st.integers(), st.none()), max_size=1)
nullable = st.sampled_from(["Item", "Attributes", "LastEvaluatedKey", "ConsumedCapacity"])


def body_for(operation: str) -> st.SearchStrategy[dict[str, Any]]:
    page = st.fixed_dictionaries(
        {"Items": st.lists(item, max_size=4), "Count": st.integers(0, 4)},
        optional={"ScannedCount": st.integers(0, 9), "LastEvaluatedKey": item, "ConsumedCapacity": capacity},
    )
    metrics = st.fixed_dictionaries({"ItemCollectionKey": item, "SizeEstimateRangeGB": st.lists(st.floats(0, 10), max_size=2)})
    written = st.fixed_dictionaries(
        {}, optional={"Attributes": item, "ConsumedCapacity": capacity, "ItemCollectionMetrics": metrics}
    )
    bodies: dict[str, st.SearchStrategy[dict[str, Any]]] = {
        "GetItem": st.fixed_dictionaries({}, optional={"Item": item, "ConsumedCapacity": capacity}),
        "PutItem": written,
        "UpdateItem": written,
        "DeleteItem": written,
        "Query": page,
        "Scan": page,
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
        "BatchWriteItem": st.fixed_dictionaries(
            {},
            optional={
                "UnprocessedItems": st.dictionaries(
                    st.just("t"),
                    st.lists(st.fixed_dictionaries({"PutRequest": st.fixed_dictionaries({"Item": item})}), max_size=2),
                )
            },
        ),
        "TransactWriteItems": st.fixed_dictionaries({}, optional={"ConsumedCapacity": st.lists(capacity, max_size=2)}),
        "TransactGetItems": st.fixed_dictionaries(
            {}, optional={"Responses": st.lists(st.fixed_dictionaries({}, optional={"Item": item}), max_size=3)}
        ),
    }
    return st.tuples(bodies[operation], extra, st.lists(nullable, max_size=1)).map(
        lambda parts: {**parts[0], **parts[1], **dict.fromkeys(parts[2])}
    )


def http_response(body: bytes, status: int = 200, headers: Mapping[str, str] | None = None) -> HttpResponse:
    base = {"x-amzn-requestid": "REQ", "content-type": "application/x-amz-json-1.0"}
    return HttpResponse(status, {**base, **(headers or {})}, body)


OPERATIONS = [
    "BatchGetItem",
    "BatchWriteItem",
    "DeleteItem",
    "GetItem",
    "PutItem",
    "Query",
    "Scan",
    "TransactGetItems",
    "TransactWriteItems",
    "UpdateItem",
]


def as_botocore_reads(ours: dict[str, Any], theirs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Both parses on the members botocore's keeps, but for those no caller reads."""
    kept = {name: value for name, value in theirs.items() if name not in UNREAD}
    return {name: ours.get(name) for name in kept}, kept


@pytest.mark.parametrize("operation", OPERATIONS)
@HYPOTHESIS
@given(data=st.data())
def test_responses_parse_as_botocore_parses_them(operation: str, data: st.DataObject) -> None:
    response = http_response(json.dumps(data.draw(body_for(operation))).encode())
    ours, theirs = as_botocore_reads(parse_response(response), botocore_parse(SERVICE.operation_model(operation), response))
    assert ours == theirs


error_code = st.sampled_from(
    [
        "ConditionalCheckFailedException",
        "TransactionCanceledException",
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "ValidationException",
        "InternalServerError",
        "IdempotentParameterMismatchException",
        "SomethingNew",
    ]
)
error_type = st.one_of(
    error_code,
    error_code.map(lambda code: f"com.amazonaws.dynamodb.v20120810#{code}"),
    error_code.map(lambda code: f"{code}:http://internal.amazon.com/coral/"),
)
error_body = st.one_of(
    st.fixed_dictionaries(
        {"__type": error_type},
        optional={
            "message": text,
            "Message": text,
            "Item": item,
            "CancellationReasons": st.lists(
                st.fixed_dictionaries({"Code": st.sampled_from(["None", "ConditionalCheckFailed"])}, optional={"Item": item}),
                max_size=2,
            ),
        },
    ).map(lambda body: json.dumps(body).encode()),
    st.sampled_from([b"", b"   ", b"<html><body>Service Unavailable</body></html>", b"not json", b"{}"]),
)


@HYPOTHESIS
@given(
    status=st.sampled_from([301, 400, 403, 404, 413, 429, 500, 502, 503, 504]),
    body=error_body,
    operation=st.sampled_from(OPERATIONS),
)
def test_errors_parse_as_botocore_parses_them(status: int, body: bytes, operation: str) -> None:
    response = http_response(body, status)
    ours, theirs = as_botocore_reads(parse_response(response), botocore_parse(SERVICE.operation_model(operation), response))
    assert ours == theirs


def test_text_starting_with_b_is_not_searched_for_binary_values_and_binary_values_are_decoded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The binary pass runs only when a `"B":`/`"BS":` attribute value is in the response: a
    page of names such as "Blue mug" (`"S": "Blue mug"`, text after `"B`) does not pay for it."""
    passes: list[Any] = []
    decode = json_client._decode_binary

    def counted(value: Any) -> Any:
        passes.append(value)
        return decode(value)

    monkeypatch.setattr(json_client, "_decode_binary", counted)
    names = [{"PK": {"S": "PRODUCT#1"}, "name": {"S": name}} for name in ("Blue mug", "Backpack", "BS", "B")]
    for spacing in ((",", ":"), (", ", ": ")):  # DynamoDB's compact JSON, and moto's
        page = json.dumps({"Items": names, "Count": 4}, separators=spacing).encode()
        assert parse_response(http_response(page)) == {"Items": names, "Count": 4}
        assert passes == []
        photo = {"PK": {"S": "P"}, "thumb": {"B": base64.b64encode(b"\x89PNG").decode()}, "set": {"BS": ["AA=="]}}
        binary = http_response(json.dumps({"Item": photo}, separators=spacing).encode())
        ours = parse_response(binary)
        assert ours == {"Item": {"PK": {"S": "P"}, "thumb": {"B": b"\x89PNG"}, "set": {"BS": [b"\x00"]}}}
        assert (
            as_botocore_reads(ours, botocore_parse(SERVICE.operation_model("GetItem"), binary)) == ({"Item": ours["Item"]},) * 2
        )
        assert passes[0] == {"Item": photo}  # the pass ran, from the top (and recursed through it)
        passes.clear()


# --- end to end on moto: every operation, its errors ------------------------------------------------


def key(pk: str) -> Any:
    return to_attributes({"PK": pk, "SK": "X"})


def item_of(pk: str, **values: Any) -> Any:
    return to_attributes({"PK": pk, "SK": "X", **values})


def outcome(call: Callable[[], dict[str, Any]]) -> Any:
    """What a caller reads: the result, or the error's code, message and members (the
    cancellation reasons, the item that failed a condition), or botocore's exception."""
    try:
        result: dict[str, Any] = call()
    except ClientError as error:
        response: dict[str, Any] = dict(error.response)
        members = {name: response[name] for name in ("CancellationReasons", "Item") if name in response}
        return {"raised": response["Error"]["Code"], "operation": error.operation_name, **response["Error"], **members}
    except BotoCoreError as error:
        return {"raised": type(error).__name__, "message": str(error)}
    result.pop("ResponseMetadata", None)
    return result


def scenario(dynamodb: Any) -> list[Any]:
    """Every operation the lean client serves, with results, conditional failures, a cancelled
    transaction and a service validation error, on a fresh table."""
    boto3.client("dynamodb").delete_table(TableName=TABLE_NAME)
    boto3.client("dynamodb").create_table(TableName=TABLE_NAME, **table_definition())
    t = TABLE_NAME
    calls: list[Callable[[], Any]] = [
        lambda: dynamodb.put_item(TableName=t, Item=item_of("A", n=1, s="x", b=b"\x00\x01", l=[1, "a"], m={"k": True})),
        lambda: dynamodb.put_item(TableName=t, Item=item_of("A", n=2, bs={b"\x01", b"\x02"}), ReturnValues="ALL_OLD"),
        lambda: dynamodb.put_item(TableName=t, Item=item_of("A"), ConditionExpression="attribute_not_exists(PK)"),
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
                {"Put": {"TableName": t, "Item": item_of("B", n=5)}},
                {"Update": {"TableName": t, "Key": key("A"), "UpdateExpression": "REMOVE s"}},
            ]
        ),
        lambda: dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": t, "Item": item_of("C"), "ConditionExpression": "attribute_not_exists(PK)"}},
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
        lambda: dynamodb.transact_get_items(TransactItems=[{"Get": {"TableName": t, "Key": key("A")}}]),
        lambda: dynamodb.query(
            TableName=t, KeyConditionExpression="PK = :a", ExpressionAttributeValues=to_attributes({":a": "A"})
        ),
        lambda: dynamodb.query(TableName=t, KeyConditionExpression="nonsense ="),
        lambda: dynamodb.scan(TableName=t, Limit=1),
        lambda: dynamodb.batch_get_item(RequestItems={t: {"Keys": [key("A")], "ConsistentRead": True}}),
        lambda: dynamodb.batch_write_item(RequestItems={t: [{"PutRequest": {"Item": item_of("D")}}]}),
        lambda: dynamodb.delete_item(TableName=t, Key=key("B"), ReturnValues="ALL_OLD"),
        lambda: dynamodb.delete_item(TableName=t, Key=key("A"), ConditionExpression="attribute_not_exists(PK)"),
        lambda: dynamodb.get_item(TableName="no-such-table", Key=key("A")),
    ]
    return [outcome(call) for call in calls]


def test_every_operation_answers_and_fails_as_boto3s_client() -> None:
    expected = scenario(plain_client())
    ours = scenario(Methods(lean()))
    # On the members botocore keeps: moto also answers some the model does not name, which botocore drops.
    assert [as_botocore_reads(mine, theirs)[0] for mine, theirs in zip(ours, expected, strict=True)] == expected
    raised = {entry["raised"] for entry in ours if isinstance(entry, dict) and "raised" in entry}
    assert raised == {
        "ConditionalCheckFailedException",
        "TransactionCanceledException",
        "ValidationException",
        "ResourceNotFoundException",
    }


def test_parameters_json_cannot_carry_are_a_param_validation_error() -> None:
    with pytest.raises(ParamValidationError):
        lean().call("GetItem", {"TableName": TABLE_NAME, "Key": {"PK": {"S": object()}}})


# --- retries: throttles, 5xx answers and lost connections, as botocore retries them -------------


class Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


@dataclass(frozen=True)
class Refusal:
    """An error response, as DynamoDB sends when it throttles or fails."""

    status: int
    code: str
    headers: dict[str, str] = field(default_factory=dict)


Failure = Refusal | Exception


def failure_response(failure: Refusal) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{failure.code}", "message": "try again"}).encode()
    return failure.status, {"x-amzn-requestid": "R", **failure.headers}, body


class Scripted:
    """A transport: each request takes the next failure (raised or answered); then moto answers."""

    def __init__(self, failures: list[Failure], sent: list[Mapping[str, str]]) -> None:
        self.remaining = list(failures)
        self.sent = sent
        self.moto = checked_in_process(2, 5)

    def send(self, url: str, headers: Mapping[str, str], body: bytes) -> HttpResponse:
        self.sent.append(dict(headers))
        if not self.remaining:
            return self.moto.send(url, headers, body)
        failure = self.remaining.pop(0)
        if isinstance(failure, Exception):
            raise failure
        status, response_headers, content = failure_response(failure)
        return HttpResponse(status, response_headers, content)


def botocore_retried(failures: list[Failure], call: Callable[[Any], Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    client = plain_client()
    sent: list[Any] = []
    remaining = list(failures)

    def answer(request: Any, **_: Any) -> AWSResponse | None:
        sent.append(request)
        if not remaining:
            return None
        failure = remaining.pop(0)
        if isinstance(failure, Exception):
            raise failure
        status, headers, body = failure_response(failure)
        return AWSResponse(request.url, status, headers, Raw(body))  # type: ignore[arg-type]

    client.meta.events.register_first("before-send.dynamodb", answer)
    monkeypatch.setattr(time, "sleep", lambda _: None)
    return {"outcome": outcome(lambda: call(client)), "attempts": len(sent)}


def lean_retried(failures: list[Failure], call: Callable[[Any], Any]) -> dict[str, Any]:
    sent: list[Mapping[str, str]] = []
    slept: list[float] = []
    endpoint = lean_endpoint(DYNAMODB.endpoint_prefix, DYNAMODB.env_name)
    assert endpoint is not None
    client = AwsJsonClient(DYNAMODB, endpoint, default_source(), Scripted(failures, sent), draw=lambda: 1.0, sleep=slept.append)
    return {"outcome": outcome(lambda: call(Methods(client))), "attempts": len(sent), "slept": slept}


def get_a(client: Any) -> Any:
    return client.get_item(TableName=TABLE_NAME, Key=key("A"))


def put_a(client: Any) -> Any:
    return client.put_item(TableName=TABLE_NAME, Item=item_of("A", n=1))


CONNECTION_REFUSED = EndpointConnectionError(endpoint_url="https://dynamodb.eu-west-1.amazonaws.com/")
THROTTLE, TRANSIENT = 1.0, DYNAMODB.backoff_scale  # the back-off bases: at most base * 2^(attempt - 1)


@pytest.mark.parametrize(
    ("failures", "slept"),
    [
        ([Refusal(400, "ProvisionedThroughputExceededException")] * 2, [THROTTLE, 2 * THROTTLE]),
        ([Refusal(400, "ThrottlingException"), Refusal(500, "InternalServerError"), Refusal(503, "X")], [1.0, 0.05, 0.1]),
        ([CONNECTION_REFUSED] * 2, [TRANSIENT, 2 * TRANSIENT]),
        ([Refusal(400, "ThrottlingException")] * 10, [1.0, 2.0, 4.0, 8.0]),  # 5 attempts, then the service's error
        ([CONNECTION_REFUSED] * 10, [0.025, 0.05, 0.1, 0.2]),  # 5 attempts, then botocore's exception
        ([Refusal(400, "ValidationException")], []),  # not retried
        ([Refusal(429, "SomethingNew")], [THROTTLE]),  # a 429: a throttle
        ([Refusal(400, "TransactionInProgressException")], [THROTTLE]),
    ],
    ids=["throttled", "transient", "unreachable", "throttled-out", "unreachable-out", "invalid", "429", "in-progress"],
)
def test_throttles_5xx_and_lost_connections_are_retried_as_botocore_retries_them(
    monkeypatch: pytest.MonkeyPatch, failures: list[Failure], slept: list[float]
) -> None:
    put_a(boto3.client("dynamodb"))
    expected = botocore_retried(failures, get_a, monkeypatch)
    got = lean_retried(failures, get_a)
    assert {name: got[name] for name in ("outcome", "attempts")} == expected
    assert got["slept"] == slept  # the jitter's upper bound (the draw is 1.0 here)


# --- what is sent ------------------------------------------------------------------------------


class Keep:
    """A transport that keeps what it is given and lets moto answer."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, str], bytes]] = []
        self.moto = checked_in_process(2, 5)

    def send(self, url: str, headers: Mapping[str, str], body: bytes) -> HttpResponse:
        self.sent.append((url, dict(headers), body))
        return self.moto.send(url, headers, body)


def test_requests_carry_botocores_url_body_and_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    # In Lambda, botocore forwards the trace id; session credentials add their token.
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "OrdersFunction")
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
    session = boto3.session.Session(
        aws_access_key_id="AKID", aws_secret_access_key="secret", aws_session_token="token", region_name=REGION
    )
    theirs_sent: list[Any] = []
    plain = plain_client(session)
    plain.meta.events.register("before-send.dynamodb", lambda request, **_: theirs_sent.append(request))
    writes: Any = [{"Put": {"TableName": TABLE_NAME, "Item": item_of("A", b=b"\xff")}}]
    plain.transact_write_items(TransactItems=writes, ClientRequestToken="same")
    keep = Keep()
    lean(keep, StaticCredentials(LeanCredentials("AKID", "secret", "token"))).call(
        "TransactWriteItems", {"TransactItems": writes, "ClientRequestToken": "same"}
    )
    (theirs,), ((url, headers, body),) = theirs_sent, keep.sent
    theirs_headers = {name: value.decode() if isinstance(value, bytes) else value for name, value in theirs.headers.items()}
    assert url == theirs.url
    assert json.loads(body) == json.loads(theirs.body)
    same = ("X-Amz-Target", "Content-Type", "Content-Length", "X-Amz-Security-Token", "X-Amzn-Trace-Id")
    assert {name: headers[name] for name in same} == {name: theirs_headers[name] for name in same}
    # The signature is the one botocore computes for the same request at the same time.
    moment = datetime.datetime.strptime(headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    unsigned = {name: value for name, value in headers.items() if name in ("X-Amz-Target", "Content-Type", "User-Agent")}
    check = AWSRequest(method="POST", url=url, headers=unsigned, data=body)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *_, **__: moment)
    SigV4Auth(BotocoreCredentials("AKID", "secret", "token"), "dynamodb", REGION).add_auth(check)
    assert headers["Authorization"] == check.headers["Authorization"]


class RotatingCredentials(CredentialProvider):
    """Session credentials valid for an hour on a clock the test moves, refreshed (new keys and
    token) once they come within botocore's refresh window, as assumed roles' are."""

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
        return RefreshableCredentials(
            first["access_key"],
            first["secret_key"],
            first["token"],
            datetime.datetime.fromisoformat(first["expiry_time"]),
            self._next,
            self.METHOD,
            time_fetcher=lambda: self.now,
        )


def test_credentials_from_botocores_chain_sign_each_request_with_the_current_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    provider = RotatingCredentials()
    session = botocore.session.get_session()
    session.get_component("credential_provider").insert_before("env", provider)
    monkeypatch.setattr(botocore.session, "get_session", lambda: session)
    credentials = ChainCredentials()
    keep = Keep()
    client = lean(keep, credentials)
    client.call("GetItem", {"TableName": TABLE_NAME, "Key": key("A")})
    for _ in range(3):
        provider.now += datetime.timedelta(minutes=55)  # inside the refresh window: new credentials
        client.call("GetItem", {"TableName": TABLE_NAME, "Key": key("A")})
    signed_with = [
        (re.findall(r"Credential=(\w+)/", headers["Authorization"])[0], headers["X-Amz-Security-Token"])
        for _, headers, _ in keep.sent
    ]
    assert signed_with == [("AKID1", "token1"), ("AKID2", "token2"), ("AKID3", "token3"), ("AKID4", "token4")]


def test_credentials_in_the_environment_are_read_as_botocore_reads_them(monkeypatch: pytest.MonkeyPatch) -> None:
    from shop_common.aws.credentials import from_environment

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKID")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_SECURITY_TOKEN", "first")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "second")
    ours = from_environment()
    theirs = botocore.session.get_session().get_credentials()
    assert ours is not None
    assert theirs is not None
    frozen = theirs.get_frozen_credentials()
    assert ours.frozen() == LeanCredentials(str(frozen.access_key), str(frozen.secret_key), frozen.token)
    monkeypatch.setenv("AWS_CREDENTIAL_EXPIRATION", "2099-01-01T00:00:00Z")  # these refresh: botocore's chain
    assert from_environment() is None
    monkeypatch.delenv("AWS_CREDENTIAL_EXPIRATION")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "")  # partial: botocore's chain (which says what is missing)
    assert from_environment() is None


def test_no_credentials_anywhere_is_botocores_no_credentials_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import NoCredentialsError

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    client = lean(Keep(), ChainCredentials())
    with pytest.raises(NoCredentialsError):
        client.call("GetItem", {"TableName": TABLE_NAME, "Key": key("A")})


@pytest.mark.parametrize(
    ("endpoint", "url"), [("http://127.0.0.1:1", "http://127.0.0.1:1/"), ("http://127.0.0.1:1/", "http://127.0.0.1:1/")]
)
def test_requests_go_to_the_endpoint_as_botocore_sends_them(endpoint: str, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
    found = lean_endpoint(DYNAMODB.endpoint_prefix, DYNAMODB.env_name)
    assert found is not None
    credentials = StaticCredentials(LeanCredentials("a", "b"))
    assert AwsJsonClient(DYNAMODB, found, credentials, Keep()).url == url
    client = boto3.client("dynamodb", endpoint_url=endpoint)
    sent: list[str] = []

    def answer(request: Any, **_: Any) -> AWSResponse:
        sent.append(request.url)
        return AWSResponse(request.url, 200, {}, Raw(b"{}"))  # type: ignore[arg-type]

    hook: Any = answer
    client.meta.events.register_first("before-send.dynamodb", hook)
    client.get_item(TableName=TABLE_NAME, Key=key("A"))
    assert sent == [url]


def test_an_endpoint_with_a_path_is_left_to_botocore(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://h/prefix")
    assert lean_endpoint(DYNAMODB.endpoint_prefix, DYNAMODB.env_name) is None
