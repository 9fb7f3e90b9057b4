"""JWT access and refresh tokens.

Tokens carry the claims djangorestframework-simplejwt used (`token_type`, `user_id`, `exp`,
`iat`, `jti`), so clients that read them keep working. Verification names the only accepted
algorithm, requires every claim with the type RFC 7519 gives it, and never accepts one token
type for the other.

A valid token proves who the caller was when it was issued, not that the account is still
active nor the token still wanted: every signed-in request checks the account too
(`shop_common.account_state`: active, the token's generation, its sign-in not signed out), and
so does refresh (see docs/architecture.md, Security).
"""

import math
import time
import uuid
from dataclasses import dataclass
from typing import Any, Literal

import jwt

from shop_common import settings
from shop_common.errors import AuthenticationFailed
from shop_common.secrets import signing_keys

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["exp", "iat", "jti", "token_type", "user_id"]
TokenType = Literal["access", "refresh"]
# NumericDate claims (RFC 7519 section 2): JSON numbers. pyjwt alone accepts "1700000000" or true.
_NUMERIC_DATE_CLAIMS = ("exp", "iat", "nbf")
_STRING_CLAIMS = ("jti", "token_type")
_ARTICLE = {"access": "an", "refresh": "a"}


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _claims_have_their_types(claims: dict[str, object]) -> bool:
    return (
        all(_is_number(claims[name]) for name in _NUMERIC_DATE_CLAIMS if name in claims)
        and all(type(claims[name]) is str for name in _STRING_CLAIMS)
        and type(claims["user_id"]) is int
        and type(claims.get(_GENERATION, 0)) is int
        and type(claims.get(_FAMILY, "")) is str
    )


@dataclass(frozen=True)
class VerifiedToken:
    user_id: int
    jti: str
    expires_at: float
    # The account's token generation when the token was issued. Changing the password or
    # deactivating the account moves it to the next generation, which revokes every older token.
    generation: int
    # The sign-in the token belongs to, shared by its refresh token, every access token refreshed
    # with it and every refresh token rotated from it: logout signs out the whole sign-in, and
    # reuse of a rotated token revokes it.
    family: str


# Claims of our own (simplejwt had none like them), in both token types: tokens issued before
# they existed are generation 0 and their own family (their jti).
_GENERATION = "gen"
_FAMILY = "fam"


def new_sign_in() -> str:
    """The family of a new sign-in's tokens."""
    return uuid.uuid4().hex


def issue_token(
    user_id: int, token_type: TokenType, *, now: float | None = None, generation: int = 0, family: str | None = None
) -> str:
    issued_at = int(time.time() if now is None else now)
    lifetimes = {"access": settings.access_token_lifetime, "refresh": settings.refresh_token_lifetime}
    lifetime = lifetimes[token_type]()
    jti = uuid.uuid4().hex
    claims = {
        "token_type": token_type,
        "user_id": user_id,
        "iat": issued_at,
        "exp": issued_at + lifetime,
        "jti": jti,
        _GENERATION: generation,
        _FAMILY: family or jti,
    }
    keys = signing_keys()
    return jwt.encode(claims, keys.current, algorithm=ALGORITHM, headers={"kid": keys.current_id})


def decode_token(token: str, token_type: TokenType) -> VerifiedToken:
    """The claims of a valid token of the given type; raise AuthenticationFailed otherwise."""
    claims = _verified_claims(token)
    if not _claims_have_their_types(claims):
        raise AuthenticationFailed("Token is invalid.", code="token_not_valid")
    if claims["token_type"] != token_type:
        raise AuthenticationFailed(f"Token is not {_ARTICLE[token_type]} {token_type} token.", code="token_not_valid")
    return VerifiedToken(
        claims["user_id"], claims["jti"], claims["exp"], claims.get(_GENERATION, 0), claims.get(_FAMILY, claims["jti"])
    )


def _verification_keys(token: str) -> list[bytes]:
    """The keys that may have signed the token, by the version it names (`kid`)."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.InvalidTokenError as error:
        raise AuthenticationFailed("Token is invalid.", code="token_not_valid") from error
    if kid is not None and type(kid) is not str:
        raise AuthenticationFailed("Token is invalid.", code="token_not_valid")
    return signing_keys().for_kid(kid) or signing_keys(unknown_kid=True).for_kid(kid)


def _verified_claims(token: str) -> dict[str, Any]:
    keys = _verification_keys(token)
    if not keys:
        raise AuthenticationFailed("Token is invalid.", code="token_not_valid")
    for index, key in enumerate(keys):
        try:
            claims: dict[str, Any] = jwt.decode(token, key, algorithms=[ALGORITHM], options={"require": REQUIRED_CLAIMS})
        except jwt.InvalidSignatureError as error:
            if index + 1 < len(keys):
                continue  # a token from before kids: the current key, then the previous one
            raise AuthenticationFailed("Token is invalid.", code="token_not_valid") from error
        except jwt.ExpiredSignatureError as error:
            raise AuthenticationFailed("Token is expired.", code="token_not_valid") from error
        except jwt.InvalidTokenError as error:
            raise AuthenticationFailed("Token is invalid.", code="token_not_valid") from error
        return claims
    raise AuthenticationFailed("Token is invalid.", code="token_not_valid")  # unreachable: keys is not empty


def access_token_from_authorization(header: str | None) -> VerifiedToken:
    """The caller's verified access token from an `Authorization: Bearer <access token>` header
    (not yet checked against the account: `shop_common.account_state`)."""
    if not header:
        raise AuthenticationFailed("Authentication credentials were not provided.", code="not_authenticated")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed("Authorization header must be 'Bearer <access token>'.", code="not_authenticated")
    return decode_token(token.strip(), "access")
