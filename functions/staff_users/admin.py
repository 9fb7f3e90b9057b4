"""Staff only: list users by username prefix, and activate, deactivate, promote or demote one.

Staff is the profile's `is_staff`, read (with `is_active`) on every staff request: the access
token names only the user, so a demotion counts from the next request. A staff user cannot
change their own flags here, and a change is written only while its author is still active
staff (checked in the same transaction): so the last active staff account cannot be demoted or
deactivated over the API, not even by two staff demoting each other at once.
"""

from dataclasses import replace
from typing import Any

from aws_lambda_powertools import Logger

from shop_common.cursors import decode_cursor, encode_cursor
from shop_common.errors import InvalidRequest, NotFound, PermissionDenied
from shop_common.profiles import PUBLIC_FIELDS, Profile, read_profile
from staff_users.store import AccountChanged, NoLongerStaff, save_flags, users_page

logger = Logger(child=True)

_AFTER = "u"  # cursor tag: the page holds users after this user id's username


def listed(profile: Profile) -> dict[str, Any]:
    return {**{field: getattr(profile, field) for field in PUBLIC_FIELDS}, "is_active": profile.is_active}


def list_users(prefix: str, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    after: Profile | None = None
    if cursor:
        after = read_profile(decode_cursor(cursor, _AFTER)[1])
        if after is None:  # that user was deleted meanwhile: the cursor no longer says where
            raise InvalidRequest("Invalid cursor.", errors=[{"field": "cursor", "message": "Not a cursor this API issued."}])
    profiles, more = users_page(prefix, limit, after)
    next_cursor = encode_cursor(_AFTER, profiles[-1].id) if more else None
    return [listed(profile) for profile in profiles], next_cursor


def update_user(staff_id: int, user_id: int, is_active: bool | None, is_staff: bool | None) -> dict[str, Any]:
    if user_id == staff_id:
        raise InvalidRequest(
            "Invalid request.", errors=[{"field": "user_id", "message": "Staff cannot change their own active or staff status."}]
        )
    profile = read_profile(user_id)
    if profile is None:
        raise NotFound("No such user.")
    active = profile.is_active if is_active is None else is_active
    staff = profile.is_staff if is_staff is None else is_staff
    try:
        save_flags(profile, active, staff, by_staff=staff_id)
    except NoLongerStaff as demoted:
        raise PermissionDenied("You do not have permission to perform this action.", code="permission_denied") from demoted
    except AccountChanged as changed:
        raise NotFound("No such user.") from changed  # deleted (or renamed) meanwhile
    logger.info(
        "User flags changed by staff", extra={"user_id": user_id, "staff_id": staff_id, "is_active": active, "is_staff": staff}
    )
    return listed(replace(profile, is_active=active, is_staff=staff))
