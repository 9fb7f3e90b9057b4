"""A lean request path for the DynamoDB operations the functions make on every request, in front
of boto3's own client and with its behaviour.

botocore spends ~0.2-0.3 ms of CPU on each call before a byte is sent: SigV4 with four HMACs
to derive the signing key, endpoint rules evaluated from the parameters (a JMESPath walk over
every transaction item), a shape walk to serialise, headers built on `email.message`, and some
15 event emissions. `LeanDynamoDB` makes the same request with less work:

- **the endpoint, user agent and signing scope are learned from botocore**: the first call of
  an operation for a table goes through boto3's client unchanged; its prepared request (seen
  on `before-send`) gives the URL, `User-Agent` and credential scope, and is re-signed here:
  only if this signer reproduces botocore's `Authorization` exactly is the route kept. The
  endpoint rules read only the first table name (`ResourceArn`, `ResourceArnList[0]`), which
  is the route's key with the operation.
- **the body** is built from the compiled input shape (`DynamoFastPaths.request_body`), the
  bytes botocore's serializer produces; **the signature** uses a signing key cached per day.
- **the same events fire with the same arguments**, so everything hooked on the client works
  as before: `provide-client-params` and `before-parameter-build` (validation, idempotency
  tokens, the tests' call recorder), `before-call` (the Lambda trace header, botocore's
  Stubber), `before-send` (moto, recorded answers), `before-parse` (the compiled parser),
  `response-received`, `needs-retry` (botocore's standard retry handler: its decisions,
  back-off and retry quota), `after-call` and `after-call-error`. Not fired:
  `request-created`, `choose-signer` and `before-sign`: their handlers' work is done here
  (signing, the `amz-sdk-*` retry headers) or learned from botocore's request (the
  `User-Agent`, with the suffix powertools' handler appends). A route is kept only if
  botocore's request had no other header, and no header of `before-call` was changed after.
- **responses and errors are botocore's**: its JSON parser on the response (with the compiled
  parser in front, as on the boto3 path), modeled error fields added as its endpoint adds them,
  the exception class from `client.exceptions`, `RetryAttempts` in `ResponseMetadata`.

Requests are sent with the HTTP session of boto3's client (same pool, timeouts, proxies, TLS
settings). Any other operation, and any call before its route is learned, is boto3's own.
"""

import datetime
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, cast

from botocore.awsrequest import AWSPreparedRequest, HeadersDict
from botocore.credentials import Credentials, ReadOnlyCredentials
from botocore.endpoint import convert_to_response_dict
from botocore.model import OperationModel
from botocore.parsers import create_parser

from shop_common.dynamo_fast_paths import DynamoFastPaths
from shop_common.dynamo_sigv4 import Scope, SigV4Signer

# Headers botocore adds after signing, or that hold the signature.
_ADDED_AFTER_SIGNING = frozenset({"authorization", "amz-sdk-invocation-id", "amz-sdk-request", "content-length"})
_SIGV4_TIME = "%Y%m%dT%H%M%SZ"


def first_table(operation: str, params: dict[str, Any]) -> object:
    """The first table a request names, as botocore's endpoint parameters take it: `TableName`
    (`ResourceArn`), else the first of `keys(RequestItems)` or of the transaction's items'
    table names (`ResourceArnList`, of which the rules read element 0)."""
    if "TableName" in params:
        return params["TableName"]
    request_items = params.get("RequestItems")
    if isinstance(request_items, dict):
        return next(iter(request_items), None)
    items = params.get("TransactItems")
    for item in items if isinstance(items, list) else ():  # as JMESPath: a tuple is no list
        if isinstance(item, dict):
            for kind in ("ConditionCheck", "Put", "Delete", "Update"):
                action = item.get(kind)
                if isinstance(action, dict) and action.get("TableName") is not None:
                    return action["TableName"]
    return None


@dataclass(frozen=True)
class Route:
    """What botocore's first request of an operation for a table showed: where and how to send."""

    signer: SigV4Signer
    target: str
    content_type: str
    user_agent: str
    max_attempts: str


@dataclass(frozen=True)
class Operation:
    name: str
    model: OperationModel
    events: dict[str, str]  # event kind -> full event name


