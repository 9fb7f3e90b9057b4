"""DynamoDB access for refresh: the account's state and the revocation of refresh tokens.

Items:
- revoked token   PK=REVOKED#<jti>     SK=REVOKED  expires_at  (rotation; TTL: the token's own
                                                                expiry, when it is useless anyway)
- revoked family  PK=REVOKED#<family>  SK=FAMILY   expires_at  (reuse of a rotated token, before
                                                                the profile's `signed_out` map;
                                                                read, no longer written; TTL: the
                                                                refresh lifetime)
A logout, or the reuse of a rotated token, now marks the sign-in in the profile's `signed_out`
map (sign_outs.py), where every signed-in request sees it too.

Refresh reads the profile (with its sign-in's `signed_out` entry) and both revocation items in
one strongly consistent BatchGetItem: one call, up to three small items, so a logout, a
deactivation, a password change or a theft detected counts from the very next refresh.
"""

import math
from dataclasses import dataclass

from botocore.exceptions import ClientError

from shop_common import settings
from shop_common.account_state import SIGNED_OUT
from shop_common.dynamo import batch_get, client, from_attributes, to_attributes
from shop_common.keys import profile_key


@dataclass(frozen=True)
class RefreshState:
    """What refresh needs to know about an account and a token."""

    is_active: bool
    token_generation: int
    revoked: bool
    # The token's sign-in is signed out (logout) or revoked (reuse of a rotated token).
    family_revoked: bool


def _revoked_key(jti: str) -> dict[str, str]:
    return {"PK": f"REVOKED#{jti}", "SK": "REVOKED"}


def _family_key(family: str) -> dict[str, str]:
    return {"PK": f"REVOKED#{family}", "SK": "FAMILY"}


def _name(key: dict[str, str]) -> tuple[str, str]:
    return key["PK"], key["SK"]


def refresh_state(user_id: int, jti: str, family: str) -> RefreshState:
    """No profile (deleted, never existed) or a profile without `is_active` (written before the
    flag moved there, see `shopctl migrate`) is inactive: fail closed."""
    keys = [to_attributes(key) for key in (profile_key(user_id), _revoked_key(jti), _family_key(family))]
    items = batch_get(
        keys, consistent=True, projection=f"PK, SK, is_active, token_generation, {SIGNED_OUT}.#family", names={"#family": family}
    )
    found = {(str(values["PK"]), str(values["SK"])): values for values in map(from_attributes, items)}
    profile = found.get(_name(profile_key(user_id)), {})
    return RefreshState(
        is_active=profile.get("is_active") is True,
        token_generation=int(profile.get("token_generation", 0)),
        revoked=_name(_revoked_key(jti)) in found,
        family_revoked=_name(_family_key(family)) in found or family in (profile.get(SIGNED_OUT) or {}),
    )


def revoke_once(jti: str, expires_at: float) -> bool:
    """Revoke a refresh token being rotated; False if it was already revoked (another refresh
    with the same token won the race): the caller treats that as reuse."""
    try:
        client().put_item(
            TableName=settings.table_name(),
            Item=to_attributes({**_revoked_key(jti), "expires_at": math.ceil(expires_at)}),
            ConditionExpression="attribute_not_exists(PK)",
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True
