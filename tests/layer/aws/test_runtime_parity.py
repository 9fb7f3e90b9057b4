"""The lean client against whichever botocore is installed: the dev virtualenv's pin, and (`make
test-runtime`, a virtualenv of its own with requirements-runtime.txt) the older botocore of the
Lambda Python 3.12 runtime, whose `botocore.exceptions` and credential chain the deployed
functions import. Signatures, parses, the errors raised and the exceptions retried must be that
botocore's.

Self-contained on purpose: only botocore, pytest and the layer (no moto, no hypothesis, no
conftest), so the runtime's virtualenv holds nothing else."""

import datetime
import http.server
import json
import os
import socket
import threading
import types
from collections.abc import Iterator, Mapping
from typing import Any

import botocore
import botocore.auth
import botocore.session
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.credentials import Credentials as BotocoreCredentials
from botocore.exceptions import ClientError, EndpointConnectionError, HTTPClientError, NoCredentialsError, ReadTimeoutError
from botocore.exceptions import ConnectionError as BotocoreConnectionError
from botocore.parsers import create_parser

from shop_common.aws.credentials import BotocoreCredentials as ChainCredentials
from shop_common.aws.credentials import Credentials, StaticCredentials
from shop_common.aws.endpoints import Endpoint, lean_endpoint
from shop_common.aws.json_client import AwsJsonClient, parse_response
from shop_common.aws.services import DYNAMODB
from shop_common.aws.sigv4 import SigV4Signer
from shop_common.aws.transport import HttpResponse, HttpTransport

REGION = "eu-west-1"
DYNAMODB_MODEL = botocore.session.get_session().get_service_model("dynamodb")


