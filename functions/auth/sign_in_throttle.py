"""Sign-in tries counted per username over the last 15 minutes (DynamoDB access and rule).

Item: PK=SIGNIN#<username> SK=TRIES  try0 … try9 (unix seconds each slot was last taken),
      expires_at (TTL: well after the newest try has left the window)

Ten slots per username. A sign-in takes a slot before any password is checked: a slot is free
when it was never taken or was taken 15 minutes ago or more, and taking it is one conditional
UpdateItem, so concurrent tries cannot all slip past a count they read at the same moment (40
at once for one username: 10 are checked, 30 get 429). A failed try keeps its slot for 15
minutes; a correct password frees every slot. So at most 10 failures are checked in any 15
minutes, a sliding window and not one aligned to the clock. With no slot free the answer is 429
(with Retry-After: until the oldest slot frees), whether the password is right or not, so the
429s teach a guesser nothing. Counting by the username as typed, whether or not an account has
it, means the answers never say which usernames exist. Someone failing on purpose can keep one
username throttled, 10 requests per 15 minutes (see docs/architecture.md for what a deployment
can add).
"""

import secrets
import time
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from shop_common import settings
from shop_common.dynamo import client, to_attributes
from shop_common.errors import TooManyAttempts

MAX_FAILURES = 10
WINDOW_SECONDS = 15 * 60
SLOTS = tuple(f"try{n}" for n in range(MAX_FAILURES))
_clock = time.time  # replaceable in tests, which must not wait 15 minutes

_THROTTLED = "Too many failed sign-ins for this username; try again later."


def counter_key(username: str) -> dict[str, str]:
    return {"PK": f"SIGNIN#{username}", "SK": "TRIES"}


def _now() -> int:
    return int(_clock())


def _taken_within_window(item: Mapping[str, Any], now: int) -> dict[str, int]:
    """The slots still counting at `now`: slot name -> when it was taken."""
    taken = {slot: int(item[slot]) for slot in SLOTS if slot in item}
    return {slot: at for slot, at in taken.items() if at > now - WINDOW_SECONDS}


def reserve_try(username: str, tries: Mapping[str, Any]) -> None:
    """Take a free slot for this sign-in, atomically; TooManyAttempts (429) when none is free.

    `tries` is the tries item as read with the login item. A slot that another try took first
    fails the condition: it counts from now on, and another free slot is tried. Each lost race
    takes one slot away, so at most MAX_FAILURES conditional writes are made."""
    table, key = settings.table_name(), to_attributes(counter_key(username))
    now = _now()
    counting = _taken_within_window(tries, now)
    while True:
        free = [slot for slot in SLOTS if slot not in counting]
        if not free:
            raise TooManyAttempts(_THROTTLED, max(1, min(counting.values()) + WINDOW_SECONDS - now))
        slot = free[secrets.randbelow(len(free))]  # spread concurrent tries over the free slots
        try:
            client().update_item(
                TableName=table,
                Key=key,
                UpdateExpression="SET #slot = :now, expires_at = :expires",
                ConditionExpression="attribute_not_exists(#slot) OR #slot <= :cutoff",
                ExpressionAttributeNames={"#slot": slot},
                ExpressionAttributeValues=to_attributes(
                    {":now": now, ":cutoff": now - WINDOW_SECONDS, ":expires": now + 2 * WINDOW_SECONDS}
                ),
            )
            return
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            counting[slot] = now  # taken by a concurrent try (the newest there can be)


def clear_tries(username: str) -> None:
    """A correct password: every slot is free again (this try's included)."""
    client().delete_item(TableName=settings.table_name(), Key=to_attributes(counter_key(username)))
