"""DynamoDB access for logout: the profile's map of signed-out sign-ins.

`POST /api/logout` signs out the sign-in its refresh token belongs to (its `fam` claim): the
refresh token, every access token refreshed with it and, with rotation on, every refresh token
rotated from it. The profile holds `signed_out`, a map of such sign-ins to the time their last
token expires; every signed-in request reads the entry of its own token's sign-in with the
account's flags (`shop_common.account_state`), and refresh reads it with the profile.

The map is bounded, so the profile stays small (every signed-in request reads it, in one read
unit): at most `MAX_SIGNED_OUT` entries. Expired entries are removed when the map is full; a
logout that finds it full of live entries signs the account out everywhere instead (the next
token generation, on the profile and the login item together, and an empty map). A user who
signs out more than 50 times within a refresh-token lifetime thus signs in again on the other
devices too, which is the safe side.
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shop_common import settings
from shop_common.account_state import SIGNED_OUT
from shop_common.dynamo import TransactionCancelled, client, condition_failed, from_attributes, to_attributes, transact_write
from shop_common.errors import Conflict
from shop_common.keys import login_key, profile_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

MAX_SIGNED_OUT = 50
_ATTEMPTS = 4  # each lost to a concurrent logout, deactivation or password change of the same account


@dataclass(frozen=True)
class _SignedOut:
    username: str
    entries: dict[str, int] = field(default_factory=dict)
    has_map: bool = False


def sign_out(user_id: int, family: str, until: int, now: float) -> None:
    """Record the sign-in `family` as signed out until `until` (unix seconds). Idempotent; an
    account that no longer exists needs nothing (none of its tokens works)."""
    for _ in range(_ATTEMPTS):
        if _add_entry(user_id, family, until):
            return
        state = _read(user_id)
        if state is None or family in state.entries:
            return
        if not state.has_map:
            done = _create_map(user_id, family, until)
        elif expired := [name for name, ends in state.entries.items() if ends <= now]:
            _remove_entries(user_id, expired)
            done = False  # room made: add the entry next time round
        else:
            done = _sign_out_everywhere(user_id, state.username)
        if done:
            return
    raise Conflict("The account kept changing; please retry.", code="conflict")


def _update(user_id: int, **request: Any) -> bool:
    """One conditional UpdateItem of the profile; False if its condition failed."""
    try:
        client().update_item(TableName=settings.table_name(), Key=to_attributes(profile_key(user_id)), **request)
    except ClientError as error:
        if not condition_failed(error):
            raise
        return False
    return True


def _add_entry(user_id: int, family: str, until: int) -> bool:
    """The usual logout: one UpdateItem, while the map exists and has room."""
    return _update(
        user_id,
        UpdateExpression=f"SET {SIGNED_OUT}.#family = :until",
        ConditionExpression=f"attribute_exists({SIGNED_OUT}) AND size({SIGNED_OUT}) < :most",
        ExpressionAttributeNames={"#family": family},
        ExpressionAttributeValues=to_attributes({":until": until, ":most": MAX_SIGNED_OUT}),
    )


def _create_map(user_id: int, family: str, until: int) -> bool:
    """The account's first logout (the map does not exist yet)."""
    return _update(
        user_id,
        UpdateExpression=f"SET {SIGNED_OUT} = :entries",
        ConditionExpression=f"attribute_exists(PK) AND attribute_not_exists({SIGNED_OUT})",
        ExpressionAttributeValues=to_attributes({":entries": {family: until}}),
    )


def _remove_entries(user_id: int, families: list[str]) -> None:
    names = {f"#f{index}": family for index, family in enumerate(families)}
    _update(
        user_id,
        UpdateExpression="REMOVE " + ", ".join(f"{SIGNED_OUT}.{name}" for name in names),
        ConditionExpression=f"attribute_exists({SIGNED_OUT})",
        ExpressionAttributeNames=names,
    )


def _read(user_id: int) -> _SignedOut | None:
    response = client().get_item(
        TableName=settings.table_name(),
        Key=to_attributes(profile_key(user_id)),
        ProjectionExpression=f"PK, username, {SIGNED_OUT}",
        ConsistentRead=True,
    )
    if "Item" not in response:
        return None
    values = from_attributes(response["Item"])
    entries = values.get(SIGNED_OUT)
    return _SignedOut(
        username=str(values["username"]),
        entries={str(name): int(ends) for name, ends in (entries or {}).items()},
        has_map=entries is not None,
    )


def _sign_out_everywhere(user_id: int, username: str) -> bool:
    """The next token generation on the login item and the profile, and an empty map: every
    token of the account stops working, this sign-in's included."""
    table = settings.table_name()
    one = to_attributes({":one": 1})
    writes: list[TransactWriteItemTypeDef] = [
        {
            "Update": {
                "TableName": table,
                "Key": to_attributes(login_key(username)),
                "UpdateExpression": "ADD token_generation :one",
                "ConditionExpression": "user_id = :id",
                "ExpressionAttributeValues": {**one, **to_attributes({":id": user_id})},
            }
        },
        {
            "Update": {
                "TableName": table,
                "Key": to_attributes(profile_key(user_id)),
                "UpdateExpression": f"ADD token_generation :one REMOVE {SIGNED_OUT}",
                "ConditionExpression": "username = :username",
                "ExpressionAttributeValues": {**one, **to_attributes({":username": username})},
            }
        },
    ]
    try:
        transact_write(writes)
    except TransactionCancelled:
        return False
    return True
