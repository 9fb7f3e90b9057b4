"""DynamoDB Streams (NEW_AND_OLD_IMAGES) for the embedded store and the tests: each item a write
request changed, with its images before and after, in the order the store applied them, shaped
as Lambda hands stream records to a function.

The images are read under the store's lock, just before and just after moto acts on a request
(`moto_atomic.observe_requests`), for exactly the items the request names (`write_requests`). An
item whose two images are equal gets no record, as DynamoDB writes none for a write that changed
nothing; so a cancelled transaction, a failed condition or a no-op update leave no trace. Writes
that name no items (PartiQL, restores) are not streamed.

Sequence numbers grow from the clock's nanoseconds at start, so a record of a later run never
repeats one of an earlier run (event ids are derived from them). The stream keeps the latest
`capacity` records, as DynamoDB keeps 24 hours: 10,000 by default, whose images take ~30 MB
(100,000 took 300 MB of `make run`'s memory after 10,000 orders); the local pollers read each
record within seconds of its write.
"""

import hashlib
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from shoplocal.store.moto_state import to_json
from shoplocal.store.write_requests import READ_ACTIONS, named_items

Image = dict[str, Any]
DEFAULT_CAPACITY = 10_000


class ItemStream:
    """The stream of one table. `before`/`after` are its `moto_atomic` observer hooks."""

    def __init__(
        self,
        table_name: str,
        *,
        region: str = "us-east-1",
        account: str = "123456789012",
        clock: Callable[[], float] = time.time,
        capacity: int = DEFAULT_CAPACITY,
    ) -> None:
        self.table_name = table_name
        self.region = region
        self._clock = clock
        self._label = datetime.fromtimestamp(clock(), UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        self.arn = f"arn:aws:dynamodb:{region}:{account}:table/{table_name}/stream/{self._label}"
        self._records: deque[dict[str, Any]] = deque(maxlen=capacity)
        self._next_sequence = time.time_ns()
        self._before: list[tuple[Image, Image | None]] | None = None
        self._changed = threading.Condition()

    # --- the store's side, under its lock -----------------------------------------------------

    def before(self, handler: Any) -> None:
        self._before = None
        action = handler._get_action() or ""
        if action in READ_ACTIONS:
            return
        try:
            named = named_items(action, getattr(handler, "params", None) or {})
            table = handler.dynamodb_backend.tables.get(self.table_name)
        except (KeyError, TypeError, AttributeError, ValueError):
            return  # a malformed request changes nothing
        if not named or table is None:
            return
        keys: list[Image] = []
        for table_name, item in named:
            key = _key_of(table, item) if table_name == self.table_name else None
            if key is not None and key not in keys:
                keys.append(key)
        self._before = [(key, _image(table, key)) for key in keys]

    def after(self, handler: Any) -> None:
        before, self._before = self._before, None
        if not before:
            return
        table = handler.dynamodb_backend.tables.get(self.table_name)
        changed = []
        for key, old in before:
            new = _image(table, key) if table is not None else None
            if old != new:
                changed.append(self._record(key, old, new))
        if changed:
            with self._changed:
                self._records.extend(changed)
                self._changed.notify_all()

    def _record(self, key: Image, old: Image | None, new: Image | None) -> dict[str, Any]:
        sequence = str(self._next_sequence)
        self._next_sequence += 1
        change: dict[str, Any] = {
            "ApproximateCreationDateTime": round(self._clock(), 3),
            "Keys": key,
            "SequenceNumber": sequence,
            "SizeBytes": len(repr(old)) + len(repr(new)),
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        }
        if new is not None:
            change["NewImage"] = new
        if old is not None:
            change["OldImage"] = old
        return {
            "eventID": hashlib.sha256(f"{self.arn}/{sequence}".encode()).hexdigest()[:32],
            "eventName": "INSERT" if old is None else "REMOVE" if new is None else "MODIFY",
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": self.region,
            "dynamodb": change,
            "eventSourceARN": self.arn,
        }

    # --- the reader's side ----------------------------------------------------------------------

    def records_after(self, sequence: str | None, limit: int, wait: float = 0.0) -> list[dict[str, Any]]:
        """Up to `limit` records after the one with `sequence` (None: from the oldest kept),
        waiting up to `wait` seconds for one to come."""
        after = int(sequence) if sequence is not None else -1
        deadline = time.monotonic() + wait
        with self._changed:
            while True:
                found = []
                for record in reversed(self._records):  # the newest first: a reader reads what is new
                    if int(record["dynamodb"]["SequenceNumber"]) <= after:
                        break
                    found.append(record)
                remaining = deadline - time.monotonic()
                if found or remaining <= 0:
                    return found[::-1][:limit]
                self._changed.wait(remaining)

    def records(self) -> list[dict[str, Any]]:
        """Every record kept, oldest first."""
        with self._changed:
            return list(self._records)


def _key_of(table: Any, item: Image) -> Image | None:
    """The table's key attributes of a named item or key; None if the request lacks them."""
    names = [table.hash_key_attr, *([table.range_key_attr] if table.range_key_attr else [])]
    if not all(name in item for name in names):
        return None
    return {name: item[name] for name in names}


def _image(table: Any, key: Image) -> Image | None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
    item = table.get_item(DynamoType(key[table.hash_key_attr]), range_key)
    return to_json(item.to_json()["Attributes"]) if item is not None else None
