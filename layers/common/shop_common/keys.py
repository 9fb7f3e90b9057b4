"""Where the items live: the table keys that more than one place writes or reads (the functions,
and `shopctl`'s imports, migrations and account commands), in one module (docs/data-model.md).

The account keys are plain values (`to_attributes` makes attribute values of them, as their
readers need); the product, SKU and order guard keys are attribute values already, as every
caller passes them straight to DynamoDB.
"""

import unicodedata
from typing import Any

from shop_common.dynamo import to_attributes

# --- accounts ----------------------------------------------------------------------------------

USER_COUNTER_KEY = {"PK": "COUNTER", "SK": "USER"}  # the last user id given out


def normalize_username(username: str) -> str:
    """NFKC, as Django normalises usernames: "Zoë" typed as e + combining diaeresis is "Zoë"."""
    return unicodedata.normalize("NFKC", username)


def folded_username(username: str) -> str:
    """The form two usernames differing only in case share (after Django's NFKC)."""
    return normalize_username(username).casefold()


def login_key(username: str) -> dict[str, str]:
    """The login item: what sign-in reads by username."""
    return {"PK": f"USERNAME#{username}", "SK": "USERNAME"}


def folded_claim_key(username: str) -> dict[str, str]:
    """The claim that no other username differs from this one only in case."""
    return {"PK": f"USERFOLD#{folded_username(username)}", "SK": "USERFOLD"}


def profile_key(user_id: int) -> dict[str, str]:
    return {"PK": f"USER#{user_id}", "SK": "PROFILE"}


def directory_keys(username: str) -> dict[str, str]:
    """The profile's place in the staff's user list: one GSI1 partition, sorted by username."""
    return {"GSI1PK": "USERS", "GSI1SK": username}


# --- orders ------------------------------------------------------------------------------------


def orders_partition(user_id: int) -> str:
    """The partition of a customer's orders."""
    return f"ORDERS#{user_id}"


def order_sort_key(order_id: int) -> str:
    """An order's sort key in its owner's partition and in the staff index: newest last."""
    return f"ORDER#{order_id:016d}"


def order_guard_key(order_id: int) -> dict[str, Any]:
    """The order id's guard (its owner): an id is taken once, and found without the owner."""
    return to_attributes({"PK": f"ORDER#{order_id}", "SK": "ORDER"})


# --- the catalogue -----------------------------------------------------------------------------


def product_key(product_id: int) -> dict[str, Any]:
    return to_attributes({"PK": f"PRODUCT#{product_id}", "SK": "PRODUCT"})


def sku_claim_key(sku: str) -> dict[str, Any]:
    """The item that makes a SKU unique: written with its product, `attribute_not_exists(PK)`."""
    return to_attributes({"PK": f"SKU#{sku}", "SK": "SKU"})
