"""A client for AWS services that speak the JSON protocol (DynamoDB, Secrets Manager), made for
Lambda's cold starts and hot paths, with boto3's results, errors and retries.

Why not boto3's client: importing botocore and creating a client costs ~160 ms of a cold start
(urllib3, botocore's HTTP and event layers, decoding the service model and its endpoint rules),
and every warm call walks shapes, evaluates endpoint rules and fires some 15 events (~0.2 ms of
CPU). A JSON-protocol request needs none of it: the parameters are the body, the response is
the result. What is kept of botocore is what a caller can observe, each part checked against
botocore in tests/layer/aws/:

- the request: the same URL (`endpoints`), body (the parameters as JSON, bytes in base64),
  SigV4 signature (`sigv4`), `X-Amz-Target`, `amz-sdk-invocation-id`, `amz-sdk-request`
  (attempt, max and, on retries, ttl) and, in Lambda, the `X-Amzn-Trace-Id` it forwards;
- the result: the output's members as botocore's parser keeps them (bytes decoded from
  base64, timestamps as aware datetimes), `ResponseMetadata` with `RequestId`,
  `HTTPStatusCode`, `HTTPHeaders`, `RetryAttempts` and the retry marks;
- errors: botocore's `ClientError` with the same `response` (code, message, the error's
  modeled members such as `CancellationReasons` or `Item`), raised as a subclass named after
  the error as `client.exceptions` does; botocore's exceptions when no response comes back
  (`transport`); `ParamValidationError` for parameters JSON cannot carry;
- retries: botocore's standard mode, attempt for attempt (`retries`).

What it does not do: validate parameters against the service model (the service answers a
`ValidationException` where botocore would raise `ParamValidationError`; the test suite runs
every request it makes through botocore's validator), or operations outside `ServiceSpec`.
"""

import base64
import datetime
import http.client
import json
import os
import sys
import time
import uuid
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

from botocore.exceptions import ClientError, ParamValidationError

from shop_common.aws.credentials import CredentialSource
from shop_common.aws.endpoints import Endpoint
from shop_common.aws.retries import Outcome, StandardRetries
from shop_common.aws.services import OperationSpec, ServiceSpec
from shop_common.aws.sigv4 import SigV4Signer
from shop_common.aws.transport import HttpResponse, Transport

_SIGV4_TIME = "%Y%m%dT%H%M%SZ"
_TRACE_SAFE = "-=;:+&[]{}\"',"
USER_AGENT = (
    f"shop-common/1 ua/2.1 os/{sys.platform} lang/python#{'.'.join(map(str, sys.version_info[:3]))} "
    f"exec-env/{os.environ.get('AWS_EXECUTION_ENV', 'none')} cfg/retry-mode#standard"
)


class CallObserver(Protocol):
    """Sees each call: its parameters before it is sent, its result (or error response) after."""

    def before_call(self, operation: str, params: Mapping[str, Any]) -> None: ...

    def after_call(self, operation: str, result: Mapping[str, Any]) -> None: ...


class ErrorClasses:
    """`client.exceptions`: a `ClientError` subclass per error the service models, by name."""

    def __init__(self, service: ServiceSpec) -> None:
        self._service = service
        self._classes: dict[str, type[ClientError]] = {}

    def from_code(self, code: str | None) -> type[ClientError]:
        if code is None or code not in self._service.error_members:
            return ClientError
        if code not in self._classes:
            self._classes[code] = type(code, (ClientError,), {})
        return self._classes[code]

    def __getattr__(self, name: str) -> type[ClientError]:
        if name not in self._service.error_members:
            raise AttributeError(name)
        return self.from_code(name)


