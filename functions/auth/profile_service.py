"""A signed-in user's own account: read it, edit names and email, change the password.

The rules, independent of HTTP. Only the names and the email can be edited here: nothing a
request sends reaches `is_staff`, `is_active` or the username (the request model forbids other
fields, and the writes name only these attributes, which IAM enforces as well).
"""

from dataclasses import replace
from typing import Any

from aws_lambda_powertools import Logger

from auth.profile_store import EmailTaken, save_names_and_email
from shop_common.errors import AuthenticationFailed, Conflict, InvalidRequest
from shop_common.password_rules import password_problems
from shop_common.password_store import password_hash_of, save_password
from shop_common.passwords import hash_password, verify_password
from shop_common.profiles import AccountChanged, Profile, public, read_profile

logger = Logger(child=True)

# Attempts when the profile changed between our read and our write (a concurrent edit).
_ATTEMPTS = 3


def _active_profile(user_id: int) -> Profile:
    profile = read_profile(user_id)
    if profile is None or not profile.is_active:
        # The access token is valid, but the account is gone or deactivated.
        raise AuthenticationFailed("User not found or inactive.", code="user_inactive")
    return profile


def get_me(user_id: int) -> dict[str, Any]:
    return public(_active_profile(user_id))


def update_me(user_id: int, changes: dict[str, str]) -> dict[str, Any]:
    for _ in range(_ATTEMPTS):
        profile = _active_profile(user_id)
        first_name = changes.get("first_name", profile.first_name)
        last_name = changes.get("last_name", profile.last_name)
        email = changes.get("email", profile.email)
        try:
            save_names_and_email(profile, first_name, last_name, email)
        except EmailTaken as taken:
            raise InvalidRequest(
                "Invalid request.",
                errors=[{"field": "email", "message": "A user with that email already exists."}],
            ) from taken
        except AccountChanged:
            continue  # read again: deactivated (401 then) or edited concurrently
        logger.info("Profile updated", extra={"user_id": user_id, "fields": sorted(changes)})
        return public(replace(profile, first_name=first_name, last_name=last_name, email=email))
    raise Conflict("The profile was changed concurrently; please retry.", code="conflict")


def change_password(user_id: int, current_password: str, new_password: str) -> None:
    profile = _active_profile(user_id)
    stored_hash = password_hash_of(profile.username, user_id)
    if not verify_password(current_password, stored_hash) or stored_hash is None:
        raise InvalidRequest(
            "Invalid request.",
            errors=[
                {"field": "current_password", "message": "Your old password was entered incorrectly. Please enter it again."}
            ],
        )
    user = {
        "username": profile.username,
        "first_name": profile.first_name,
        "last_name": profile.last_name,
        "email": profile.email,
    }
    problems = password_problems(new_password, user)
    if problems:
        raise InvalidRequest("Invalid request.", errors=[{"field": "new_password", "message": problem} for problem in problems])
    try:
        save_password(profile, stored_hash, hash_password(new_password))
    except AccountChanged as changed:
        _active_profile(user_id)  # deactivated meanwhile: 401
        raise Conflict("The account was changed concurrently; please retry.", code="conflict") from changed
    logger.info("Password changed; refresh tokens issued before are revoked", extra={"user_id": user_id})
