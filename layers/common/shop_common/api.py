"""HTTP glue shared by every function: the resolver and the mapping of errors to JSON responses.

Powertools answers invalid input with 422 by default; the contract (inherited from the Django
app) says 400, so validation errors are re-mapped here, in one place.
"""

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType, RequestValidationError
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from botocore.exceptions import ClientError

from shop_common.errors import AuthenticationFailed, ServiceBusy, ShopError

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

logger = Logger(child=True)

JSON = "application/json"


def json_response(status_code: int, body: Any, headers: dict[str, str] | None = None) -> Response[str]:
    return Response(
        status_code=status_code,
        content_type=JSON,
        body=json.dumps(body, separators=(",", ":")),
        headers=headers,
    )


def documented(description: str, model: Any) -> "OpenAPIResponse":
    """An OpenAPI response entry for a route decorator's `responses` (documentation only)."""
    return {"description": description, "content": {JSON: {"model": model}}}


def _field_name(location: tuple[Any, ...]) -> str:
    # ("body", "parts", 0, "quantity_in_order") -> "parts.0.quantity_in_order"; when the whole
    # part is wrong (a body that is not an object) the location itself is the field: "body".
    path = [str(part) for part in location[1:]]
    return ".".join(path) if path else str(location[0] if location else "body")


def _validation_error(error: RequestValidationError) -> Response[str]:
    problems = []
    for problem in error.errors():
        location = tuple(problem.get("loc", ()))
        if problem.get("type") == "json_invalid":
            problems.append({"field": "body", "message": "Request body is not valid JSON."})
            continue
        problems.append({"field": _field_name(location), "message": problem.get("msg", "Invalid value.")})
    return json_response(400, {"detail": "Invalid request.", "errors": problems})


def _unsupported_content_type(_: RequestUnsupportedContentType) -> Response[str]:
    return json_response(415, {"detail": "Unsupported media type: send the body as application/json."})


def _shop_error(error: ShopError) -> Response[str]:
    headers = None
    if isinstance(error, AuthenticationFailed):
        headers = {"WWW-Authenticate": 'Bearer realm="api"'}
    elif isinstance(error, ServiceBusy):
        logger.warning("DynamoDB throttled the request", extra={"reason": error.reason})
        headers = {"Retry-After": "1"}
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


def create_resolver() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True)
    app.exception_handler(RequestValidationError)(_validation_error)
    app.exception_handler(RequestUnsupportedContentType)(_unsupported_content_type)
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


def absolute_url(event: APIGatewayProxyEventV2, query: dict[str, Any]) -> str:
    """This request's URL with another query string, as the client addressed it."""
    headers = event.headers or {}
    scheme = headers.get("x-forwarded-proto", "https")
    host = headers.get("host") or event.request_context.domain_name
    return f"{scheme}://{host}{event.raw_path}?{urlencode(query)}"
