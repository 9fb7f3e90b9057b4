"""Lambda handler for the accounts routes: sign-in, refresh, sign-up, logout, and the signed-in
user's own account (/api/me); staff's /api/users is the staff users function. HTTP in and out, nothing else."""

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from auth.account_models import PasswordChange, ProfileUpdate, Registration
from auth.profile_service import change_password, get_me, update_me
from auth.registration import register
from auth.sessions import refresh_access, sign_in, sign_out
from shop_common.api import create_resolver, documented, json_response
from shop_common.drf_errors import field_lists
from shop_common.models import UserProfile
from shop_common.signed_in import SIGNED_IN, resolve_signed_in
from shop_common.snapstart import register_hooks

logger = Logger()
# The Django app's routes: form bodies too, and validation errors also as DRF's per-field lists.
app = create_resolver(
    form_paths=("/api/auth", "/api/refresh"),
    original_errors={"/api/auth": field_lists, "/api/refresh": field_lists},
)
register_hooks()  # SnapStart: prepare before the snapshot, refresh after restore


class SignInRequest(BaseModel):
    username: Annotated[str, Field(min_length=1, max_length=150)]
    # Bounded so a huge body cannot make the KDF hash megabytes.
    password: Annotated[str, Field(min_length=1, max_length=4096)]


class RefreshRequest(BaseModel):
    refresh: Annotated[str, Field(min_length=1, max_length=4096)]


class TokenPair(BaseModel):
    access: str
    refresh: str


class RefreshedTokens(BaseModel):
    access: str
    refresh: str | None = Field(
        default=None, description="Only when the deployment rotates refresh tokens: use it instead of the one sent"
    )


@app.post(
    "/api/auth",
    summary="Sign in: an access and a refresh token",
    responses={
        200: documented("Access (1 day) and refresh (1 week) JWTs, by default", TokenPair),
        401: {"description": "Wrong username or password, or an inactive account"},
    },
)
def obtain_tokens(credentials: SignInRequest) -> Response[str]:
    return json_response(200, sign_in(credentials.username, credentials.password))


@app.post(
    "/api/refresh",
    summary="A new access token for a refresh token",
    responses={
        200: documented("A fresh access token (and a new refresh token when rotation is on)", RefreshedTokens),
        401: {"description": "Invalid, expired, forged or non-refresh token, or the account is deactivated or deleted"},
    },
)
def refresh_token(request: RefreshRequest) -> Response[str]:
    return json_response(200, refresh_access(request.refresh))


@app.post(
    "/api/register",
    summary="Sign up: a new account (unless the deployment switched sign-up off)",
    responses={
        201: documented("The new account's profile", UserProfile),
        400: {"description": "Invalid or taken username or email, or a password that breaks a rule (each named)"},
        403: {"description": "Sign-up is switched off (template parameter SignUpEnabled)"},
    },
)
def sign_up(registration: Registration) -> Response[str]:
    profile = register(
        registration.username, registration.password, registration.email, registration.first_name, registration.last_name
    )
    return json_response(201, profile)


@app.post(
    "/api/logout",
    summary="Sign out: the refresh token and every access token of its sign-in stop working",
    responses={
        204: {"description": "Signed out (also when the token was already revoked); the user's other sign-ins keep working"},
        401: {"description": "Invalid, expired, forged or non-refresh token"},
    },
)
def logout(request: RefreshRequest) -> Response[str]:
    sign_out(request.refresh)
    return Response(status_code=204, body="")


@app.get(
    "/api/me",
    summary="The signed-in user's profile",
    security=SIGNED_IN,
    responses={200: documented("The profile", UserProfile)},
)
def read_me() -> Response[str]:
    return json_response(200, get_me(app.context["user_id"]))


@app.patch(
    "/api/me",
    summary="Edit the signed-in user's names and email (emails are unique, case-insensitively)",
    security=SIGNED_IN,
    responses={
        200: documented("The profile as saved", UserProfile),
        409: {"description": "The profile kept changing concurrently; nothing was written, retrying is safe"},
    },
)
def edit_me(update: ProfileUpdate) -> Response[str]:
    return json_response(200, update_me(app.context["user_id"], update.changes()))


@app.post(
    "/api/me/password",
    summary="Change the password; every token issued before (this one too) stops working",
    security=SIGNED_IN,
    responses={
        204: {"description": "Changed"},
        400: {"description": "Wrong current password, or a new password that breaks a rule (each named)"},
    },
)
def new_password(change: PasswordChange) -> Response[str]:
    change_password(app.context["user_id"], change.current_password, change.new_password)
    return Response(status_code=204, body="")


def _route_path(event: dict[str, Any]) -> str:
    return str(event.get("routeKey", "")).partition(" ")[2]


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(f"{prefix}/")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    path = _route_path(event)
    if _under(path, "/api/me"):
        return resolve_signed_in(app, event, context, logger)
    return app.resolve(event, context)
