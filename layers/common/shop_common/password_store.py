"""The password hash on the login item: read it, and replace it as a password change does (the
auth function's `POST /api/me/password` and `shopctl set-password` alike), moving the account to
the next token generation so every refresh token issued before is revoked."""

from typing import TYPE_CHECKING

from shop_common import settings
from shop_common.dynamo import TransactionCancelled, client, from_attributes, to_attributes, transact_write
from shop_common.keys import login_key, profile_key
from shop_common.profiles import UNCHANGED_GENERATION, AccountChanged, Profile

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


def save_password(profile: Profile, old_hash: str, new_hash: str) -> None:
    """Replace the password hash read as `old_hash` and move the account to the next token
    generation (revoking every refresh token issued before), on both items in one transaction.
    Raises AccountChanged if the password or the generation changed meanwhile: a deactivation
    always moves the generation on, so a user's own change (of a profile read active) cannot land
    after one. The active flag itself is never named: this function's role may not touch it."""
    table = settings.table_name()
    generation = to_attributes({":old_generation": profile.token_generation, ":generation": profile.token_generation + 1})
    writes: list[TransactWriteItemTypeDef] = [
        {
            "Update": {
                "TableName": table,
                "Key": to_attributes(login_key(profile.username)),
                "UpdateExpression": "SET password_hash = :hash, token_generation = :generation",
                "ConditionExpression": f"user_id = :id AND password_hash = :old_hash AND {UNCHANGED_GENERATION}",
                "ExpressionAttributeValues": {
                    **to_attributes({":hash": new_hash, ":id": profile.id, ":old_hash": old_hash}),
                    **generation,
                },
            }
        },
        {
            "Update": {
                "TableName": table,
                "Key": to_attributes(profile_key(profile.id)),
                "UpdateExpression": "SET token_generation = :generation",
                "ConditionExpression": f"attribute_exists(PK) AND {UNCHANGED_GENERATION}",
                "ExpressionAttributeValues": generation,
            }
        },
    ]
    try:
        transact_write(writes)
    except TransactionCancelled as cancelled:
        raise AccountChanged(",".join(cancelled.codes)) from cancelled


def password_hash_of(username: str, user_id: int) -> str | None:
    """The stored hash of this account's login item (None if the username is no longer its)."""
    response = client().get_item(
        TableName=settings.table_name(),
        Key=to_attributes(login_key(username)),
        ProjectionExpression="user_id, password_hash",
        ConsistentRead=True,
    )
    values = from_attributes(response.get("Item", {}))
    if int(values.get("user_id", -1)) != user_id:
        return None
    return str(values["password_hash"])
