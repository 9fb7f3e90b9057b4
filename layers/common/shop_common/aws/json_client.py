"""A client for the JSON-protocol calls the functions make (DynamoDB's item and transaction
operations, Secrets Manager's GetSecretValue), for Lambda's cold starts and hot paths.

Why not boto3's client: importing botocore and creating a client costs ~160 ms of a cold start,
and every warm call walks the service model's shapes, evaluates endpoint rules and fires some
15 events (~1 ms of CPU a request; docs/performance.md, "The AWS client", has the figures). A
JSON-protocol call needs none of it: the parameters are the body, the response is the result.

What it does: signs the request (`sigv4`), sends it to the endpoint botocore would choose
(`endpoints`) with the environment's credentials (`credentials`), retries throttles, 5xx
answers and lost connections with botocore's jittered exponential back-off, and answers the
response's JSON, binary attribute values decoded to bytes. Errors are botocore's `ClientError`
with the `response` botocore gives (`Error.Code`, `Error.Message`, and the error's own members
such as `CancellationReasons` and `Item`); when no answer comes, botocore's exceptions
(`transport`). With tracing on, each call is an X-Ray subsegment (`tracing`).

What it leaves out, because no caller uses it: parameter validation (the service answers
`ValidationException`; the test suite runs every request through botocore's validator),
`ResponseMetadata`, `client.exceptions`, timestamps and blobs outside attribute values.
"""

import base64
import http.client
import json
import os
import random
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from botocore.exceptions import ClientError, HTTPClientError, ParamValidationError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from shop_common.aws import tracing
from shop_common.aws.credentials import CredentialSource
from shop_common.aws.endpoints import Endpoint
from shop_common.aws.services import ServiceSpec
from shop_common.aws.sigv4 import SigV4Signer
from shop_common.aws.transport import HttpResponse, Transport

USER_AGENT = f"shop-common/2 lang/python#{'.'.join(map(str, sys.version_info[:3]))}"
# Error codes botocore's standard mode retries as throttles (those DynamoDB and Secrets Manager answer).
THROTTLING_CODES = frozenset(
    {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "TransactionInProgressException",
        "LimitExceededException",
        "TooManyRequestsException",
    }
)
THROTTLING_SCALE = 1.0  # seconds: the back-off base for throttles, as botocore's
MAX_BACKOFF = 20.0
_BINARY_VALUE = (b'"B":', b'"BS":')  # an attribute value of type B or BS, however the JSON is spaced


class CallObserver(Protocol):
    """Sees each call: its parameters before it is sent, its result (or error response) after."""

    def before_call(self, operation: str, params: Mapping[str, Any]) -> None: ...

    def after_call(self, operation: str, result: Mapping[str, Any]) -> None: ...


