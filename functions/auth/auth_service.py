"""Signing in and refreshing tokens: the rules, independent of HTTP."""

from aws_lambda_powertools import Logger

from accounts import find_credentials, normalize_username
from passwords import hash_password, needs_rehash, verify_password
from profile_store import replace_password_hash
from shop_common import settings
from shop_common.errors import AuthenticationFailed, TooManyAttempts
from shop_common.tokens import decode_token, issue_token
from sign_in_throttle import SLOTS, clear_tries, counter_key, reserve_try
from token_store import refresh_state, revoke, revoke_family, revoke_once

logger = Logger(child=True)

# The Django app's (simplejwt's) wording, kept for clients that match on it.
_BAD_CREDENTIALS = "No active account found with the given credentials"
_NO_ACTIVE_USER = "User not found or inactive."


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
    return {
        "access": issue_token(account.user_id, "access"),
        "refresh": issue_token(account.user_id, "refresh", generation=account.token_generation),
    }


def _blacklisted() -> AuthenticationFailed:
    return AuthenticationFailed("Token is blacklisted.", code="token_not_valid")


def refresh_access(refresh_token: str) -> dict[str, str]:
    """A new access token (and, with rotation on, a new refresh token replacing this one)."""
    token = decode_token(refresh_token, "refresh")
    user_id = token.user_id
    # A refresh token outlives a deactivation, a deletion, a password change or a logout: the
    # account and the revocation records decide, not the token.
    state = refresh_state(user_id, token.jti, token.family)
    if not state.is_active:
        logger.info("Refresh rejected: no active account", extra={"user_id": user_id})
        raise AuthenticationFailed(_NO_ACTIVE_USER, code="user_inactive")
    rotating = settings.rotate_refresh_tokens()
    if state.revoked and rotating and not state.family_revoked:
        _revoke_stolen_family(user_id, token.family)
    if state.revoked or state.family_revoked or token.generation != state.token_generation:
        logger.info("Refresh rejected: token revoked", extra={"user_id": user_id})
        raise _blacklisted()
    access = issue_token(user_id, "access")
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
    # its sign-in stops working, the thief's and the owner's, who signs in again.
    logger.warning("Rotated refresh token reused: revoking its family", extra={"user_id": user_id})
    revoke_family(family)


def sign_out(refresh_token: str) -> None:
    """Revoke this refresh token (logout); its revocation expires with it."""
    token = decode_token(refresh_token, "refresh")
    revoke(token.jti, token.expires_at)
    logger.info("Signed out", extra={"user_id": token.user_id})
