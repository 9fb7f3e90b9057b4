"""Authentication before routing, for the functions whose routes need a signed-in user.

Checking the bearer token, the account behind it (`shop_common.account_state`: one GetItem that
catches a logout, a password change, a deactivation or a deletion) and, where given, a
permission before powertools routes and validates makes an anonymous or revoked request a 401
whatever its body, and costs it no parsing, as in the Django app. Kept apart from
`shop_common.api` so that a function with only public routes does not import the JWT code.
"""

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop_common.account_state import AccountState, check_access, request_account
from shop_common.api import proxy_error_response
from shop_common.errors import ShopError
from shop_common.headers import header
from shop_common.tokens import access_token_from_authorization

# `security` of a route decorator: documents the bearer token in the OpenAPI document;
# `resolve_signed_in` enforces it.
SIGNED_IN: list[dict[str, list[str]]] = [{"bearerAuth": []}]


def authenticate(authorization: str | None) -> AccountState:
    """The caller's account from an `Authorization: Bearer <access token>` header: a valid access
    token that is not revoked, of an active account (one GetItem); AuthenticationFailed else."""
    return check_access(access_token_from_authorization(authorization))


def resolve_signed_in(
    app: APIGatewayHttpResolver,
    event: dict[str, Any],
    context: LambdaContext,
    logger: Logger,
    permission: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Route the event with the caller's user id in `app.context["user_id"]`, or answer the
    AuthenticationFailed (401) or the permission's error (e.g. 403) without routing. The account
    read is the request's (`request_account`): the staff check reuses it."""
    try:
        token = access_token_from_authorization(header(event.get("headers"), "Authorization"))
        logger.append_keys(user_id=token.user_id)
        account = check_access(token)
    except ShopError as error:
        return _rejected(logger, error)
    with request_account(account):
        if permission is not None:
            try:
                permission(account.user_id)
            except ShopError as error:
                return _rejected(logger, error)
        app.append_context(user_id=account.user_id)  # type: ignore[no-untyped-call]
        return app.resolve(event, context)


def _rejected(logger: Logger, error: ShopError) -> dict[str, Any]:
    logger.info("Rejected a request before routing", extra={"status": error.status_code, "reason": error.code})
    return proxy_error_response(error)
