"""The API's OpenAPI document, generated from the handlers' routes and pydantic models.

Each function's resolver describes its own routes; this merges them and states what the shared
HTTP glue (`shop_common.api`, `shop_common.request_body`) and API Gateway itself answer on every
operation: 400 instead of powertools' 422, 413/415 for bodies, 401 with `WWW-Authenticate` on
the signed-in operations, 503 with `Retry-After`, and API Gateway's own `{"message"}` errors.
Generated here, at build time, so no function pays for OpenAPI at cold start.

    python -m shoplocal.openapi > docs/openapi.json
"""

import importlib
import json
from typing import Any

from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

from shoplocal.template import FunctionSpec, functions, put_code_on_path

# GET /api/docs and /api/openapi.json serve this document and a viewer of it (static files, no
# resolver): they are not part of the API it describes, as in most frameworks' generated docs.
DOCS_FUNCTION = "DocsFunction"

# Swagger UI groups operations by tag: one per function, which is one area of the API.
TAGS = {
    "AuthFunction": ("Accounts", "Sign-in and tokens, sign-up, the signed-in user's own account."),
    "StaffUsersFunction": ("Users (staff)", "Staff: listing users, activating or deactivating, promoting or demoting them."),
    "ProductsFunction": ("Catalogue", "The products anyone can browse: pages, filters, search, one product."),
    "CatalogAdminFunction": ("Catalogue (staff)", "Staff: adding, changing and deleting products, their stock and photos."),
    "OrdersFunction": ("Orders", "Quotes, orders and cancellations; staff: every order."),
    "OffersFunction": ("Offers", "The offers that apply now; staff: adding, changing and deleting offers."),
    "WebhooksFunction": ("Webhooks (staff)", "Staff: webhook endpoints, their secrets and their deliveries."),
}
DESCRIPTION = """\
A shop's API: accounts, a catalogue with stock, orders that never oversell, special offers,
webhooks.

**Signing in**: `POST /api/auth` answers an access token and a refresh token; send the access
token as `Authorization: Bearer <token>` (the padlock above), and get a new one from
`POST /api/refresh`.

**Errors** are JSON with a human-readable `detail`, often a `code` for programs, and for invalid
input (400) the offending fields in `errors`. A path the API does not have is a 404, a method a
path does not take a 405 with `Allow`.

**Retries**: an order or a cancel sent with an `Idempotency-Key` is carried out once however
often it is sent; 429 and 503 say when to retry in `Retry-After`.
"""

BEARER = {"bearerAuth": HTTPBearer(bearerFormat="JWT", description="An access token from POST /api/auth or /api/refresh.")}

ERROR_SCHEMA = {
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, for people."},
        "code": {"type": "string", "description": "What went wrong, for programs."},
        "errors": {
            "type": "array",
            "description": "The offending fields (400 only).",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                "additionalProperties": True,
            },
        },
    },
}
# What API Gateway answers by itself (throttling, a body over its 10 MB limit, a function that
# failed, timed out or was throttled), before or instead of our code.
GATEWAY_ERROR_SCHEMA = {
    "type": "object",
    "required": ["message"],
    "properties": {"message": {"type": "string", "description": 'e.g. "Too Many Requests"'}},
}

ERROR: dict[str, Any] = {"$ref": "#/components/schemas/Error"}
GATEWAY_ERROR: dict[str, Any] = {"$ref": "#/components/schemas/GatewayError"}
EITHER_ERROR: dict[str, Any] = {"anyOf": [ERROR, GATEWAY_ERROR]}
Statuses = dict[str, tuple[str, dict[str, Any]]]  # status: (description, body schema)

# Statuses every operation can answer.
EVERY_OPERATION: Statuses = {
    "429": (
        "Too many requests: API Gateway's throttling of the route, or too many failed sign-ins for a "
        "username (retry after `Retry-After`).",
        EITHER_ERROR,
    ),
    "500": ("A bug: the details are in the function's log, under the request id.", EITHER_ERROR),
    "503": (
        "Busy: DynamoDB throttled the request even after retries (retry after `Retry-After`), "
        "or API Gateway could not run the function in time.",
        EITHER_ERROR,
    ),
}
# Statuses of operations that take input: parameters or a body (shop_common.request_body).
WITH_INPUT: Statuses = {"400": ("Invalid request: the offending fields are listed in `errors`.", ERROR)}
WITH_BODY: Statuses = {
    "413": ("The body is larger than the API accepts.", EITHER_ERROR),
    "415": ("The body is not `application/json` (UTF-8).", ERROR),
}
SIGNED_IN: Statuses = {
    "401": (
        "Missing, malformed, expired, forged or wrong-type access token; a revoked one (logout, password change: "
        "`token_not_valid`); a deactivated or deleted account (`user_inactive`).",
        ERROR,
    )
}

