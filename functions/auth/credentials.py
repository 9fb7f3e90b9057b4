"""DynamoDB access for sign-in: the login item of a username, read with its sign-in tries (the
items are written by `shop_common.new_accounts`; see docs/data-model.md)."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shop_common.dynamo import batch_get, from_attributes, to_attributes
from shop_common.keys import login_key


@dataclass(frozen=True)
class Credentials:
    user_id: int
    password_hash: str
    is_active: bool
    token_generation: int


def find_credentials(
    username: str, tries_key: dict[str, str], tries_attributes: Sequence[str]
) -> tuple[Credentials | None, dict[str, Any]]:
    """The login item of a (normalised) username and its sign-in tries item (`tries_key`, with
    `tries_attributes`; empty when there is none): one strongly consistent BatchGetItem, two items."""
    wanted = ("PK", "user_id", "password_hash", "is_active", "token_generation", *tries_attributes)
    keys = [to_attributes(login_key(username)), to_attributes(tries_key)]
    items = batch_get(keys, consistent=True, projection=", ".join(wanted))
    found = {str(values["PK"]): values for values in map(from_attributes, items)}
    tries = found.get(tries_key["PK"], {})
    login = found.get(login_key(username)["PK"])
    if login is None:
        return None, tries
    credentials = Credentials(
        int(login["user_id"]),
        login["password_hash"],
        bool(login.get("is_active", True)),
        int(login.get("token_generation", 0)),
    )
    return credentials, tries
