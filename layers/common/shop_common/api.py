"""HTTP glue shared by every function: the resolver and the mapping of errors to JSON responses.

Powertools answers invalid input with 422 by default; the contract (inherited from the Django
app) says 400, so validation errors are re-mapped here, in one place. Bodies are read and
bounded by `shop_common.request_body` before powertools or a model sees them.
"""

import json
import threading
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlencode

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from shop_common.errors import AuthenticationFailed, ServiceBusy, ShopError, TooManyAttempts
from shop_common.money import exact_json
from shop_common.request_body import parse_json, with_json_body

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

logger = Logger(child=True)

JSON = "application/json"

# A page cursor as a query parameter: what `shop_common.cursors` writes (base64url without
# padding), so anything else is a 400 from validation, and the OpenAPI document says so.
CursorQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="An opaque cursor from a `next`/`previous` link; pass it back unchanged.",
    ),
]


def json_text(body: Any) -> str:
    """A response body as JSON text (compact, UTF-8). Decimals (money) are written as the JSON
    number of their exact value (shop_common.money), never through a float."""
    return exact_json(body)


# What a Lambda function may answer: 6 MB (6,291,456 bytes) for the whole response, in which
# the body is a JSON string (quotes and backslashes escaped, non-ASCII as \uXXXX). Bodies are
# kept under this, with room for the status and headers.
MAX_ESCAPED_BODY = 6_000_000


def escaped_size(text: str) -> int:
    """The bytes a body takes inside the Lambda response (as a JSON string, escapes included)."""
    return len(json.dumps(text))


class JsonText(str):
    """A body already written as JSON text (a replayed response): sent as it is."""

    __slots__ = ()


def json_response(status_code: int, body: Any, headers: dict[str, str] | None = None) -> Response[str]:
    return Response(
        status_code=status_code,
        content_type=JSON,
        body=body if isinstance(body, JsonText) else json_text(body),
        headers=headers,
    )


def json_text_response(status_code: int, text: str, headers: dict[str, str] | None = None) -> Response[str]:
    """A response whose JSON body is already written (a replayed response, byte for byte)."""
    return Response(status_code=status_code, content_type=JSON, body=text, headers=headers)


def documented(description: str, model: Any) -> "OpenAPIResponse":
    """An OpenAPI response entry for a route decorator's `responses` (documentation only)."""
    return {"description": description, "content": {JSON: {"model": model}}}


def _field_name(location: tuple[Any, ...]) -> str:
    # ("body", "parts", 0, "quantity_in_order") -> "parts.0.quantity_in_order"; when the whole
    # part is wrong (a body that is not an object) the location itself is the field: "body".
    path = [str(part) for part in location[1:]]
    return ".".join(path) if path else str(location[0] if location else "body")


def validation_message(problem: Mapping[str, Any]) -> str:
    """A pydantic error's message for people: a validator's own words without pydantic's
    "Value error, " before them."""
    error = (problem.get("ctx") or {}).get("error")
    if problem.get("type") == "value_error" and error is not None:
        return str(error)
    return str(problem.get("msg", "Invalid value."))


# A route's translation of its validation problems (and the body they are about) into the
# Django app's keys (shop_common.drf_errors).
OriginalErrors = Callable[[list[dict[str, Any]], Any], dict[str, Any]]


def _validation_error(error: RequestValidationError, original: Mapping[str, OriginalErrors]) -> Response[str]:
    problems = []
    for problem in error.errors():
        location = tuple(problem.get("loc", ()))
        if problem.get("type") == "json_invalid":
            problems.append({"field": "body", "message": "Request body is not valid JSON."})
            continue
        problems.append({"field": _field_name(location), "message": validation_message(problem)})
    body: dict[str, Any] = {"detail": "Invalid request.", "errors": problems}
    event: APIGatewayProxyEventV2 | None = getattr(_request, "event", None)
    translate = original.get(str(event.raw_event.get("routeKey", "")).partition(" ")[2]) if event is not None else None
    if translate is not None and event is not None:
        body = {**translate(list(error.errors()), event.json_body), **body}
    return json_response(400, body)


def _shop_error(error: ShopError) -> Response[str]:
    headers = None
    if isinstance(error, AuthenticationFailed):
        headers = {"WWW-Authenticate": 'Bearer realm="api"'}
    elif isinstance(error, ServiceBusy):
        logger.warning("DynamoDB throttled the request", extra={"reason": error.reason})
        headers = {"Retry-After": "1"}
    elif isinstance(error, TooManyAttempts):
        headers = {"Retry-After": str(error.retry_after)}
    return json_response(error.status_code, error.body(), headers)


def _not_found(_: NotFoundError) -> Response[str]:
    return json_response(404, {"detail": "Not found."})


