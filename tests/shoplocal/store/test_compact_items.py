"""The compact item storage answers exactly as moto's own: the same random workload of writes
(puts, updates moving items between index partitions, deletes, batches, applied and cancelled
transactions, items up to 300 KB) goes to two tables, one kept compact and one with moto's own
dicts and none of the store's patches; every write's answer, and every page of every Query,
Scan, GetItem and BatchGetItem after them, must be the same."""

import functools
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_moto_patches import (  # type: ignore[import-not-found]  # the sibling module's workload
    answered,
    backend_table,
    client,
    create_table,
    key_of,
    keys,
    moto_unpatched,
    queries,
    writes,
)

from shoplocal.store import compact_items


def plain_moto_table() -> str:
    """A table whose items moto keeps in its own dicts (as before the compact storage)."""
    name: str = create_table()
    table = backend_table(name)
    table.items = defaultdict(dict)
    return name


def renamed(answer: Any, old: str, new: str) -> Any:
    """An answer with one table's name replaced by another's (they name their table)."""
    if isinstance(answer, dict):
        return {(new if key == old else key): renamed(value, old, new) for key, value in answer.items()}
    if isinstance(answer, list):
        return [renamed(value, old, new) for value in answer]
    return new if answer == old else answer


@contextmanager
def two_tables() -> Iterator[tuple[str, str]]:
    compact, plain = create_table(), plain_moto_table()
    assert compact_items.of(backend_table(compact)) is not None
    assert compact_items.of(backend_table(plain)) is None
    try:
        yield compact, plain
    finally:
        for name in (compact, plain):
            client().delete_table(TableName=name)


def same(call: Callable[[str], Any], compact: str, plain: str) -> Any:
    mine = answered(lambda: call(compact))
    with moto_unpatched():
        theirs = answered(lambda: call(plain))
    assert renamed(mine, compact, plain) == theirs
    return mine


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_compact_items_answer_as_moto_keeps_them(data: st.DataObject) -> None:
    with two_tables() as (compact, plain):
        run_workload(data, compact, plain)


def run_workload(data: st.DataObject, compact: str, plain: str) -> None:
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        for write in data.draw(st.lists(writes("TABLE"), min_size=1, max_size=8)):
            same(functools.partial(renamed_call, write), compact, plain)
        for request in data.draw(st.lists(queries("TABLE"), min_size=1, max_size=3)):
            mine = pages({**request, "TableName": compact}, "query")
            with moto_unpatched():
                theirs = pages({**request, "TableName": plain}, "query")
            assert renamed(mine, compact, plain) == theirs
        for key in data.draw(st.lists(keys, min_size=1, max_size=4, unique_by=lambda key: (key["PK"], key["SK"]))):
            same(functools.partial(get_item, key_of(key), None), compact, plain)
            same(functools.partial(get_item, key_of(key), "note, G1SK"), compact, plain)
    mine = pages({"TableName": compact, "Limit": 3}, "scan")
    with moto_unpatched():
        theirs = pages({"TableName": plain, "Limit": 3}, "scan")
    assert renamed(mine, compact, plain) == theirs
    every_key = [{"PK": {"S": h}, "SK": {"S": r}} for h in ("a", "b") for r in ("1", "x", "30")]
    same(lambda table: client().batch_get_item(RequestItems={table: {"Keys": every_key}}), compact, plain)


def get_item(key: dict[str, Any], projection: str | None, table: str) -> Any:
    return client().get_item(TableName=table, Key=key, **({"ProjectionExpression": projection} if projection else {}))


def pages(request: dict[str, Any], operation: str) -> list[dict[str, Any]]:
    """Every page of a Query or Scan."""
    found = []
    while True:
        page = answered(functools.partial(getattr(client(), operation), **request))
        found.append(page)
        if "LastEvaluatedKey" not in page or len(found) > 40:
            return found
        request = {**request, "ExclusiveStartKey": page["LastEvaluatedKey"]}


def renamed_call(write: Callable[[], Any], table: str) -> Any:
    """Run a drawn write (built for the table "TABLE") against `table`."""
    from unittest import mock

    real = client()

    class Renaming:
        def __getattr__(self, name: str) -> Any:
            method = getattr(real, name)

            def call(**kwargs: Any) -> Any:
                return method(**renamed(kwargs, "TABLE", table))

            return call

    with mock.patch("test_moto_patches.client", return_value=Renaming()):
        return write()
