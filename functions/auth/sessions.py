"""Signing in, refreshing tokens and signing out: the rules, independent of HTTP."""

import math
import time

from aws_lambda_powertools import Logger

from auth.credentials import find_credentials
from auth.profile_store import replace_password_hash
from auth.sign_in_throttle import SLOTS, clear_tries, counter_key, reserve_try
from auth.sign_outs import sign_out as record_sign_out
from auth.token_store import refresh_state, revoke_once
from shop_common import settings
from shop_common.account_state import INACTIVE_MESSAGE, REVOKED_MESSAGE
from shop_common.errors import AuthenticationFailed, TooManyAttempts
from shop_common.keys import normalize_username
from shop_common.passwords import hash_password, needs_rehash, verify_password
from shop_common.tokens import decode_token, issue_token, new_sign_in

logger = Logger(child=True)

# The Django app's (simplejwt's) wording, kept for clients that match on it.
_BAD_CREDENTIALS = "No active account found with the given credentials"


def sign_in(username: str, password: str) -> dict[str, str]:
    username = normalize_username(username)  # NFKC, as Django does
    account, tries = find_credentials(username, counter_key(username), SLOTS)
    try:
        reserve_try(username, tries)  # before any password check, the same whether the account exists or not
    except TooManyAttempts:
        logger.info("Sign-in throttled", extra={"known_account": account is not None})
        raise
    # verify_password does the full KDF work even without an account: timing reveals nothing.
    password_ok = verify_password(password, account.password_hash if account else None)
    if account is None or not password_ok or not account.is_active:
        # Never log the username: people type their password into it by mistake. The try keeps its slot.
        logger.info("Sign-in rejected", extra={"known_account": account is not None})
        raise AuthenticationFailed(_BAD_CREDENTIALS, code="no_active_account")
    clear_tries(username)
    if needs_rehash(account.password_hash):
        # Migrated from the Django app with an older work factor (or hasher): upgrade it now,
        # the only moment the password is known. Losing a race to a password change is fine.
        replace_password_hash(username, account.user_id, account.password_hash, hash_password(password))
        logger.info("Password re-hashed at today's work factor", extra={"user_id": account.user_id})
    logger.info("Signed in", extra={"user_id": account.user_id})
    # Both tokens belong to this sign-in (their `fam`), which logout signs out as a whole.
    generation, sign_in_id = account.token_generation, new_sign_in()
    return {
        "access": issue_token(account.user_id, "access", generation=generation, family=sign_in_id),
        "refresh": issue_token(account.user_id, "refresh", generation=generation, family=sign_in_id),
    }


def _blacklisted() -> AuthenticationFailed:
    return AuthenticationFailed(REVOKED_MESSAGE, code="token_not_valid")


def refresh_access(refresh_token: str) -> dict[str, str]:
    """A new access token (and, with rotation on, a new refresh token replacing this one)."""
    token = decode_token(refresh_token, "refresh")
    user_id = token.user_id
    # A refresh token outlives a deactivation, a deletion, a password change or a logout: the
    # account and the revocation records decide, not the token.
    state = refresh_state(user_id, token.jti, token.family)
    if not state.is_active:
        logger.info("Refresh rejected: no active account", extra={"user_id": user_id})
        raise AuthenticationFailed(INACTIVE_MESSAGE, code="user_inactive")
    rotating = settings.rotate_refresh_tokens()
    if state.revoked and rotating and not state.family_revoked:
        _revoke_stolen_family(user_id, token.family)
    if state.revoked or state.family_revoked or token.generation != state.token_generation:
        logger.info("Refresh rejected: token revoked", extra={"user_id": user_id})
        raise _blacklisted()
    access = issue_token(user_id, "access", generation=state.token_generation, family=token.family)
    if not rotating:
        logger.info("Access token refreshed", extra={"user_id": user_id})
        return {"access": access}
    if not revoke_once(token.jti, token.expires_at):
        # Another refresh with this very token got there first: one of them is not the owner.
        _revoke_stolen_family(user_id, token.family)
        raise _blacklisted()
    logger.info("Refresh token rotated", extra={"user_id": user_id})
    return {"access": access, "refresh": issue_token(user_id, "refresh", generation=state.token_generation, family=token.family)}


def _revoke_stolen_family(user_id: int, family: str) -> None:
    # simplejwt's rotation treats a rotated token presented again as stolen: every token of
    # its sign-in stops working, the thief's and the owner's (access tokens too), who signs in again.
    logger.warning("Rotated refresh token reused: revoking its family", extra={"user_id": user_id})
    now = time.time()
    record_sign_out(user_id, family, _last_expiry(now), now)


def _last_expiry(now: float, expires_at: float = 0) -> int:
    """When every token of a sign-in issued until `now` has expired (`expires_at`: a token of it
    known to live longer, issued under a longer lifetime)."""
    longest = max(settings.access_token_lifetime(), settings.refresh_token_lifetime())
    return max(math.ceil(expires_at), math.ceil(now) + longest)


def sign_out(refresh_token: str) -> None:
    """Logout: sign out the refresh token's sign-in, i.e. that refresh token and every access
    token issued with it (other sign-ins of the account keep working)."""
    token = decode_token(refresh_token, "refresh")
    now = time.time()
    record_sign_out(token.user_id, token.family, _last_expiry(now, token.expires_at), now)
    logger.info("Signed out", extra={"user_id": token.user_id})
