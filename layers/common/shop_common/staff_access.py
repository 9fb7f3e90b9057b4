"""The staff check every staff route makes: a signed-in user's `is_staff` and `is_active` flags.

A token names only the user id, so the flags are read from the profile item by key: one
strongly consistent GetItem of three attributes, so a revoked staff flag or a deactivated
account takes effect at the next request. Each function that reads them is granted only these
attributes of profiles (template.yaml).
"""

from dataclasses import dataclass

from shop_common import settings
from shop_common.dynamo import client, from_attributes, to_attributes
from shop_common.errors import AuthenticationFailed, PermissionDenied
from shop_common.profiles import profile_key


@dataclass(frozen=True)
class StaffFlags:
    is_staff: bool
    is_active: bool


def read_staff_flags(user_id: int) -> StaffFlags | None:
    """The profile's flags; None when the account does not exist (deleted)."""
    response = client().get_item(
        TableName=settings.table_name(),
        Key=to_attributes(profile_key(user_id)),
        ProjectionExpression="PK, is_staff, is_active",
        ConsistentRead=True,
    )
    if "Item" not in response:
        return None
    values = from_attributes(response["Item"])
    # Only a stored `true` counts: a profile written before `is_active` moved there is inactive
    # until `shopctl migrate`, as for refresh and orders.
    return StaffFlags(is_staff=values.get("is_staff") is True, is_active=values.get("is_active") is True)


def is_active_staff(user_id: int) -> bool:
    """Whether the user is staff with an active account (one GetItem)."""
    flags = read_staff_flags(user_id)
    return flags is not None and flags.is_active and flags.is_staff


def require_staff(user_id: int) -> None:
    """One GetItem: a deleted or deactivated account is a 401 (as for refresh and orders), a
    customer a 403."""
    flags = read_staff_flags(user_id)
    if flags is None or not flags.is_active:
        raise AuthenticationFailed("User not found or inactive.", code="user_inactive")
    if not flags.is_staff:
        raise PermissionDenied("You do not have permission to perform this action.", code="permission_denied")
