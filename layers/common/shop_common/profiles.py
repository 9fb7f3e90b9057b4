"""A user's profile item: its key, its values, and what the API shows of it.

The auth function reads and writes profiles, the staff users function lists them and sets their
flags; the orders function checks, inside each order's
transaction, that the customer's profile exists and is active; the events function publishes a
new profile (`user.registered`) exactly as `POST /api/register` shows it.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shop_common import settings
from shop_common.dynamo import client, from_attributes, to_attributes
from shop_common.keys import profile_key

# What the API shows of a profile (`GET /api/me`, `POST /api/register`).
PUBLIC_FIELDS = ("id", "username", "email", "first_name", "last_name", "is_staff", "date_joined")


# A write's condition that the token generation read is still the item's (profiles written
# before generations have none): a deactivation or a password change moves it on.
UNCHANGED_GENERATION = "(attribute_not_exists(token_generation) OR token_generation = :old_generation)"


class AccountChanged(Exception):
    """The account changed (or was deactivated) since it was read: read it again."""


@dataclass(frozen=True)
class Profile:
    id: int
    username: str
    email: str
    first_name: str
    last_name: str
    is_staff: bool
    is_active: bool
    date_joined: str
    token_generation: int


def profile_from_item(item: Mapping[str, Any]) -> Profile:
    values = from_attributes(item)
    return Profile(
        id=int(values["id"]),
        username=str(values["username"]),
        email=str(values.get("email", "")),
        first_name=str(values.get("first_name", "")),
        last_name=str(values.get("last_name", "")),
        is_staff=bool(values.get("is_staff", False)),
        is_active=values.get("is_active") is True,
        date_joined=str(values.get("date_joined", "")),
        token_generation=int(values.get("token_generation", 0)),
    )


def public(profile: Profile) -> dict[str, Any]:
    return {field: getattr(profile, field) for field in PUBLIC_FIELDS}


def read_profile(user_id: int) -> Profile | None:
    """The profile as last written (a consistent read), or None when there is no such user."""
    response = client().get_item(TableName=settings.table_name(), Key=to_attributes(profile_key(user_id)), ConsistentRead=True)
    if "Item" not in response:
        return None
    return profile_from_item(response["Item"])