class AwsJsonClient:
    def __init__(
        self,
        service: ServiceSpec,
        endpoint: Endpoint,
        credentials: CredentialSource,
        transport: Transport,
        *,
        draw: Callable[[], float] = random.random,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.service = service
        self.url = f"{endpoint.url}/"
        self.region = endpoint.region
        self.credentials = credentials
        self.transport = transport
        self.observers: list[CallObserver] = []  # tests and benchmarks count calls with them
        self._draw = draw
        self._sleep = sleep
        self._signer = SigV4Signer(self.url, endpoint.region, service.signing_name)
        self._content_type = f"application/x-amz-json-{service.json_version}"

    def close(self) -> None:
        """Close the transport's connections (a restored SnapStart snapshot holds dead ones)."""
        close = getattr(self.transport, "close", None)
        if close is not None:
            close()

    def call(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """The operation's result, or its error raised as botocore's `ClientError`."""
        for observer in self.observers:
            observer.before_call(operation, params)
        body = _encode(params)
        subsegment = tracing.begin(self.service.trace_name, operation, self.region, params)
        response: HttpResponse | None = None
        attempts = 0
        try:
            response, parsed, attempts = self._send(operation, body)
        except Exception as error:
            if subsegment is not None:
                subsegment.end(None, None, attempts or self.service.max_attempts, error)
            raise
        if subsegment is not None:
            subsegment.end(response.status, response.headers.get("x-amzn-requestid"), attempts, None)
        for observer in self.observers:
            observer.after_call(operation, parsed)
        if response.status >= 300:
            raise ClientError(parsed, operation)  # type: ignore[arg-type]  # botocore's own response shape
        return parsed

    def _send(self, operation: str, body: bytes) -> tuple[HttpResponse, dict[str, Any], int]:
        """Attempts until one is answered with neither a throttle nor a 5xx, or none are left:
        the last response, its parse and the number of attempts."""
        target = f"{self.service.target_prefix}.{operation}"
        for attempt in range(1, self.service.max_attempts + 1):
            last = attempt == self.service.max_attempts
            try:
                response = self.transport.send(self.url, self._headers(target, body), body)
            except (BotocoreConnectionError, HTTPClientError):
                if last:
                    raise
                self._sleep(self._backoff(attempt, throttle=False))
                continue
            parsed = parse_response(response)
            code = parsed.get("Error", {}).get("Code") if response.status >= 300 else None
            throttle = code in THROTTLING_CODES or response.status == 429
            if last or not (throttle or response.status >= 500):
                return response, parsed, attempt
            self._sleep(self._backoff(attempt, throttle=throttle))
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _backoff(self, attempt: int, *, throttle: bool) -> float:
        scale = THROTTLING_SCALE if throttle else self.service.backoff_scale
        return float(self._draw() * min(scale * 2 ** (attempt - 1), MAX_BACKOFF))

    def _headers(self, target: str, body: bytes) -> dict[str, str]:
        credentials = self.credentials.frozen()
        amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        signed = {"Content-Type": self._content_type, "X-Amz-Date": amz_date, "X-Amz-Target": target}
        if credentials.token:
            signed["X-Amz-Security-Token"] = credentials.token
        headers = {
            **signed,
            "Authorization": self._signer.authorization(signed, body, credentials, amz_date),
            "User-Agent": USER_AGENT,
            "Content-Length": str(len(body)),
        }
        trace_id = os.environ.get("_X_AMZN_TRACE_ID")
        if trace_id and "AWS_LAMBDA_FUNCTION_NAME" in os.environ:  # as botocore: the service sees the trace
            headers["X-Amzn-Trace-Id"] = trace_id
        return headers


def parse_response(response: HttpResponse) -> dict[str, Any]:
    """The result botocore gives (without its `ResponseMetadata`): the output's members, or the
    error as `{"Error": {"Code", "Message"}, <the error's members>}`."""
    if response.status < 300:
        return _decode_binary(_json_body(response.body)) if _has_binary(response.body) else _json_body(response.body)
    body = response.body.strip()
    if response.status >= 500 and (not body or body.startswith(b"<")):  # a proxy's or load balancer's page
        return {"Error": {"Code": str(response.status), "Message": http.client.responses.get(response.status, "")}}
    fields = _json_body(response.body)
    code = str(fields.pop("__type", response.status)).rsplit("#", 1)[-1].split(":", 1)[0]
    error: dict[str, Any] = {"Error": {"Message": fields.get("message", fields.get("Message", "")), "Code": code}}
    error.update(_decode_binary(fields) if _has_binary(response.body) else fields)
    return error


def _has_binary(raw: bytes) -> bool:
    """Whether a binary attribute value may be in the response: a `"B":` or `"BS":` key. (Text
    starting with B, "Blue mug", is `"Blue mug"`: no colon after the B.)"""
    return _BINARY_VALUE[0] in raw or _BINARY_VALUE[1] in raw


def _encode(params: Mapping[str, Any]) -> bytes:
    try:
        return json.dumps(params, default=_base64).encode()
    except (TypeError, ValueError) as error:
        raise ParamValidationError(report=str(error)) from error


def _base64(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    raise TypeError(f"Invalid type for a parameter: {type(value).__name__}, value: {value!r}")


def _json_body(raw: bytes) -> dict[str, Any]:
    """As botocore: {} for no body, the text as `message` if it is not JSON."""
    if not raw:
        return {}
    text = raw.decode("utf-8")
    try:
        parsed: dict[str, Any] = json.loads(text)
    except ValueError:
        return {"message": text}
    return parsed


def _decode_binary(value: Any) -> Any:
    """Attribute values `{"B": <base64>}` and `{"BS": [<base64>, ...]}`, anywhere, as bytes."""
    if isinstance(value, dict):
        if len(value) == 1:
            if type(value.get("B")) is str:
                return {"B": base64.b64decode(value["B"])}
            if type(value.get("BS")) is list and all(type(item) is str for item in value["BS"]):
                return {"BS": [base64.b64decode(item) for item in value["BS"]]}
        return {name: _decode_binary(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_decode_binary(item) for item in value]
    return value
