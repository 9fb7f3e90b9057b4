"""Authentication before routing, for the functions whose routes need a signed-in user.

Checking the bearer token (and, where given, a permission) before powertools routes and
validates makes an anonymous request a 401 whatever its body, and costs it no parsing, as in the
Django app. Kept apart from `shop_common.api` so that a function with only public routes does
not import the JWT code.
"""

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop_common.api import proxy_error_response
from shop_common.errors import ShopError
from shop_common.headers import header
from shop_common.tokens import user_id_from_authorization

# `security` of a route decorator: documents the bearer token in the OpenAPI document;
# `resolve_signed_in` enforces it.
SIGNED_IN: list[dict[str, list[str]]] = [{"bearerAuth": []}]


def resolve_signed_in(
    app: APIGatewayHttpResolver,
    event: dict[str, Any],
    context: LambdaContext,
    logger: Logger,
    permission: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Route the event with the caller's user id in `app.context["user_id"]`, or answer the
    AuthenticationFailed (401) or the permission's error (e.g. 403) without routing."""
    try:
        user_id = user_id_from_authorization(header(event.get("headers"), "Authorization"))
        logger.append_keys(user_id=user_id)
        if permission is not None:
            permission(user_id)
    except ShopError as error:
        logger.info("Rejected a request before routing", extra={"status": error.status_code, "reason": error.code})
        return proxy_error_response(error)
    app.append_context(user_id=user_id)  # type: ignore[no-untyped-call]
    return app.resolve(event, context)