# DynamoDB's answers when a table or partition is over its throughput, after botocore's retries.
_THROTTLING_CODES = {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}


def _aws_error(error: ClientError) -> Response[str]:
    code = error.response.get("Error", {}).get("Code", "")
    if code in _THROTTLING_CODES:
        return _shop_error(ServiceBusy(code))
    return _unexpected_error(error)


def _unexpected_error(_: Exception) -> Response[str]:
    # The traceback goes to the log (with the request id); the client learns nothing internal.
    logger.exception("Unhandled error")
    return json_response(500, {"detail": "Internal server error."})


# The request a thread is resolving. Powertools keeps the current event and Lambda context as
# attributes of its BaseRouter class, shared by every resolver in the process: right on Lambda
# (one request per process at a time), wrong wherever several containers' resolvers run at once
# in one process (the local server's worker processes, the tests' threads), where one request
# was seen routed with another's body.
_request = threading.local()


class ShopResolver(APIGatewayHttpResolver):
    """Powertools' resolver, with every request body checked before routing (media type, size,
    encoding) and parsed within bounds (depth, integer digits) when a route reads it, and the
    current event and context kept per thread."""

    @property  # type: ignore[override]
    def current_event(self) -> APIGatewayProxyEventV2:
        event: APIGatewayProxyEventV2 = _request.event
        return event

    @current_event.setter
    def current_event(self, value: APIGatewayProxyEventV2) -> None:
        _request.event = value

    @property
    def lambda_context(self) -> LambdaContext:
        context: LambdaContext = _request.context
        return context

    @lambda_context.setter
    def lambda_context(self, value: LambdaContext) -> None:
        _request.context = value

    def _to_proxy_event(self, event: dict[str, Any]) -> APIGatewayProxyEventV2:
        # Powertools converts the event once per request, right before storing it on its class.
        proxy = super()._to_proxy_event(event)
        assert isinstance(proxy, APIGatewayProxyEventV2)
        _request.event = proxy
        return proxy

    def __init__(self, form_paths: Collection[str] = (), **options: Any) -> None:
        super().__init__(**options)
        self.form_paths = frozenset(form_paths)

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        _request.context = context
        try:
            event = with_json_body(event, self.form_paths)
        except ShopError as error:
            logger.info("Rejected the request body", extra={"status": error.status_code, "reason": error.detail})
            return proxy_error_response(error)
        return super().resolve(event, context)


def create_resolver(
    form_paths: Collection[str] = (), original_errors: Mapping[str, OriginalErrors] | None = None
) -> APIGatewayHttpResolver:
    """The resolver of a function. `form_paths`: routes that also take form bodies (the Django
    app's POST routes); `original_errors`: per route path, how its validation errors read in the
    Django app's keys (added beside ours)."""
    app = ShopResolver(form_paths, enable_validation=True, json_body_deserializer=parse_json)
    translations = dict(original_errors or {})
    app.exception_handler(RequestValidationError)(lambda error: _validation_error(error, translations))
    app.exception_handler(ShopError)(_shop_error)
    app.exception_handler(ClientError)(_aws_error)
    app.exception_handler(Exception)(_unexpected_error)
    app.not_found(_not_found)
    return app


def proxy_error_response(error: ShopError) -> dict[str, Any]:
    """An API Gateway (payload 2.0) response for an error raised before routing."""
    response = _shop_error(error)
    return {
        "statusCode": response.status_code,
        "headers": {"Content-Type": JSON, **response.headers},
        "body": response.body,
        "isBase64Encoded": False,
    }


# Set only by the local gateway (shoplocal), which serves plain HTTP on a port: where its clients
# reach it, e.g. "http://127.0.0.1:3000". API Gateway never sends this key, and nothing a client
# sends can add keys to the request context, so in AWS links are always https on `domainName`.
LOCAL_ORIGIN_KEY = "shoplocalOrigin"


def absolute_url(event: APIGatewayProxyEventV2, query: dict[str, Any]) -> str:
    """This route's URL with another query string, built only from what API Gateway vouches for:
    the domain the API was called on and its stage, never the client's Host or X-Forwarded-*
    headers (which would let a client plant its own host in the links we hand out)."""
    context = event.raw_event.get("requestContext") or {}
    origin = context.get(LOCAL_ORIGIN_KEY) or f"https://{context.get('domainName', '')}"
    # The $default stage is served at the root. A named stage is the first segment of the URL
    # (rawPath carries it); `event.path` is the route's path without it.
    stage = event.request_context.stage
    prefix = "" if stage == "$default" else f"/{stage}"
    return f"{origin}{prefix}{event.path}?{urlencode(query)}"
