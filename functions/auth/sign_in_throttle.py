"""Failed sign-ins counted per username, in fixed windows of 15 minutes (DynamoDB access and rule).

Item: PK=SIGNIN#<username> SK=WINDOW#<window number>  failures, expires_at (TTL: the window's end)

After 10 failures in a window, further tries for that username are answered 429 (with
Retry-After: the rest of the window) before any password is checked. Counting by the username
as typed, whether or not an account has it, means the answers never say which usernames exist;
a correct password does not get through a full window either, so a guesser learns nothing from
the 429s. The lock ends with the window: at most 15 minutes, and a correct sign-in clears the
count. Someone who keeps failing on purpose can keep one username throttled, 10 requests per 15
minutes (see docs/architecture.md for what a deployment can add).
"""

import math
import time
from dataclasses import dataclass

from shop_common import settings
from shop_common.dynamo import client, to_attributes

MAX_FAILURES = 10
WINDOW_SECONDS = 15 * 60
_clock = time.time  # replaceable in tests, which must not wait 15 minutes


@dataclass(frozen=True)
class Window:
    number: int
    ends_at: int

    @classmethod
    def now(cls) -> "Window":
        number = math.floor(_clock() / WINDOW_SECONDS)
        return cls(number, (number + 1) * WINDOW_SECONDS)

    def seconds_left(self) -> int:
        return max(1, math.ceil(self.ends_at - _clock()))


def counter_key(username: str, window: Window) -> dict[str, str]:
    return {"PK": f"SIGNIN#{username}", "SK": f"WINDOW#{window.number}"}


def count_failure(username: str, window: Window) -> None:
    client().update_item(
        TableName=settings.table_name(),
        Key=to_attributes(counter_key(username, window)),
        UpdateExpression="ADD failures :one SET expires_at = :end",
        ExpressionAttributeValues=to_attributes({":one": 1, ":end": window.ends_at}),
    )


def clear_failures(username: str, window: Window) -> None:
    client().delete_item(TableName=settings.table_name(), Key=to_attributes(counter_key(username, window)))
