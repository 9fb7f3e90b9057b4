"""The check every signed-in request makes after verifying its access token: is the account
still active, and is this token still wanted?

A token is revoked when any of these holds, all read from the caller's profile item
(`USER#<id>/PROFILE`) by key in one strongly consistent GetItem of five attributes:
- no profile: the account was deleted (or never existed);
- `is_active` is not `true`: the account is deactivated;
- the token's `gen` claim is not the profile's `token_generation`: the password was changed, or
  the account was deactivated, since the token was issued (both move it to the next generation);
- the profile's `signed_out` map holds the token's sign-in (`fam` claim): that sign-in logged out.

So a revocation counts from the very next request, on every function, at the cost of one read
per signed-in request; the staff check reuses the same read (`is_staff`), so a staff request
costs what it cost before. The read is shared with the rest of the request through a context
variable (`request_account`), not cached across requests: a Lambda container answers one
request at a time and a user's next request usually lands on another container, so a cache
would save little and would delay every revocation by its lifetime.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from shop_common import settings
from shop_common.dynamo import client, from_attributes, to_attributes
from shop_common.errors import AuthenticationFailed
from shop_common.keys import profile_key
from shop_common.tokens import VerifiedToken

# The profile's map of signed-out sign-ins: family -> when its last token expires (unix seconds).
SIGNED_OUT = "signed_out"
# simplejwt's wording for a revoked token, as refresh already answers it.
REVOKED_MESSAGE = "Token is blacklisted."
INACTIVE_MESSAGE = "User not found or inactive."


@dataclass(frozen=True)
class AccountState:
    user_id: int
    is_active: bool
    is_staff: bool
    token_generation: int
    # Whether the sign-in asked about (the token's family) is signed out.
    signed_out: bool


_request_account: ContextVar[AccountState | None] = ContextVar("request_account", default=None)


def read_account_state(user_id: int, family: str | None = None) -> AccountState | None:
    """The profile's flags and token state (one strongly consistent GetItem); None when the
    account does not exist. Only the asked family's entry of `signed_out` is read."""
    table, key = settings.table_name(), to_attributes(profile_key(user_id))
    if family is None:
        response = client().get_item(
            TableName=table, Key=key, ProjectionExpression="PK, is_active, is_staff", ConsistentRead=True
        )
    else:
        response = client().get_item(
            TableName=table,
            Key=key,
            ProjectionExpression=f"PK, is_active, is_staff, token_generation, {SIGNED_OUT}.#family",
            ExpressionAttributeNames={"#family": family},
            ConsistentRead=True,
        )
    if "Item" not in response:
        return None
    values = from_attributes(response["Item"])
    return AccountState(
        user_id=user_id,
        # Only a stored `true` counts: a profile written before `is_active` moved there is
        # inactive until `shopctl migrate`, as for refresh and orders.
        is_active=values.get("is_active") is True,
        is_staff=values.get("is_staff") is True,
        token_generation=int(values.get("token_generation", 0)),
        signed_out=bool(family) and family in (values.get(SIGNED_OUT) or {}),
    )


def check_access(token: VerifiedToken) -> AccountState:
    """The account of a verified access token, or AuthenticationFailed (401) when the account is
    gone or deactivated (`user_inactive`) or the token was revoked (`token_not_valid`)."""
    account = read_account_state(token.user_id, token.family)
    if account is None or not account.is_active:
        raise AuthenticationFailed(INACTIVE_MESSAGE, code="user_inactive")
    if account.signed_out or token.generation != account.token_generation:
        raise AuthenticationFailed(REVOKED_MESSAGE, code="token_not_valid")
    return account


@contextmanager
def request_account(account: AccountState) -> Iterator[None]:
    """Make the checked account the current request's (for the staff check) while it runs."""
    reset = _request_account.set(account)
    try:
        yield
    finally:
        _request_account.reset(reset)


def account_of_request(user_id: int) -> AccountState | None:
    """The account this request already checked, if it is `user_id`'s; else None."""
    account = _request_account.get()
    return account if account is not None and account.user_id == user_id else None
