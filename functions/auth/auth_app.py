"""Lambda handler for POST /api/auth and POST /api/refresh: HTTP in and out, nothing else."""

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from auth_service import refresh_access, sign_in
from shop_common.api import create_resolver, documented, json_response

logger = Logger()
app = create_resolver()


class SignInRequest(BaseModel):
    username: Annotated[str, Field(min_length=1, max_length=150)]
    # Bounded so a huge body cannot make the KDF hash megabytes.
    password: Annotated[str, Field(min_length=1, max_length=4096)]


class RefreshRequest(BaseModel):
    refresh: Annotated[str, Field(min_length=1, max_length=4096)]


class TokenPair(BaseModel):
    access: str
    refresh: str


class AccessToken(BaseModel):
    access: str


@app.post(
    "/api/auth",
    summary="Sign in: an access and a refresh token",
    responses={
        200: documented("Access (5 min) and refresh (1 day) JWTs", TokenPair),
        401: {"description": "Wrong username or password, or an inactive account"},
    },
)
def obtain_tokens(credentials: SignInRequest) -> Response[str]:
    return json_response(200, sign_in(credentials.username, credentials.password))


@app.post(
    "/api/refresh",
    summary="A new access token for a refresh token",
    responses={
        200: documented("A fresh access token", AccessToken),
        401: {"description": "Invalid, expired, forged or non-refresh token"},
    },
)
def refresh_token(request: RefreshRequest) -> Response[str]:
    return json_response(200, refresh_access(request.refresh))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
