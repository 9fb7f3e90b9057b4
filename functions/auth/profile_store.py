"""DynamoDB access for a signed-in user's own account: the profile, its email claim, the password.

Every write is one transaction that names the state it was computed from (the email read, the
password hash read, the token generation read) in its conditions, so concurrent changes cannot
interleave: the loser is told to read again. An email is unique because its claim item
`EMAIL#<lower-case email>` is put with `attribute_not_exists(PK)` in the same transaction.
"""

from typing import TYPE_CHECKING, Any

from shop_common import settings
from shop_common.dynamo import TransactionCancelled, client, from_attributes, to_attributes, transact_write
from shop_common.keys import login_key, profile_key
from shop_common.profiles import AccountChanged, Profile

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


class EmailTaken(Exception):
    """Another account holds that email (compared case-insensitively)."""


# The token generation read is still the item's (profiles written before generations have none).
UNCHANGED_GENERATION = "(attribute_not_exists(token_generation) OR token_generation = :old_generation)"


def _email_key(email: str) -> dict[str, Any]:
    return to_attributes({"PK": f"EMAIL#{email.lower()}", "SK": "EMAIL"})


def save_names_and_email(profile: Profile, first_name: str, last_name: str, email: str) -> None:
    """Write the new names and email over `profile` (as read, active). Raises EmailTaken, or
    AccountChanged when the profile's email or token generation changed meanwhile (a
    deactivation always moves the generation on)."""
    table = settings.table_name()
    writes: list[TransactWriteItemTypeDef] = [
        {
            "Update": {
                "TableName": table,
                "Key": to_attributes(profile_key(profile.id)),
                "UpdateExpression": "SET first_name = :first, last_name = :last, email = :email",
                "ConditionExpression": f"email = :old_email AND {UNCHANGED_GENERATION}",
                "ExpressionAttributeValues": to_attributes(
                    {
                        ":first": first_name,
                        ":last": last_name,
                        ":email": email,
                        ":old_email": profile.email,
                        ":old_generation": profile.token_generation,
                    }
                ),
            }
        }
    ]
    claim_changes = email.lower() != profile.email.lower()
    mine = to_attributes({":me": profile.id})
    if claim_changes and email:
        writes.append(
            {
                "Put": {
                    "TableName": table,
                    "Item": {**_email_key(email), **to_attributes({"user_id": profile.id})},
                    "ConditionExpression": "attribute_not_exists(PK) OR user_id = :me",
                    "ExpressionAttributeValues": mine,
                }
            }
        )
    if claim_changes and profile.email:
        writes.append(
            {
                "Delete": {
                    "TableName": table,
                    "Key": _email_key(profile.email),
                    "ConditionExpression": "attribute_not_exists(PK) OR user_id = :me",
                    "ExpressionAttributeValues": mine,
                }
            }
        )
    try:
        transact_write(writes)
    except TransactionCancelled as cancelled:
        if email and claim_changes and cancelled.condition_failed(1):
            raise EmailTaken(email) from cancelled
        raise AccountChanged(",".join(cancelled.codes)) from cancelled


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


def replace_password_hash(username: str, user_id: int, old_hash: str, new_hash: str) -> bool:
    """Swap the stored hash for an equivalent stronger one (the same password); False if it
    changed meanwhile. The token generation stays: nobody is signed out."""
    update: TransactWriteItemTypeDef = {
        "Update": {
            "TableName": settings.table_name(),
            "Key": to_attributes(login_key(username)),
            "UpdateExpression": "SET password_hash = :hash",
            "ConditionExpression": "user_id = :id AND password_hash = :old_hash",
            "ExpressionAttributeValues": to_attributes({":hash": new_hash, ":id": user_id, ":old_hash": old_hash}),
        }
    }
    try:
        transact_write([update])
    except TransactionCancelled:
        return False
    return True
