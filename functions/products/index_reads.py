"""Data access for the filtered listing: the price and stock-state indexes (GSI2, GSI3, keys
only) and the word items of search (docs/data-model.md, "Filters, search and ordering").

Each read is a Query with a bounded `Limit` on one partition; keys-only index items are ~100
bytes, so DynamoDB's 1 MB pages hold ~10,000 of them.
"""

import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from shop_common import settings
from shop_common.dynamo import client, from_attributes, query_page, to_attributes


@dataclass(frozen=True)
class IndexRange:
    """Sort keys from `low` to `high` (both included; None: unbounded) of one or more partitions
    of a keys-only index, read as one sequence merged by sort key."""

    index: str
    partitions: tuple[str, ...]
    low: str | None = None
    high: str | None = None

    @property
    def empty(self) -> bool:
        return self.low is not None and self.high is not None and self.low > self.high

    def narrowed(self, *, low: str | None = None, high: str | None = None) -> "IndexRange":
        new_low = self.low if low is None or (self.low is not None and self.low > low) else low
        new_high = self.high if high is None or (self.high is not None and self.high < high) else high
        return IndexRange(self.index, self.partitions, new_low, new_high)


@dataclass(frozen=True)
class IndexEntry:
    sort_key: str
    product_id: int


def _query(keys: IndexRange, partition: str) -> dict[str, Any]:
    condition = f"{keys.index}PK = :pk"
    values: dict[str, Any] = {":pk": partition}
    if keys.low is not None and keys.high is not None:
        condition += f" AND {keys.index}SK BETWEEN :low AND :high"
        values |= {":low": keys.low, ":high": keys.high}
    elif keys.low is not None:
        condition += f" AND {keys.index}SK >= :low"
        values[":low"] = keys.low
    elif keys.high is not None:
        condition += f" AND {keys.index}SK <= :high"
        values[":high"] = keys.high
    return {
        "TableName": settings.table_name(),
        "IndexName": keys.index,
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": to_attributes(values),
    }


def _entry(keys: IndexRange, item: dict[str, Any]) -> IndexEntry:
    return IndexEntry(item[f"{keys.index}SK"]["S"], int(item["PK"]["S"].removeprefix("PRODUCT#")))


def read_entries(keys: IndexRange, count: int, *, ascending: bool) -> tuple[list[IndexEntry], bool]:
    """The first `count` entries of the range in sort-key order (descending unless `ascending`),
    and whether more follow: one Query of `count` + 1 items per partition."""
    if keys.empty:
        return [], False
    runs: list[list[IndexEntry]] = []
    more = False
    for partition in keys.partitions:
        items, partition_more = query_page({**_query(keys, partition), "ScanIndexForward": ascending}, count)
        runs.append([_entry(keys, item) for item in items])
        more = more or partition_more
    merged = list(heapq.merge(*runs, key=lambda entry: entry.sort_key, reverse=not ascending))
    return merged[:count], more or len(merged) > count


def count_entries(keys: IndexRange, cap: int) -> int:
    """How many entries the range holds, or `cap` when it holds more: a `Select=COUNT` Query of
    at most `cap` + 1 items per partition (one call up to ~10,000 keys)."""
    if keys.empty:
        return 0
    total = 0
    for partition in keys.partitions:
        query: dict[str, Any] = {**_query(keys, partition), "Select": "COUNT", "Limit": cap + 1 - total}
        while total <= cap:
            response = client().query(**query)
            total += int(response.get("Count", 0))
            if "LastEvaluatedKey" not in response:
                break
            query |= {"ExclusiveStartKey": response["LastEvaluatedKey"], "Limit": cap + 1 - total}
        if total > cap:
            return cap
    return total


# --- word items ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WordHit:
    """A product found through one of its word items: its indexed words and price in cents."""

    product_id: int
    words: tuple[str, ...]
    cents: int


def word_hits(partition: str, prefix: str, window: int) -> tuple[list[WordHit], bool]:
    """Word items of a partition whose sort key starts with `prefix`, in sort-key order, at most
    `window`, and whether more were left out: one Query (two past 1 MB)."""
    query = {
        "TableName": settings.table_name(),
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
        "ProjectionExpression": "id, words, cents",
        "ExpressionAttributeValues": to_attributes({":pk": partition, ":prefix": prefix}),
    }
    items, more = query_page(query, window)
    hits = []
    for item in items:
        values = from_attributes(item)
        hits.append(WordHit(int(values["id"]), tuple(values["words"]), int(values["cents"])))
    return hits, more


def words_of_partition(partition: str) -> Iterator[str]:
    """The words a partition indexes (with repeats): one Query, at most 1 MB of it."""
    response = client().query(
        TableName=settings.table_name(),
        KeyConditionExpression="PK = :pk",
        ProjectionExpression="SK",
        ExpressionAttributeValues=to_attributes({":pk": partition}),
    )
    for item in response.get("Items", []):
        yield item["SK"]["S"].rpartition("#")[0]
