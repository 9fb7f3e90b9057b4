"""DynamoDB access for a signed-in user's own account: the profile and its email claim, and the
stronger hash sign-in swaps in (a password change is `shop_common.password_store`'s).

Every write is one transaction that names the state it was computed from (the email read, the
password hash read, the token generation read) in its conditions, so concurrent changes cannot
interleave: the loser is told to read again. An email is unique because its claim item
`EMAIL#<lower-case email>` is put with `attribute_not_exists(PK)` in the same transaction.
"""

from typing import TYPE_CHECKING, Any

from shop_common import settings
from shop_common.dynamo import TransactionCancelled, to_attributes, transact_write
from shop_common.keys import login_key, profile_key
from shop_common.profiles import UNCHANGED_GENERATION, AccountChanged, Profile

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


class EmailTaken(Exception):
    """Another account holds that email (compared case-insensitively)."""


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
