"""Creating accounts: the items a new account is written as (see docs/data-model.md), for the auth
function's sign-up and `shopctl`'s account commands and imports alike.

Items:
- login      PK=USERNAME#<username>  SK=USERNAME  user_id, password_hash, is_active, token_generation
- profile    PK=USER#<user id>       SK=PROFILE   id, username, email, first_name, last_name, is_staff, is_active,
                                                  token_generation, date_joined
- email      PK=EMAIL#<email>        SK=EMAIL     user_id    (unique emails; "user by email")
- folded     PK=USERFOLD#<casefolded username>  SK=USERFOLD  user_id  (no two usernames differing only in case)
- counter    PK=COUNTER              SK=USER      last_id    (integer user ids, as the Django app had)

Login reads one item. Usernames are case-sensitive, as in Django, so migrated users keep theirs;
but, as Django 4.2+ does at sign-up, a new username may not differ from an existing one only in
case (`Admin` beside `admin`): the folded claim, put with the account, refuses it. The profile
keeps the folded form it claimed (`folded_username`): `shopctl migrate` claims it for accounts
made before (Django apps older than 4.2 allowed case-only duplicates: the first account keeps
the claim, the others keep their usernames).
`is_active` is kept on both the login item (sign-in reads it by username) and the profile item
(refresh reads it by user id, the only thing a token names; the orders function checks it inside
the order's transaction). Both are written in one transaction, never one without the other;
so is `token_generation` (absent: 0), which a password change increments to revoke every
refresh token issued before it (refresh tokens carry the generation they were issued in).
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from shop_common import settings
from shop_common.dynamo import TransactionCancelled, client, from_attributes, set_at_least, to_attributes, transact_write
from shop_common.keys import (
    USER_COUNTER_KEY,
    directory_keys,
    folded_claim_key,
    folded_username,
    login_key,
    normalize_username,
    profile_key,
)
from shop_common.passwords import hash_password

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


class AccountExists(Exception):
    """The username or email is taken; `field` says which."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _next_user_id() -> int:
    response = client().update_item(
        TableName=settings.table_name(),
        Key=to_attributes(USER_COUNTER_KEY),
        UpdateExpression="ADD last_id :one",
        ExpressionAttributeValues=to_attributes({":one": 1}),
        ReturnValues="UPDATED_NEW",
    )
    return int(from_attributes(response["Attributes"])["last_id"])


def reserve_user_ids(last_id: int) -> None:
    """Move the user id counter to at least `last_id`, so that sign-up never hands out an id
    up to it (users imported with their own ids). Never moves it back."""
    set_at_least(settings.table_name(), USER_COUNTER_KEY, "last_id", last_id)


@dataclass(frozen=True)
class NewAccount:
    """An account as it is written: a new sign-up's, or one moved over with its own id, flags,
    date and (Django) password hash."""

    user_id: int
    username: str  # normalised (normalize_username)
    password_hash: str
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    is_staff: bool = False
    is_active: bool = True
    date_joined: str = ""  # ISO 8601; empty: now
    # Whether the account claims its case-folded username (USERFOLD#...): every new account
    # does; of accounts moved over that differ only in case, the first one (as `shopctl migrate`).
    claims_folded_username: bool = True


def account_writes(account: NewAccount) -> "list[TransactWriteItemTypeDef]":
    """The puts creating an account, for one transaction: the login item, the profile, the
    folded username's claim and, with an email, its claim, each on condition that its key is free
    (a taken username is the first or third write's condition, a taken email the last's)."""
    login = {
        **login_key(account.username),
        "user_id": account.user_id,
        "password_hash": account.password_hash,
        "is_active": account.is_active,
    }
    profile = {
        **profile_key(account.user_id),
        "id": account.user_id,
        "username": account.username,
        "email": account.email,
        "first_name": account.first_name,
        "last_name": account.last_name,
        # Named only when set (absent reads as False): so the sign-up function's role, which may
        # put profiles, is never granted the is_staff attribute (docs/security.md).
        **({"is_staff": True} if account.is_staff else {}),
        "is_active": account.is_active,
        "date_joined": account.date_joined or datetime.now(UTC).isoformat(),
        **directory_keys(account.username),
    }
    items = [login, profile]
    if account.claims_folded_username:
        profile["folded_username"] = folded_username(account.username)
        items.append({**folded_claim_key(account.username), "user_id": account.user_id})
    if account.email:
        items.append({"PK": f"EMAIL#{account.email.lower()}", "SK": "EMAIL", "user_id": account.user_id})
    return [
        {
            "Put": {
                "TableName": settings.table_name(),
                "Item": to_attributes(item),
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        }
        for item in items
    ]


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
    username = normalize_username(username)
    account = NewAccount(
        user_id=_next_user_id(),
        username=username,
        password_hash=password_hash or hash_password(password or ""),
        email=email,
        first_name=first_name,
        last_name=last_name,
        is_staff=is_staff,
    )
    try:
        transact_write(account_writes(account))
    except TransactionCancelled as cancelled:
        if any(cancelled.condition_failed(index) for index in range(3)):  # login or folded claim
            raise AccountExists("username", f"username {username!r} is already taken") from cancelled
        raise AccountExists("email", f"email {email!r} is already taken") from cancelled
    return account.user_id
