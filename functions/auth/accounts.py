"""DynamoDB access for user accounts (see docs/data-model.md).

Items:
- login      PK=USERNAME#<username>  SK=USERNAME  user_id, password_hash, is_active
- profile    PK=USER#<user id>       SK=PROFILE   id, username, email, first_name, last_name, is_staff, date_joined
- email      PK=EMAIL#<email>        SK=EMAIL     user_id    (unique emails; "user by email")
- counter    PK=COUNTER              SK=USER      last_id    (integer user ids, as the Django app had)

Login reads one item. Usernames are case-sensitive, as in Django, so migrated users keep theirs.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from passwords import hash_password
from shop_common import settings
from shop_common.dynamo import client, from_attributes, to_attributes

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


@dataclass(frozen=True)
class Credentials:
    user_id: int
    password_hash: str
    is_active: bool


class AccountExists(Exception):
    """The username or email is taken."""


def _login_key(username: str) -> dict[str, str]:
    return {"PK": f"USERNAME#{username}", "SK": "USERNAME"}


def find_credentials(username: str) -> Credentials | None:
    response = client().get_item(
        TableName=settings.table_name(),
        Key=to_attributes(_login_key(username)),
        ProjectionExpression="user_id, password_hash, is_active",
    )
    if "Item" not in response:
        return None
    values = from_attributes(response["Item"])
    return Credentials(int(values["user_id"]), values["password_hash"], bool(values.get("is_active", True)))


def _next_user_id() -> int:
    response = client().update_item(
        TableName=settings.table_name(),
        Key=to_attributes({"PK": "COUNTER", "SK": "USER"}),
        UpdateExpression="ADD last_id :one",
        ExpressionAttributeValues=to_attributes({":one": 1}),
        ReturnValues="UPDATED_NEW",
    )
    return int(from_attributes(response["Attributes"])["last_id"])


def create_user(
    username: str,
    password: str | None = None,
    *,
    password_hash: str | None = None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    is_staff: bool = False,
) -> int:
    """Create an account from a password or an existing (e.g. Django) hash; return its id."""
    if (password is None) == (password_hash is None):
        raise ValueError("give exactly one of password and password_hash")
    user_id = _next_user_id()
    table = settings.table_name()
    login = {
        **_login_key(username),
        "user_id": user_id,
        "password_hash": password_hash or hash_password(password or ""),
        "is_active": True,
    }
    profile = {
        "PK": f"USER#{user_id}",
        "SK": "PROFILE",
        "id": user_id,
        "username": username,
        "email": email,
        "first_name": first_name,
        "last_name": last_name,
        "is_staff": is_staff,
        "date_joined": datetime.now(UTC).isoformat(),
    }
    items = [login, profile]
    if email:
        items.append({"PK": f"EMAIL#{email.lower()}", "SK": "EMAIL", "user_id": user_id})
    writes: list[TransactWriteItemTypeDef] = [
        {"Put": {"TableName": table, "Item": to_attributes(item), "ConditionExpression": "attribute_not_exists(PK)"}}
        for item in items
    ]
    try:
        client().transact_write_items(TransactItems=writes)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "TransactionCanceledException":
            raise AccountExists(f"username {username!r} or its email is already taken") from error
        raise
    return user_id
