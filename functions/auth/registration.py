"""Sign-up: the rules, independent of HTTP. On by default, off with the template parameter
SignUpEnabled; the same rules as Django's UserCreationForm with its default password validators."""

from typing import Any

from aws_lambda_powertools import Logger

from shop_common import settings
from shop_common.errors import InvalidRequest, ShopError
from shop_common.new_accounts import AccountExists, create_user
from shop_common.password_rules import password_problems
from shop_common.profiles import public, read_profile

logger = Logger(child=True)

_TAKEN = {"username": "A user with that username already exists.", "email": "A user with that email already exists."}


class SignUpDisabled(ShopError):
    status_code = 403


def register(username: str, password: str, email: str, first_name: str, last_name: str) -> dict[str, Any]:
    if not settings.sign_up_enabled():
        raise SignUpDisabled("Sign-up is disabled.", code="sign_up_disabled")
    user = {"username": username, "first_name": first_name, "last_name": last_name, "email": email}
    problems = password_problems(password, user)
    if problems:
        raise InvalidRequest("Invalid request.", errors=[{"field": "password", "message": problem} for problem in problems])
    try:
        user_id = create_user(username, password, email=email, first_name=first_name, last_name=last_name)
    except AccountExists as taken:
        raise InvalidRequest("Invalid request.", errors=[{"field": taken.field, "message": _TAKEN[taken.field]}]) from taken
    profile = read_profile(user_id)
    if profile is None:  # only if deleted within the last milliseconds
        raise InvalidRequest("Invalid request.", errors=[{"field": "username", "message": _TAKEN["username"]}])
    logger.info("Signed up", extra={"user_id": user_id})
    return public(profile)