class AwsJsonClient:
    def __init__(
        self,
        service: ServiceSpec,
        endpoint: Endpoint,
        credentials: CredentialSource,
        transport: Transport,
        *,
        read_timeout: float,
    ) -> None:
        self.service = service
        self.read_timeout = read_timeout  # botocore's `ttl` of a retry counts on it
        self.url = endpoint.url if urlsplit(endpoint.url).path else f"{endpoint.url}/"
        self.region = endpoint.region
        self.credentials = credentials
        self.transport = transport
        self.retries = StandardRetries(service)
        self.exceptions = ErrorClasses(service)
        self.observers: list[CallObserver] = []
        self._signer = SigV4Signer(self.url, endpoint.region, service.signing_name)
        self._content_type = f"application/x-amz-json-{service.json_version}"

    def close(self) -> None:
        """Close the transport's connections (a restored SnapStart snapshot holds dead ones)."""
        close = getattr(self.transport, "close", None)
        if close is not None:
            close()

    def call(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """botocore's `_make_api_call`: the result, or the error raised as `ClientError`."""
        spec = self.service.operations[operation]
        for observer in self.observers:
            observer.before_call(operation, params)
        response, parsed, state = self._send(spec, self._headers(operation), _encode(params))
        for observer in self.observers:
            observer.after_call(operation, parsed)
        self.retries.release(state, response.status)
        if response.status >= 300:
            raise self.exceptions.from_code(parsed.get("Error", {}).get("Code"))(parsed, operation)  # type: ignore[arg-type]
        return parsed

    def _headers(self, operation: str) -> dict[str, str]:
        headers = {
            "X-Amz-Target": f"{self.service.target_prefix}.{operation}",
            "Content-Type": self._content_type,
            "User-Agent": USER_AGENT,
        }
        trace_id = os.environ.get("_X_AMZN_TRACE_ID")
        if trace_id and "AWS_LAMBDA_FUNCTION_NAME" in os.environ:  # botocore's recursion detection
            headers["X-Amzn-Trace-Id"] = quote(trace_id, safe=_TRACE_SAFE)
        return headers

    def _send(
        self, spec: OperationSpec, headers: dict[str, str], body: bytes
    ) -> tuple[HttpResponse, dict[str, Any], dict[str, Any]]:
        """botocore's `Endpoint._send_request`: attempts until the retry mode says stop. Returns
        the last response, its parse and the call's retry state; raises the last exception when
        no response came back."""
        retries: dict[str, Any] = {"invocation-id": str(uuid.uuid4()), "attempt": 1, "max": self.retries.max_attempts}
        state: dict[str, Any] = {}
        attempt = 1
        while True:
            response, parsed, error = self._attempt(spec, headers, body, retries)
            metadata: dict[str, Any] = {}
            outcome = Outcome(exception=error)
            if response is not None and parsed is not None:
                code = parsed.get("Error", {}).get("Code") if response.status >= 301 else None
                outcome = Outcome(response.status, response.headers, response.body, code)
            delay = self.retries.delay(spec, attempt, outcome, state, metadata)
            if parsed is not None:
                parsed["ResponseMetadata"].update(metadata)
            if delay is None:
                break
            time.sleep(delay)
            attempt += 1
            retries["attempt"] = attempt
            if response is not None:
                _set_ttl(retries, response, self.read_timeout)
        if error is not None:
            raise error
        assert response is not None
        assert parsed is not None
        parsed["ResponseMetadata"]["RetryAttempts"] = attempt - 1
        return response, parsed, state

    def _attempt(
        self, spec: OperationSpec, headers: dict[str, str], body: bytes, retries: Mapping[str, Any]
    ) -> tuple[HttpResponse | None, dict[str, Any] | None, Exception | None]:
        """One signed attempt: the response and its parse, or the exception that came instead."""
        credentials = self.credentials.frozen()
        amz_date = time.strftime(_SIGV4_TIME, time.gmtime())
        signed = {**headers, "X-Amz-Date": amz_date}
        if credentials.token:
            signed["X-Amz-Security-Token"] = credentials.token
        signed["Authorization"] = self._signer.authorization(signed, body, credentials, amz_date)
        signed["amz-sdk-invocation-id"] = retries["invocation-id"]
        signed["amz-sdk-request"] = "; ".join(f"{key}={retries[key]}" for key in ("ttl", "attempt", "max") if key in retries)
        signed["Content-Length"] = str(len(body))
        try:
            response = self.transport.send(self.url, signed, body)
        except Exception as error:  # as botocore: offered to the retry mode, raised if not retried
            return None, None, error
        return response, parse_response(self.service, spec, response), None


def parse_response(service: ServiceSpec, spec: OperationSpec, response: HttpResponse) -> dict[str, Any]:
    """What botocore's parser makes of a response of this operation: the output, or the error
    with its modeled members, and `ResponseMetadata` (request id, status, headers)."""
    if response.status >= 301:
        parsed = _parse_error(service, response)
    else:
        parsed = _parse_output(spec, response.body)
        if "x-amzn-requestid" in response.headers:
            parsed["ResponseMetadata"] = {"RequestId": response.headers["x-amzn-requestid"]}
    metadata = parsed.setdefault("ResponseMetadata", {})
    metadata["HTTPStatusCode"] = response.status
    metadata["HTTPHeaders"] = dict(response.headers)
    return parsed


def _parse_error(service: ServiceSpec, response: HttpResponse) -> dict[str, Any]:
    """botocore's error parse, then the error shape's members it adds (`CancellationReasons`,
    `Item`, ...) after the response metadata, from the same body."""
    status = response.status
    if _is_generic_error(response):  # an HTML page or nothing, from a proxy or load balancer
        return {"Error": {"Code": str(status), "Message": http.client.responses.get(status, "")}, "ResponseMetadata": {}}
    body = _json_body(response.body)
    error: dict[str, Any] = {"Error": {"Message": body.get("message", body.get("Message", "")), "Code": ""}}
    error["ResponseMetadata"] = {}
    code = body.get("__type", str(status))
    if code is not None:
        code = code.split(":", 1)[0] if ":" in code else code
        code = code.rsplit("#", 1)[1] if "#" in code else code
        query_error = response.headers.get("x-amzn-query-error")
        if query_error is not None:
            parts = query_error.split(";")
            if len(parts) == 2 and parts[0]:
                error["Error"]["QueryErrorCode"] = code
                error["Error"]["Type"] = parts[1]
                code = parts[0]
        error["Error"]["Code"] = code
    if "x-amzn-requestid" in response.headers:
        error["ResponseMetadata"]["RequestId"] = response.headers["x-amzn-requestid"]
    members = service.error_members.get(error["Error"]["Code"])
    if members:
        modeled = {name: body[name] for name in members if body.get(name) is not None}
        error.update(_decode_binary(modeled) if b'"B' in response.body else modeled)
    return error


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
    """botocore's `_parse_body_as_json`: {} for no body, the text as `message` if it is not JSON."""
    if not raw:
        return {}
    text = raw.decode("utf-8")
    try:
        parsed: dict[str, Any] = json.loads(text)
    except ValueError:
        return {"message": text}
    return parsed


def _parse_output(spec: OperationSpec, raw: bytes) -> dict[str, Any]:
    """The output members botocore's parser keeps: those of the model, non-null, binary values
    decoded from base64 (attribute values `B`/`BS`, blob members), timestamps as datetimes."""
    body = _json_body(raw)
    parsed = {name: body[name] for name in spec.output_members if body.get(name) is not None}
    if b'"B' in raw:  # only then can an attribute value be binary
        parsed = _decode_binary(parsed)
    for name in spec.blob_members:
        if name in parsed:
            parsed[name] = base64.b64decode(parsed[name])
    for name in spec.timestamp_members:
        if name in parsed:
            parsed[name] = _timestamp(parsed[name])
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


def _timestamp(value: Any) -> Any:
    if isinstance(value, int | float):
        return datetime.datetime.fromtimestamp(value, datetime.UTC)
    return value


def _is_generic_error(response: HttpResponse) -> bool:
    if response.status < 500:
        return False
    body = response.body.strip()
    return not body or body.startswith(b"<html>")


def _set_ttl(retries: dict[str, Any], response: HttpResponse, read_timeout: float) -> None:
    """botocore's `ttl` for the next attempt's `amz-sdk-request`: now, plus the read timeout,
    plus the clock skew the last response's `Date` showed."""
    date = response.headers.get("date")
    if not date:
        return
    try:
        received = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
        skew = datetime.datetime.strptime(date, "%a, %d %b %Y %H:%M:%S %Z") - received
        now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
        retries["ttl"] = (now + datetime.timedelta(seconds=read_timeout) + skew).strftime(_SIGV4_TIME)
    except Exception:  # as botocore: a Date it cannot read sets no ttl
        return
