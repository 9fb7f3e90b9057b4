"""What every staff API function opens with: its logger and resolver, the SnapStart hooks, the
403 its routes document, and a Lambda handler that checks the caller before routing.

As in Django REST framework, authentication and permission come before validation: an anonymous
request is a 401 and a customer's a 403 whatever its parameters and body, and the staff check
costs no read beyond the sign-in check's (`shop_common.staff_access`).
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop_common.api import create_resolver
from shop_common.signed_in import resolve_signed_in
from shop_common.snapstart import register_hooks
from shop_common.staff_access import require_staff

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

FORBIDDEN: "OpenAPIResponse" = {"description": "Signed in, but not staff"}

LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def staff_function() -> tuple[Logger, APIGatewayHttpResolver]:
    """A staff function's logger and resolver (module globals: one of each per container), with
    the SnapStart hooks registered (prepare before the snapshot, refresh after restore)."""
    logger = Logger()
    app = create_resolver()
    register_hooks()
    return logger, app


def staff_handler(
    app: APIGatewayHttpResolver, logger: Logger, public: Callable[[dict[str, Any]], bool] | None = None
) -> LambdaHandler:
    """The function's Lambda handler: routes a request whose caller is active staff, or answers
    401/403 without parsing anything; a request `public` accepts (a public read) is routed as it
    is."""

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        if public is not None and public(event):
            return app.resolve(event, context)
        return resolve_signed_in(app, event, context, logger, permission=require_staff)

    return lambda_handler