class LeanDynamoDB:
    """boto3's DynamoDB client with a lean path for `LEAN_OPERATIONS`; every other attribute
    (other operations, `meta`, `exceptions`, paginators, waiters) is the client's own."""

    LEAN_OPERATIONS: ClassVar[dict[str, str]] = {
        "get_item": "GetItem",
        "put_item": "PutItem",
        "update_item": "UpdateItem",
        "delete_item": "DeleteItem",
        "query": "Query",
        "batch_get_item": "BatchGetItem",
        "transact_write_items": "TransactWriteItems",
    }

    def __init__(self, client: Any, credentials: Credentials | None, fast_paths: DynamoFastPaths) -> None:
        self._client = client
        self._credentials = credentials
        self._fast_paths = fast_paths
        self._events = client.meta.events
        self._endpoint = client._endpoint  # botocore's; its HTTP session sends our requests too
        self._parser: Any = create_parser(client.meta.service_model.resolved_protocol)
        self._service_id = client.meta.service_model.service_id.hyphenize()
        self._routes: dict[tuple[str, object], Route] = {}
        self._operations: dict[str, Operation] = {}
        self._learning = threading.local()
        self._lock = threading.Lock()
        self._events.register_last(f"before-parameter-build.{self._service_id}", self._observe_params)
        self._events.register_last(f"before-call.{self._service_id}", self._observe_call)
        self._events.register_last(f"before-send.{self._service_id}", self._observe_send)
        for method, operation in self.LEAN_OPERATIONS.items():
            setattr(self, method, self._method(method, operation))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def __dir__(self) -> list[str]:
        return sorted(set(dir(self._client)) | set(vars(self)))

    @property
    def boto3_client(self) -> Any:
        return self._client

    def routes(self) -> dict[tuple[str, object], Route]:
        """The routes learned so far, by (operation, first table)."""
        return dict(self._routes)

    def _method(self, method: str, operation: str) -> Callable[..., dict[str, Any]]:
        boto3_method = getattr(self._client, method)

        def call(**params: Any) -> dict[str, Any]:
            key = (operation, first_table(operation, params))
            route = self._routes.get(key)
            if route is None or self._credentials is None:
                return self._learn(key, boto3_method, params)
            return self._call(self._operation(operation), route, params)

        call.__name__ = method
        call.__doc__ = boto3_method.__doc__
        return call

    def _operation(self, name: str) -> Operation:
        operation = self._operations.get(name)
        if operation is None:
            events: tuple[str, ...] = ("provide-client-params", "before-parameter-build", "before-call", "before-send")
            events += ("before-parse", "response-received", "needs-retry", "after-call", "after-call-error")
            model = self._client.meta.service_model.operation_model(name)
            operation = Operation(name, model, {event: f"{event}.{self._service_id}.{name}" for event in events})
            self._operations[name] = operation
        return operation

    # --- learning a route from botocore's own request -------------------------------------------

    def _learn(
        self, key: tuple[str, object], boto3_method: Callable[..., dict[str, Any]], params: dict[str, Any]
    ) -> dict[str, Any]:
        if self._credentials is None:  # botocore raises NoCredentialsError, or signs nothing
            return boto3_method(**params)
        # Credentials frozen before and after: if they were refreshed in between, botocore may
        # have signed with either, and nothing is learned this time.
        frozen = self._credentials.get_frozen_credentials()
        seen = self._learning.seen = {}
        try:
            return boto3_method(**params)
        finally:
            self._learning.seen = None
            if self._credentials.get_frozen_credentials() == frozen and len(seen) == 3:
                route = self._route_from(self._operation(key[0]), seen, frozen)
                if route is not None:
                    with self._lock:
                        self._routes[key] = route

    # What botocore's path showed while learning (the first attempt's request only).

    def _observe_params(self, params: dict[str, Any], **_: Any) -> None:
        seen = getattr(self._learning, "seen", None)
        if seen is not None and "params" not in seen:
            seen["params"] = params

    def _observe_call(self, params: dict[str, Any], **_: Any) -> None:
        seen = getattr(self._learning, "seen", None)
        if seen is not None and "headers" not in seen:
            seen["headers"] = dict(params["headers"])

    def _observe_send(self, request: AWSPreparedRequest, **_: Any) -> None:
        seen = getattr(self._learning, "seen", None)
        if seen is not None and "request" not in seen:
            seen["request"] = request

    def _route_from(self, operation: Operation, seen: dict[str, Any], frozen: ReadOnlyCredentials) -> Route | None:
        """A route if this module builds botocore's request exactly: the same body from the same
        parameters, the same headers (those of `before-call`, plus the signature's and retries'),
        and the same signature. Else None: something this module does not do changed the request."""
        request: AWSPreparedRequest = seen["request"]
        headers = {name: value.decode() if isinstance(value, bytes) else str(value) for name, value in request.headers.items()}
        authorization = headers.get("Authorization", "")
        try:
            credential = authorization.split("Credential=", 1)[1].split(",", 1)[0]
            access_key, _day, region, service, _terminator = credential.rsplit("/", 4)
            amz_date, user_agent = headers["X-Amz-Date"], headers["User-Agent"]
            max_attempts = headers["amz-sdk-request"].split("max=", 1)[1]
        except (IndexError, KeyError, ValueError):
            return None
        before_call: dict[str, str] = seen["headers"]
        expected_names = set(before_call) | {
            "X-Amz-Date",
            "Authorization",
            "amz-sdk-invocation-id",
            "amz-sdk-request",
            "Content-Length",
        }
        if frozen.token:
            expected_names.add("X-Amz-Security-Token")
        unchanged = all(headers.get(name) == value for name, value in before_call.items() if name != "User-Agent")
        body = self._fast_paths.request_body(operation.model, seen["params"])
        if (
            request.method != "POST"
            or body is None
            or body != request.body
            or set(headers) != expected_names
            or not unchanged
            or frozen.access_key != access_key
            or headers.get("X-Amz-Security-Token") != frozen.token
        ):
            return None
        signer = SigV4Signer(Scope(request.url, region, service))
        signed = {name: value for name, value in headers.items() if name.lower() not in _ADDED_AFTER_SIGNING}
        if signer.authorization(signed, body, frozen, amz_date) != authorization:
            return None
        return Route(signer, before_call["X-Amz-Target"], before_call["Content-Type"], user_agent, max_attempts)

    # --- the lean call: botocore's `_make_api_call` and `Endpoint._send_request`, step by step ---

    def _call(self, operation: Operation, route: Route, params: dict[str, Any]) -> dict[str, Any]:
        model, events, emit = operation.model, operation.events, self._events.emit
        context: dict[str, Any] = {
            "client_region": self._client.meta.region_name,
            "client_config": self._client.meta.config,
            "has_streaming_input": model.has_streaming_input,
            "auth_type": model.resolved_auth_type,
            "unsigned_payload": model.unsigned_payload,
            "auth_options": self._client.meta.service_model.metadata.get("auth"),
            "signing": {"region": route.signer.scope.region, "signing_name": route.signer.scope.service},
        }
        responses = emit(events["provide-client-params"], params=params, model=model, context=context)
        params = next((response for _, response in responses if response is not None), params)
        emit(events["before-parameter-build"], params=params, model=model, context=context)
        body = self._fast_paths.request_body(model, params)
        if body is None or self._routes.get((operation.name, first_table(operation.name, params))) is not route:
            # A handler changed the table, or the input needs botocore's serializer: botocore's
            # own path (which fires the parameter events a second time for this call).
            return self._client._make_api_call(operation.name, params)  # type: ignore[no-any-return]
        request_dict: dict[str, Any] = {
            "url_path": "/",
            "query_string": "",
            "method": "POST",
            "headers": {"X-Amz-Target": route.target, "Content-Type": route.content_type, "User-Agent": route.user_agent},
            "body": body,
            "url": route.signer.scope.url,
            "context": context,
        }
        _, answered = self._events.emit_until_response(
            events["before-call"],
            model=model,
            params=request_dict,
            request_signer=getattr(self._client, "_request_signer", None),
            context=context,
        )
        if answered is not None:
            http, parsed = answered
        else:
            try:
                http, parsed = self._send(operation, route, request_dict)
            except Exception as error:
                emit(events["after-call-error"], exception=error, context=context)
                raise
        emit(events["after-call"], http_response=http, parsed=parsed, model=model, context=context)
        if http.status_code >= 300:
            code = context.get("error_code_override") or parsed.get("Error", {}).get("Code")
            raise self._client.exceptions.from_code(code)(parsed, operation.name)
        return parsed  # type: ignore[no-any-return]

    def _send(self, operation: Operation, route: Route, request_dict: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        context = request_dict["context"]
        retries = context.setdefault("retries", {})
        retries.update({"attempt": 1, "invocation-id": str(uuid.uuid4()), "max": int(route.max_attempts)})
        attempts = 1
        while True:
            success, error = self._attempt(operation, route, request_dict)
            if not self._needs_retry(operation, attempts, request_dict, success, error):
                break
            attempts += 1
            retries["attempt"] = attempts
            if success is not None:
                _set_ttl(retries, context, success[0])
        if success is not None and "ResponseMetadata" in success[1]:
            success[1]["ResponseMetadata"]["RetryAttempts"] = attempts - 1
        if error is not None:
            raise error
        assert success is not None
        return success

    def _attempt(
        self, operation: Operation, route: Route, request_dict: dict[str, Any]
    ) -> tuple[tuple[Any, dict[str, Any]] | None, Exception | None]:
        """One attempt, as botocore's `Endpoint._get_response`: a failure to send is returned to
        be offered for a retry; a failure to parse is raised."""
        model, events = operation.model, operation.events
        request = self._prepare(route, request_dict)
        received: dict[str, Any] = {"response_dict": None, "parsed_response": None, "context": request_dict["context"]}
        try:
            responses = self._events.emit(events["before-send"], request=request)
            http = next((response for _, response in responses if response is not None), None)
            if http is None:
                http = self._endpoint.http_session.send(request)
        except Exception as error:  # as botocore: any failure to send, retried or raised by the caller
            self._events.emit(events["response-received"], exception=error, **received)
            return None, error
        response_dict = convert_to_response_dict(http, model)
        customized: dict[str, Any] = {}
        self._events.emit(
            events["before-parse"], operation_model=model, response_dict=response_dict, customized_response_dict=customized
        )
        parsed = self._parser.parse(response_dict, model.output_shape)
        parsed.update(customized)
        if http.status_code >= 300:
            self._add_modeled_error_fields(response_dict, parsed, model)
        received |= {"parsed_response": parsed, "response_dict": convert_to_response_dict(http, model)}
        self._events.emit(events["response-received"], exception=None, **received)
        return (http, parsed), None

    def _prepare(self, route: Route, request_dict: dict[str, Any]) -> AWSPreparedRequest:
        assert self._credentials is not None
        frozen = self._credentials.get_frozen_credentials()
        amz_date = time.strftime(_SIGV4_TIME, time.gmtime())
        headers = {name: value for name, value in request_dict["headers"].items() if name.lower() not in _ADDED_AFTER_SIGNING}
        headers["X-Amz-Date"] = amz_date
        if frozen.token:
            headers["X-Amz-Security-Token"] = frozen.token
        body = request_dict["body"]
        headers["Authorization"] = route.signer.authorization(headers, body, frozen, amz_date)
        retries = request_dict["context"]["retries"]
        headers["amz-sdk-invocation-id"] = retries["invocation-id"]
        headers["amz-sdk-request"] = "; ".join(f"{key}={retries[key]}" for key in ("ttl", "attempt", "max") if key in retries)
        prepared = HeadersDict({name: value.encode() for name, value in headers.items()})
        prepared["Content-Length"] = str(len(body))
        return AWSPreparedRequest("POST", route.signer.scope.url, cast(Any, prepared), body, False)  # botocore's type

    def _needs_retry(
        self,
        operation: Operation,
        attempts: int,
        request_dict: dict[str, Any],
        success: tuple[Any, dict[str, Any]] | None,
        error: Exception | None,
    ) -> bool:
        responses = self._events.emit(
            operation.events["needs-retry"],
            response=success,
            endpoint=self._endpoint,
            operation=operation.model,
            attempts=attempts,
            caught_exception=error,
            request_dict=request_dict,
        )
        delay = next((response for _, response in responses if response is not None), None)
        if delay is None or delay is False:
            return False
        time.sleep(delay)
        return True

    def _add_modeled_error_fields(self, response_dict: dict[str, Any], parsed: dict[str, Any], model: OperationModel) -> None:
        code = parsed.get("Error", {}).get("Code")
        if code is None:
            return
        shape = model.service_model.shape_for_error_code(code)
        if shape is not None:
            parsed.update(self._parser.parse(response_dict, shape))


def _set_ttl(retries: dict[str, Any], context: dict[str, Any], http: Any) -> None:
    """botocore's `ttl` for the next attempt's `amz-sdk-request`: now, plus the read timeout,
    plus the clock skew the last response's `Date` showed."""
    date = http.headers.get("Date")
    if not date or retries.get("has_streaming_input"):
        return
    try:
        received = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
        skew = datetime.datetime.strptime(date, "%a, %d %b %Y %H:%M:%S %Z") - received
        read_timeout = context.get("read_timeout")
        if read_timeout is None:
            read_timeout = context["client_config"].read_timeout
        now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
        retries["ttl"] = (now + datetime.timedelta(seconds=read_timeout) + skew).strftime(_SIGV4_TIME)
    except Exception:  # as botocore: a Date it cannot read sets no ttl
        return