@pytest.fixture(autouse=True)
def lambda_like_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a function sees: a region and keys in variables, no config files, no endpoint."""
    for name in list(os.environ):
        if name.startswith("AWS_") or name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKID")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_this_is_the_botocore_under_test() -> None:
    print(f"botocore {botocore.__version__}")  # shown with -s: which botocore this run held the client to
    assert botocore.__version__


@pytest.mark.parametrize(
    ("moment", "token", "url"),
    [
        (datetime.datetime(2026, 12, 7, 23, 59, 59), None, "https://dynamodb.eu-west-1.amazonaws.com/"),
        (datetime.datetime(2026, 12, 8, 0, 0, 0), "session-token", "https://dynamodb.eu-west-1.amazonaws.com/"),
        (datetime.datetime(2030, 2, 28, 12, 0, 0), "t", "http://127.0.0.1:8400/"),
    ],
)
def test_signatures_are_botocores(
    moment: datetime.datetime, token: str | None, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = b'{"TableName": "shop", "Key": {"PK": {"S": "Blue mug"}}}'
    amz_date = moment.strftime("%Y%m%dT%H%M%SZ")
    headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Date": amz_date, "X-Amz-Target": "DynamoDB_20120810.GetItem"}
    if token:
        headers["X-Amz-Security-Token"] = token
    ours = SigV4Signer(url, REGION, "dynamodb").authorization(headers, body, Credentials("AKID", "secret", token), amz_date)
    theirs = AWSRequest(
        method="POST", url=url, headers={name: headers[name] for name in ("Content-Type", "X-Amz-Target")}, data=body
    )
    # The signing time: newer botocores ask `get_current_datetime`, older ones `datetime.datetime.utcnow`.
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *_, **__: moment, raising=False)

    class Frozen(datetime.datetime):
        @classmethod
        def utcnow(cls) -> "Frozen":
            return cls.fromtimestamp(moment.replace(tzinfo=datetime.UTC).timestamp(), datetime.UTC).replace(tzinfo=None)

    monkeypatch.setattr(botocore.auth, "datetime", types.SimpleNamespace(datetime=Frozen))
    SigV4Auth(BotocoreCredentials("AKID", "secret", token), "dynamodb", REGION).add_auth(theirs)
    assert ours == theirs.headers["Authorization"]


def botocore_parse(operation: str, response: HttpResponse) -> dict[str, Any]:
    """botocore's parse of a response, with the error's modeled members as its client adds them."""
    model = DYNAMODB_MODEL.operation_model(operation)
    parser = create_parser("json")
    raw = {"status_code": response.status, "headers": dict(response.headers), "body": response.body, "context": {}}
    assert model.output_shape is not None
    parsed: dict[str, Any] = parser.parse(raw, model.output_shape)
    code = parsed.get("Error", {}).get("Code") if response.status >= 300 else None
    shape = DYNAMODB_MODEL.shape_for_error_code(code) if code else None
    if shape is not None:
        parsed.update(parser.parse(raw, shape))
    parsed.pop("ResponseMetadata", None)
    return parsed


def answer(body: Any, status: int = 200) -> HttpResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return HttpResponse(status, {"x-amzn-requestid": "R", "content-type": "application/x-amz-json-1.0"}, raw)


PRODUCT = {"PK": {"S": "PRODUCT#1"}, "name": {"S": "Blue mug"}, "tags": {"SS": ["Backpack"]}, "price": {"N": "9.99"}}
PHOTO = {"PK": {"S": "PHOTO#1"}, "thumb": {"B": "iVBORw=="}, "sizes": {"BS": ["AA==", "AQ=="]}, "m": {"M": {"B": {"B": "AA=="}}}}
CASES = [
    ("GetItem", answer({"Item": PRODUCT})),
    ("GetItem", answer({"Item": PHOTO})),
    ("GetItem", answer({})),
    ("Query", answer({"Items": [PRODUCT, PHOTO], "Count": 2, "ScannedCount": 2, "LastEvaluatedKey": {"PK": {"S": "B"}}})),
    ("BatchGetItem", answer({"Responses": {"shop": [PRODUCT]}, "UnprocessedKeys": {"shop": {"Keys": [{"PK": {"S": "B"}}]}}})),
    ("UpdateItem", answer({"Attributes": PHOTO})),
    ("TransactWriteItems", answer({})),
    (
        "TransactWriteItems",
        answer(
            {
                "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons [...]",
                "CancellationReasons": [
                    {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed", "Item": PHOTO},
                    {"Code": "None"},
                ],
            },
            400,
        ),
    ),
    (
        "UpdateItem",
        answer(
            {
                "__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
                "message": "The conditional request failed",
                "Item": PRODUCT,
            },
            400,
        ),
    ),
    ("GetItem", answer({"__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException", "message": "no"}, 400)),
    ("GetItem", answer({"__type": "com.amazon.coral.validate#ValidationException", "message": "bad key"}, 400)),
    ("Query", answer({"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException", "message": "slow"}, 400)),
    ("GetItem", answer(b"<html><body>Service Unavailable</body></html>", 503)),
    ("GetItem", answer(b"", 500)),
    ("GetItem", answer(b"not json", 400)),
]


@pytest.mark.parametrize(("operation", "response"), CASES)
def test_responses_and_errors_parse_as_botocore_parses_them(operation: str, response: HttpResponse) -> None:
    ours = parse_response(response)
    theirs = botocore_parse(operation, response)
    assert {name: ours.get(name) for name in theirs} == theirs


class Answers:
    """A transport answering from a script: a response, or an exception to raise."""

    def __init__(self, *script: HttpResponse | Exception) -> None:
        self.script = list(script)
        self.sent = 0

    def send(self, url: str, headers: Mapping[str, str], body: bytes) -> HttpResponse:
        self.sent += 1
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


def lean(transport: Answers) -> AwsJsonClient:
    endpoint = Endpoint("https://dynamodb.eu-west-1.amazonaws.com", REGION)
    credentials = StaticCredentials(Credentials("AKID", "secret"))
    return AwsJsonClient(DYNAMODB, endpoint, credentials, transport, sleep=lambda _: None)


@pytest.mark.parametrize(("operation", "response"), [case for case in CASES if case[1].status >= 400 and case[1].status < 500])
def test_errors_are_this_botocores_client_error(operation: str, response: HttpResponse) -> None:
    """What the functions catch: `ClientError`, its code, message and members, and its text."""
    throttled = b"Throttling" in response.body
    with pytest.raises(ClientError) as raised:
        lean(Answers(*[response] * (DYNAMODB.max_attempts if throttled else 1))).call(operation, {})
    theirs = ClientError(botocore_parse(operation, response), operation)  # type: ignore[arg-type]
    assert type(raised.value) is ClientError
    assert str(raised.value) == str(theirs)
    assert raised.value.response["Error"] == theirs.response["Error"]
    for member in ("CancellationReasons", "Item"):
        assert raised.value.response.get(member) == theirs.response.get(member)


def test_throttles_5xx_and_lost_connections_are_retried() -> None:
    refused = EndpointConnectionError(endpoint_url="https://dynamodb.eu-west-1.amazonaws.com/")
    throttled = answer({"__type": "ProvisionedThroughputExceededException", "message": "slow"}, 400)
    transport = Answers(refused, throttled, answer(b"", 503), answer({"Item": PRODUCT}))
    assert lean(transport).call("GetItem", {}) == {"Item": PRODUCT}
    assert transport.sent == 4
    with pytest.raises(EndpointConnectionError):
        lean(Answers(*[refused] * DYNAMODB.max_attempts)).call("GetItem", {})


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_no_answer_is_this_botocores_exceptions_which_it_retries(silent_server: str) -> None:
    transport = HttpTransport(connect_timeout=1, read_timeout=0.2)
    with pytest.raises(EndpointConnectionError) as refused:
        transport.send(f"http://127.0.0.1:{free_port()}/", {}, b"{}")
    with pytest.raises(ReadTimeoutError) as timed_out:
        transport.send(silent_server, {}, b"{}")
    for error in (refused.value, timed_out.value):
        assert isinstance(error, BotocoreConnectionError | HTTPClientError)  # what botocore's retry modes retry
        assert str(error)  # its message template has what it needs


def test_credentials_come_from_this_botocores_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ChainCredentials().frozen() == Credentials("AKID", "secret", None)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(NoCredentialsError):
        ChainCredentials().frozen()


class Body:
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield b"{}"


@pytest.mark.parametrize("region", ["eu-west-1", "us-east-1", "ap-southeast-2", "sa-east-1", "us-gov-west-1", "cn-north-1"])
def test_requests_go_where_this_botocore_sends_them(region: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    endpoint = lean_endpoint(DYNAMODB.endpoint_prefix, DYNAMODB.env_name, account_endpoints=True)
    assert endpoint is not None
    client: Any = botocore.session.get_session().create_client("dynamodb", region_name=region)
    sent: list[str] = []

    def respond(request: Any, **_: Any) -> AWSResponse:
        sent.append(request.url)
        return AWSResponse(request.url, 200, {}, Body())  # type: ignore[arg-type]

    client.meta.events.register_first("before-send", respond)
    client.get_item(TableName="shop", Key={"PK": {"S": "x"}})
    assert sent == [f"{endpoint.url}/"]


def test_a_server_that_answers_is_read_through_the_whole_client() -> None:
    """The real transport and parse, once, against a local HTTP server."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            body = json.dumps({"Item": PHOTO}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        endpoint = Endpoint(f"http://127.0.0.1:{server.server_address[1]}", REGION)
        transport = HttpTransport(connect_timeout=2, read_timeout=5)
        client = AwsJsonClient(DYNAMODB, endpoint, StaticCredentials(Credentials("AKID", "secret")), transport)
        item = client.call("GetItem", {"TableName": "shop", "Key": {"PK": {"S": "PHOTO#1"}}})["Item"]
        assert item["thumb"] == {"B": b"\x89PNG"}
        assert item["m"] == {"M": {"B": {"B": b"\x00"}}}
        transport.close()
    finally:
        server.shutdown()
        server.server_close()
