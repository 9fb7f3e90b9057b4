"""DynamoDB access for the staff's user administration.

Profiles carry `GSI1PK = USERS`, `GSI1SK = <username>`, so one Query of that index partition
lists users in username order, by prefix. `is_active` changes on the profile and the login item
together (one transaction), as everywhere else; a deactivation also moves both to the next token
generation, so the account's tokens stay revoked after a reactivation. The same transaction checks
that the staff user making the change is still active staff, so two staff demoting each other at
once cannot both succeed (and, since no one changes their own flags, an active staff user always
remains).
"""

from typing import TYPE_CHECKING, Any

from shop_common import settings
from shop_common.dynamo import TransactionCancelled, query_page, to_attributes, transact_write
from shop_common.errors import Conflict
from shop_common.keys import directory_keys, login_key, profile_key
from shop_common.profiles import AccountChanged, Profile, profile_from_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

__all__ = ["AccountChanged", "NoLongerStaff", "save_flags", "users_page"]


class NoLongerStaff(Exception):
    """The staff user making a change was demoted or deactivated since their request was let in."""


def users_page(prefix: str, limit: int, after: Profile | None) -> tuple[list[Profile], bool]:
    """Up to `limit` profiles whose username starts with `prefix`, in username order, after
    `after`; and whether more follow. Reads limit + 1 items (more when DynamoDB pages at 1 MB)."""
    condition = "GSI1PK = :list" + (" AND begins_with(GSI1SK, :prefix)" if prefix else "")
    values = {":list": directory_keys("")["GSI1PK"], **({":prefix": prefix} if prefix else {})}
    query: dict[str, Any] = {
        "TableName": settings.table_name(),
        "IndexName": "GSI1",
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": to_attributes(values),
    }
    if after is not None:
        query["ExclusiveStartKey"] = to_attributes({**profile_key(after.id), **directory_keys(after.username)})
    items, more = query_page(query, limit)
    return [profile_from_item(item) for item in items], more


def save_flags(profile: Profile, is_active: bool, is_staff: bool, by_staff: int) -> None:
    """Write both flags on the profile, and `is_active` on the login item too, all or nothing
    (deactivating: with the next token generation on both), if `by_staff` is still active staff
    (else NoLongerStaff). Raises AccountChanged if the
    account was deleted or its username changed meanwhile."""
    table = settings.table_name()
    revoke = " ADD token_generation :one" if not is_active else ""
    one = {":one": 1} if not is_active else {}
    writes: list[TransactWriteItemTypeDef] = [
        {
            "ConditionCheck": {
                "TableName": table,
                "Key": to_attributes(profile_key(by_staff)),
                "ConditionExpression": "is_staff = :true AND is_active = :true",
                "ExpressionAttributeValues": to_attributes({":true": True}),
            }
        },
        {
            "Update": {
                "TableName": table,
                "Key": to_attributes(profile_key(profile.id)),
                "UpdateExpression": f"SET is_active = :active, is_staff = :staff{revoke}",
                "ConditionExpression": "username = :username",
                "ExpressionAttributeValues": to_attributes(
                    {":active": is_active, ":staff": is_staff, ":username": profile.username, **one}
                ),
            }
        },
        {
            "Update": {
                "TableName": table,
                "Key": to_attributes(login_key(profile.username)),
                "UpdateExpression": f"SET is_active = :active{revoke}",
                "ConditionExpression": "user_id = :id",
                "ExpressionAttributeValues": to_attributes({":active": is_active, ":id": profile.id, **one}),
            }
        },
    ]
    try:
        transact_write(writes)
    except TransactionCancelled as cancelled:
        if cancelled.condition_failed(0):
            raise NoLongerStaff(by_staff) from cancelled
        if cancelled.failed_conditions:
            raise AccountChanged("ConditionalCheckFailed") from cancelled
        # TransactionConflict: another transaction on one of these items at the same moment.
        raise Conflict("The account was being changed at the same moment; try again.") from cancelled
