"""Signing in and refreshing tokens: the rules, independent of HTTP."""

from aws_lambda_powertools import Logger

from accounts import find_credentials
from passwords import verify_password
from shop_common.errors import AuthenticationFailed
from shop_common.tokens import issue_token, verify_token

logger = Logger(child=True)

# The Django app's (simplejwt's) wording, kept for clients that match on it.
_BAD_CREDENTIALS = "No active account found with the given credentials"


def sign_in(username: str, password: str) -> dict[str, str]:
    account = find_credentials(username)
    # verify_password does the full KDF work even without an account: timing reveals nothing.
    password_ok = verify_password(password, account.password_hash if account else None)
    if account is None or not password_ok or not account.is_active:
        # Never log the username: people type their password into it by mistake.
        logger.info("Sign-in rejected", extra={"known_account": account is not None})
        raise AuthenticationFailed(_BAD_CREDENTIALS, code="no_active_account")
    logger.info("Signed in", extra={"user_id": account.user_id})
    return {
        "access": issue_token(account.user_id, "access"),
        "refresh": issue_token(account.user_id, "refresh"),
    }


def refresh_access(refresh_token: str) -> dict[str, str]:
    user_id = verify_token(refresh_token, "refresh")
    logger.info("Access token refreshed", extra={"user_id": user_id})
    return {"access": issue_token(user_id, "access")}
