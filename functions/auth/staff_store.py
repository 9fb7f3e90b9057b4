"""DynamoDB access for the staff's user administration.

Profiles carry `GSI1PK = USERS`, `GSI1SK = <username>`, so one Query of that index partition
lists users in username order, by prefix. `is_active` changes on the profile and the login item
together (one transaction), as everywhere else.
"""

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from accounts import directory_keys, login_key
from profile_store import AccountChanged
from shop_common import settings
from shop_common.dynamo import client, query_page, to_attributes
from shop_common.profiles import Profile, profile_from_item, profile_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

__all__ = ["AccountChanged", "save_flags", "users_page"]


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


def save_flags(profile: Profile, is_active: bool, is_staff: bool) -> None:
    """Write both flags on the profile, and `is_active` on the login item too, all or nothing.
    Raises AccountChanged if the account was deleted or its username changed meanwhile."""
    table = settings.table_name()
    writes: list[TransactWriteItemTypeDef] = [
        {
            "Update": {
                "TableName": table,
                "Key": to_attributes(profile_key(profile.id)),
                "UpdateExpression": "SET is_active = :active, is_staff = :staff",
                "ConditionExpression": "username = :username",
                "ExpressionAttributeValues": to_attributes(
                    {":active": is_active, ":staff": is_staff, ":username": profile.username}
                ),
            }
        },
        {
            "Update": {
                "TableName": table,
                "Key": to_attributes(login_key(profile.username)),
                "UpdateExpression": "SET is_active = :active",
                "ConditionExpression": "user_id = :id",
                "ExpressionAttributeValues": to_attributes({":active": is_active, ":id": profile.id}),
            }
        },
    ]
    try:
        client().transact_write_items(TransactItems=writes)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "TransactionCanceledException":
            raise AccountChanged("ConditionalCheckFailed") from error
        raise
