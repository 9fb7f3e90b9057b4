"""Lambda handler for staff user management: GET /api/users and PATCH /api/users/{user_id}.
HTTP in and out, nothing else. A function of its own so that the public sign-in/sign-up function
holds no grant to write `is_staff` or `is_active` (docs/security.md)."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path as PathParam
from aws_lambda_powertools.event_handler.openapi.params import Query

from shop_common.api import CursorQuery, absolute_url, documented, json_response
from shop_common.signed_in import SIGNED_IN
from shop_common.staff_api import FORBIDDEN, staff_function, staff_handler
from staff_users.admin import list_users, update_user
from staff_users.models import ListedUser, UserFlags, UsersPage

logger, app = staff_function()


@app.get(
    "/api/users",
    summary="Staff: users in username order, optionally those whose username starts with `prefix`",
    security=SIGNED_IN,
    responses={200: documented("A page of users", UsersPage), 403: FORBIDDEN},
)
def staff_list_users(
    prefix: Annotated[str, Query(max_length=150)] = "",
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: CursorQuery = None,
) -> Response[str]:
    users, next_cursor = list_users(prefix, limit, cursor)
    query = {"prefix": prefix, "limit": limit, "cursor": next_cursor} if prefix else {"limit": limit, "cursor": next_cursor}
    next_url = absolute_url(app.current_event, query) if next_cursor else None
    return json_response(200, {"results": users, "next": next_url})


@app.patch(
    "/api/users/<user_id>",
    summary="Staff: activate or deactivate, promote or demote another user",
    security=SIGNED_IN,
    responses={
        200: documented("The user as saved", ListedUser),
        403: FORBIDDEN,
        404: {"description": "No such user"},
    },
)
def staff_update_user(user_id: Annotated[int, PathParam(ge=1, lt=2**53)], flags: UserFlags) -> Response[str]:
    return json_response(200, update_user(app.context["user_id"], user_id, flags.is_active, flags.is_staff))


lambda_handler = staff_handler(app, logger)