RETRY_AFTER = {
    "description": "Seconds to wait before retrying (when our code, not API Gateway, answered).",
    "required": False,
    "schema": {"type": "integer", "minimum": 0},
}
RESPONSE_HEADERS: dict[str, dict[str, Any]] = {
    "401": {
        "WWW-Authenticate": {
            "description": "The authentication scheme to use.",
            "required": True,
            "schema": {"type": "string", "pattern": "^Bearer "},
        }
    },
    "503": {"Retry-After": RETRY_AFTER},
    "429": {"Retry-After": RETRY_AFTER},
}
LINK_HEADER = {
    "Link": {
        "description": 'The next (older) page, when there is one: `<absolute URL>; rel="next"`.',
        "required": False,
        "schema": {"type": "string", "pattern": '^<https?://[^>]+>; rel="next"$'},
    }
}
# Operations whose 200 carries a header besides the body.
REPLAYED_HEADER = {
    "Idempotent-Replayed": {
        "description": "`true` when this is the first response to the same Idempotency-Key and request, answered again",
        "schema": {"type": "string", "enum": ["true"]},
    }
}
HEADERS_OF_SUCCESS = {
    ("/api/my-orders", "get"): LINK_HEADER,
    ("/api/orders", "get"): LINK_HEADER,
    ("/api/order", "post"): REPLAYED_HEADER,
    ("/api/orders/{order_id}/cancel", "post"): REPLAYED_HEADER,
}

_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


def _integer_bounds(node: Any, is_bound: bool = False) -> Any:
    """Powertools writes `minimum: 1.0` for an integer bound; JSON Schema means the same by 1."""
    if is_bound and isinstance(node, float) and node.is_integer():
        return int(node)
    if isinstance(node, dict):
        return {key: _integer_bounds(value, key in _BOUNDS) for key, value in node.items()}
    if isinstance(node, list):
        return [_integer_bounds(item) for item in node]
    return node


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """An optional query parameter is absent, never null: `str | None` becomes the string."""
    alternatives = [option for option in schema.get("anyOf", []) if option != {"type": "null"}]
    if len(alternatives) != 1 or len(schema["anyOf"]) != 2:
        return schema
    rest = {key: value for key, value in schema.items() if key != "anyOf"}
    return {**alternatives[0], **rest}


def _response(description: str, schema: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
    # A route's own description (e.g. why its 401 happens) wins over the generic one.
    description = (existing or {}).get("description", description)
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _complete(path: str, method: str, operation: dict[str, Any], body_limits: str) -> None:
    """Every status this operation can answer, with its body and headers."""
    responses: dict[str, Any] = operation.setdefault("responses", {})
    if responses.get("422", {}).get("description") == "Validation Error":
        responses.pop("422")  # powertools' own: validation errors are 400 here; a route's own 422 stays
    statuses = dict(EVERY_OPERATION)
    if "requestBody" in operation or operation.get("parameters"):
        statuses.update(WITH_INPUT)
    if "requestBody" in operation:
        statuses.update(WITH_BODY)
    if operation.get("security"):
        statuses.update(SIGNED_IN)
    if "requestBody" in operation:
        operation["requestBody"]["description"] = body_limits
    for status, (description, schema) in statuses.items():
        responses[status] = _response(description, schema, responses.get(status))
    for status, response in responses.items():
        if int(status) >= 400 and status not in statuses:  # a route's own error (404, 409, 401)
            responses[status] = _response(response["description"], ERROR, response)
        if status in RESPONSE_HEADERS:
            responses[status]["headers"] = RESPONSE_HEADERS[status]
    success = next(status for status in responses if status.startswith("2"))
    if success == "204":
        responses[success].pop("content", None)  # no content, by definition
    if (path, method) in HEADERS_OF_SUCCESS:
        responses[success]["headers"] = HEADERS_OF_SUCCESS[(path, method)]
    for parameter in operation.get("parameters", []):
        if parameter.get("in") in ("query", "header"):
            parameter["schema"] = _without_null(parameter["schema"])
    # A summary is plain text (Swagger UI shows a backtick as it is); descriptions are Markdown.
    operation["summary"] = operation.get("summary", "").replace("`", "")


def _body_limits() -> str:
    from shop_common.request_body import MAX_BODY_BYTES, MAX_DEPTH, MAX_INTEGER_DIGITS

    return (
        f"JSON in UTF-8, at most {MAX_BODY_BYTES // 1024} KiB (413 beyond), nested at most {MAX_DEPTH} deep, "
        f"with integers of at most {MAX_INTEGER_DIGITS:,} digits, without NaN or Infinity (400 otherwise)."
    )


def api_functions() -> list[FunctionSpec]:
    """The functions this document describes: those with routes, but DOCS_FUNCTION, which serves it."""
    return [spec for spec in functions().values() if spec.routes and spec.logical_id != DOCS_FUNCTION]


def build() -> dict[str, Any]:
    put_code_on_path()
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "Serverless shop API", "version": "1.0.0", "description": DESCRIPTION},
        "tags": [{"name": name, "description": description} for name, description in TAGS.values()],
        "paths": {},
        "components": {
            "schemas": {"Error": ERROR_SCHEMA, "GatewayError": GATEWAY_ERROR_SCHEMA},
        },
    }
    for spec in api_functions():
        app = importlib.import_module(spec.module).app
        schema = app.get_openapi_schema(security_schemes=BEARER).model_dump(mode="json", by_alias=True, exclude_none=True)
        for path, operations in schema.get("paths", {}).items():  # two functions may share a path
            for operation in operations.values():
                operation["tags"] = [TAGS[spec.logical_id][0]]
            document["paths"].setdefault(path, {}).update(operations)
        for section, entries in schema.get("components", {}).items():
            document["components"].setdefault(section, {}).update(entries)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            _complete(path, method, operation, _body_limits())
    for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):  # powertools' own, never sent
        document["components"]["schemas"].pop(name, None)
    completed: dict[str, Any] = _integer_bounds(document)
    return completed


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(render(), end="")
