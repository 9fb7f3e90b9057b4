"""DynamoDB access for the staff check: a signed-in user's `is_staff` and `is_active` flags.

A token names only the user id, so the flags are read from the profile item by key: one
strongly consistent GetItem of three attributes, so a revoked staff flag or a deactivated
account takes effect at the next request.
"""

from dataclasses import dataclass

from shop_common import settings
from shop_common.dynamo import client, from_attributes, to_attributes
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
