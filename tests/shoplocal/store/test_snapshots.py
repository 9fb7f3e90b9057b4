"""The embedded store's saved state, in-process: the changes journaled for each write request
rebuild the store exactly (property test against the live moto store), snapshots round-trip,
a journal's torn tail is ignored and damage refused, compaction keeps the state, and the
journal's group commit makes a request wait for its record."""

import json
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REGION, TABLE_NAME, calls_of
from shop_common.dynamo import client
from shoplocal.store import compaction, journal, moto_state, snapshots
from shoplocal.store.changes import changes
from shoplocal.store.journal import JournalError
from shoplocal.store.persistence import Persistence
from shoplocal.store.snapshots import SnapshotError, StoreState
from shoplocal.template import PROJECT_ROOT

ACCOUNT_ID = "123456789012"  # moto's default account, which the in-process tests use


def backend() -> Any:
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[ACCOUNT_ID][REGION]


def items_of(source: Any) -> list[str]:
    """Every item of every table, comparable across backends."""
    return sorted(
        json.dumps([table.name, moto_state.to_json(item.to_json()["Attributes"])], sort_keys=True)
        for table in source.tables.values()
        for item in table.all_items()
    )


def restored(state: StoreState) -> Any:
    from moto.dynamodb.models import DynamoDBBackend

    fresh = DynamoDBBackend(REGION, ACCOUNT_ID)
    moto_state.restore(fresh, state)
    return fresh


def state_of_live_store() -> StoreState:
    state = StoreState()
    snapshots.apply(state, json.loads(json.dumps(moto_state.image_of(backend()))), "image")
    return state


# ---- every write's journaled changes rebuild the store exactly ----

keys = st.sampled_from(["A", "B", "C", "D"])
values = st.recursive(
    st.one_of(
        st.text(max_size=5).map(lambda s: {"S": s}),
        st.integers(-1000, 1000).map(lambda n: {"N": str(n)}),
        st.binary(max_size=5).map(lambda b: {"B": b}),
        st.booleans().map(lambda b: {"BOOL": b}),
        st.just({"NULL": True}),
        st.frozensets(st.text(min_size=1, max_size=3), min_size=1, max_size=3).map(lambda s: {"SS": sorted(s)}),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda v: {"L": v}),
        st.dictionaries(st.sampled_from(["x", "y"]), inner, max_size=2).map(lambda v: {"M": v}),
    ),
    max_leaves=4,
)


def key(pk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": "X"}}


def put(pk: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"TableName": TABLE_NAME, "Item": {**key(pk), "value": value, "count": {"N": "5"}}}


def update(pk: str) -> dict[str, Any]:
    return {
        "TableName": TABLE_NAME,
        "Key": key(pk),
        "UpdateExpression": "ADD #c :minus",
        "ConditionExpression": "attribute_not_exists(PK) OR #c >= :one",
        "ExpressionAttributeNames": {"#c": "count"},
        "ExpressionAttributeValues": {":minus": {"N": "-1"}, ":one": {"N": "1"}},
    }


def delete(pk: str) -> dict[str, Any]:
    return {"TableName": TABLE_NAME, "Key": key(pk), "ConditionExpression": "attribute_exists(PK)"}


def transaction(entries: list[tuple[str, str, dict[str, Any]]], check_absent: str | None) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    for kind, pk, value in entries:
        if kind == "Put":
            items.append({"Put": put(pk, value)})
        elif kind == "Update":
            items.append({"Update": update(pk)})
        else:
            items.append({"Delete": {"TableName": TABLE_NAME, "Key": key(pk)}})
    if check_absent is not None:  # cancels the transaction when the item exists
        items.append(
            {
                "ConditionCheck": {
                    "TableName": TABLE_NAME,
                    "Key": key(check_absent),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            }
        )
    return {"TransactItems": items}


requests = st.one_of(
    st.tuples(st.just("PutItem"), st.builds(put, keys, values)),
    st.tuples(st.just("UpdateItem"), st.builds(update, keys)),
    st.tuples(st.just("DeleteItem"), st.builds(delete, keys)),
    st.tuples(
        st.just("BatchWriteItem"),
        st.dictionaries(keys, st.one_of(st.none(), values), min_size=1, max_size=3).map(
            lambda writes: {
                "RequestItems": {
                    TABLE_NAME: [
                        {"PutRequest": {"Item": put(pk, value)["Item"]}} if value else {"DeleteRequest": {"Key": key(pk)}}
                        for pk, value in writes.items()
                    ]
                }
            }
        ),
    ),
    st.tuples(
        st.just("TransactWriteItems"),
        st.builds(
            transaction,
            st.dictionaries(keys, st.tuples(st.sampled_from(["Put", "Update", "Delete"]), values), min_size=1, max_size=3).map(
                lambda chosen: [(kind, pk, value) for pk, (kind, value) in chosen.items()]
            ),
            st.one_of(st.none(), st.just("Z"), keys),
        ),
    ),
)


def call(action: str, request: dict[str, Any]) -> None:
    method: Callable[..., Any] = getattr(
        client(),
        {
            "PutItem": "put_item",
            "UpdateItem": "update_item",
            "DeleteItem": "delete_item",
            "BatchWriteItem": "batch_write_item",
            "TransactWriteItems": "transact_write_items",
        }[action],
    )
    try:
        method(**request)
        code = None
    except ClientError as error:  # failed conditions and cancelled transactions are part of the workload
        code = error.response["Error"]["Code"]
    assert code in (None, "ConditionalCheckFailedException", "TransactionCanceledException", "ValidationException")


def refusal(action: Callable[[], Any]) -> SnapshotError | None:
    """The SnapshotError `action` raises, if any (any other exception fails the test)."""
    try:
        action()
    except SnapshotError as error:
        return error
    return None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(requests, min_size=1, max_size=12))
def test_the_journaled_changes_of_any_writes_rebuild_the_store_exactly(workload: list[tuple[str, dict[str, Any]]]) -> None:
    state = state_of_live_store()
    for number, (action, request) in enumerate(workload):
        call(action, request)
        ops = changes(action, request, backend())
        # As the journal stores them: JSON text, read back.
        snapshots.apply(state, json.loads(journal.encode(ops).split(b" ", 1)[1]), f"record {number}")
    assert items_of(restored(state)) == items_of(backend())


def test_a_write_the_journal_cannot_attribute_records_every_table() -> None:
    client().put_item(**put("A", {"S": "a"}))
    ops = changes("ExecuteStatement", {"Statement": "UPDATE ..."}, backend())
    state = StoreState()
    snapshots.apply(state, ops, "image")
    assert ops[0] == ["reset"]
    assert items_of(restored(state)) == items_of(backend())


def test_table_changes_are_journaled_as_definitions(tmp_path: Path) -> None:
    client().update_time_to_live(TableName=TABLE_NAME, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"})
    state = StoreState()
    snapshots.apply(state, changes("UpdateTimeToLive", {"TableName": TABLE_NAME}, backend()), "record")
    assert state.tables[TABLE_NAME].definition["TimeToLive"]["AttributeName"] == "expires_at"
    snapshots.apply(state, changes("DeleteTable", {"TableName": "gone"}, backend()), "record")
    assert ["drop", "gone"] in changes("DeleteTable", {"TableName": "gone"}, backend())
    fresh = restored(state)
    assert fresh.get_table(TABLE_NAME).ttl == backend().get_table(TABLE_NAME).ttl
    original, copy = backend().get_table(TABLE_NAME), fresh.get_table(TABLE_NAME)
    assert (copy.schema, copy.attr) == (original.schema, original.attr)
    assert [(i.name, i.schema, i.projection) for i in copy.global_indexes] == [
        (i.name, i.schema, i.projection) for i in original.global_indexes
    ]


# ---- snapshot files ----


def test_a_snapshot_file_round_trips_every_item_binary_included(tmp_path: Path) -> None:
    client().put_item(**put("A", {"M": {"x": {"B": b"\x00\xff"}, "y": {"L": [{"N": "1.50"}]}}}))
    path = tmp_path / "dynamodb.json"
    snapshots.write(state_of_live_store(), path)
    assert items_of(restored(snapshots.read(path))) == items_of(backend())
    assert [p.name for p in tmp_path.iterdir()] == ["dynamodb.json"]  # no temporary file left


def test_a_version_1_snapshot_is_still_read(tmp_path: Path) -> None:
    client().put_item(**put("A", {"S": "a"}))
    state = state_of_live_store()
    path = tmp_path / "dynamodb.json"
    version_1 = {
        "format": snapshots.FORMAT,
        "version": 1,
        "tables": [{"definition": t.definition, "items": list(t.items.values())} for t in state.tables.values()],
    }
    path.write_text(json.dumps(version_1))
    assert items_of(restored(snapshots.read(path))) == items_of(backend())


DEFINITION = {
    "TableName": "t",
    "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
    "GlobalSecondaryIndexes": [],
    "LocalSecondaryIndexes": [],
}
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=4)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    max_leaves=6,
)


def replace_somewhere(document: Any, path: list[int], replacement: Any) -> Any:
    """`document` with the value reached by following `path` (indices into each container's
    children, wrapped around) replaced."""
    if not path or not isinstance(document, dict | list) or not document:
        return replacement
    if isinstance(document, dict):
        name = sorted(document)[path[0] % len(document)]
        return {**document, name: replace_somewhere(document[name], path[1:], replacement)}
    index = path[0] % len(document)
    return [*document[:index], replace_somewhere(document[index], path[1:], replacement), *document[index + 1 :]]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(0, 50), max_size=8), json_values)
def test_a_snapshot_of_any_shape_restores_or_is_refused_with_a_reason(tmp_path: Path, path: list[int], replacement: Any) -> None:
    client().put_item(**put("A", {"M": {"x": {"B": b"1"}}}))
    snapshots.write(state_of_live_store(), tmp_path / "valid.json")
    valid = [json.loads(line) for line in (tmp_path / "valid.json").read_text().splitlines()]  # a line per item
    damaged = tmp_path / "dynamodb.json"
    lines = replace_somewhere(valid, path, replacement)
    damaged.write_text("\n".join(json.dumps(line) for line in (lines if isinstance(lines, list) else [lines])))
    error = refusal(lambda: restored(snapshots.read(damaged)))
    assert error is None or str(error)


def test_a_snapshot_changed_after_it_was_written_is_refused_by_its_checksum(tmp_path: Path) -> None:
    client().put_item(**put("A", {"S": "blue"}))
    folder = tmp_path / "data"
    folder.mkdir()
    snapshots.write(state_of_live_store(), folder / compaction.SNAPSHOT_FILE)
    stream = compaction.merged(folder)
    assert stream.checked  # its items load without a check of each value
    assert TABLE_NAME in {table for table, _, _ in stream.items}
    stream.close()
    # One letter changed in a value: still JSON, still a DynamoDB value, no longer what was written.
    content = (folder / compaction.SNAPSHOT_FILE).read_bytes()
    (folder / compaction.SNAPSHOT_FILE).write_bytes(content.replace(b'"blue"', b'"blew"'))
    stream = compaction.merged(folder)
    error = refusal(lambda: list(stream.items))
    stream.close()
    assert error is not None
    assert "checksum" in str(error)


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_a_journal_record_of_any_shape_applies_or_is_refused_with_a_reason(record: Any) -> None:
    state = StoreState()
    snapshots.apply(state, [["table", DEFINITION]], "setup")
    for candidate in (record, [record], [["put", "t", record]], [["delete", "t", record]], [["table", record]]):
        error = refusal(lambda: snapshots.apply(state, candidate, "record"))  # noqa: B023 - called at once
        assert error is None or "record" in str(error)


# ---- journal segments ----

records = st.lists(
    st.lists(st.lists(st.one_of(st.text(max_size=6), st.integers()), max_size=3), max_size=3), min_size=1, max_size=6
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records, st.data())
def test_a_segment_cut_anywhere_gives_exactly_the_records_before_the_cut(
    tmp_path: Path, written: list[Any], data: st.DataObject
) -> None:
    encoded = [journal.encode(record) for record in written]
    content = b"".join(encoded)
    cut = data.draw(st.integers(0, len(content)))
    path = tmp_path / "segment"
    path.write_bytes(content[:cut])
    segment = journal.read_segment(path)
    ends = [sum(len(e) for e in encoded[: n + 1]) for n in range(len(encoded))]
    complete = sum(1 for end in ends if end <= cut)
    assert segment.records == written[:complete]
    assert segment.torn == (cut not in (0, *ends))
    assert segment.valid_bytes == (ends[complete - 1] if complete else 0)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records, st.data())
def test_a_damaged_record_before_a_complete_one_is_refused(tmp_path: Path, written: list[Any], data: st.DataObject) -> None:
    encoded = [journal.encode(record) for record in [*written, ["last"]]]
    victim = data.draw(st.integers(0, len(encoded) - 2))
    line = bytearray(encoded[victim])
    position = data.draw(st.integers(0, len(line) - 2))  # any byte but the newline
    line[position] = (line[position] + data.draw(st.integers(1, 255))) % 256
    if line[position] == ord("\n"):
        line[position] = ord("x")
    encoded[victim] = bytes(line)
    path = tmp_path / "segment"
    path.write_bytes(b"".join(encoded))
    with pytest.raises(JournalError, match="damaged"):
        journal.read_segment(path)


def saved_folder(folder: Path, segments: list[list[list[Any]]], snapshot_upto: int = 0) -> StoreState:
    """A data folder with a snapshot (of the live store, covering segments before
    `snapshot_upto`) and the given segments of records; returns the state it holds."""
    state = state_of_live_store()
    state.journal = snapshot_upto
    snapshots.write(state, folder / compaction.SNAPSHOT_FILE)
    for offset, segment in enumerate(segments):
        journal.segment_path(folder, snapshot_upto + offset).write_bytes(b"".join(journal.encode(r) for r in segment))
        for record in segment:
            snapshots.apply(state, record, "expected")
    state.journal = snapshot_upto + len(segments)
    return state


def test_compaction_folds_segments_into_the_snapshot_and_deletes_them(tmp_path: Path) -> None:
    client().put_item(**put("A", {"S": "a"}))
    item = {**key("B"), "value": {"S": "b"}}
    expected = saved_folder(tmp_path, [[[["put", TABLE_NAME, item]]], [[["delete", TABLE_NAME, key("A")]]], []], snapshot_upto=3)
    assert compaction.compact(tmp_path, 5)
    assert [n for n, _ in journal.segments(tmp_path)] == [5]
    assert snapshots.read(tmp_path / compaction.SNAPSHOT_FILE).journal == 5
    assert items_of(restored(compaction.load(tmp_path))) == items_of(restored(expected))
    assert not snapshots.temporary_files(tmp_path, compaction.SNAPSHOT_FILE)
    assert not compaction.compact(tmp_path, 5)  # nothing left to fold


def test_a_missing_segment_is_refused(tmp_path: Path) -> None:
    saved_folder(tmp_path, [[], [], []])
    journal.segment_path(tmp_path, 1).unlink()
    with pytest.raises(JournalError, match="missing"):
        compaction.load(tmp_path)


ORPHANING_PARENT = """
import os, subprocess, sys, time
from pathlib import Path
folder = Path(sys.argv[1])
child = subprocess.Popen([sys.executable, "-m", "shoplocal.store.compaction", str(folder), "1"])
deadline = time.monotonic() + 120
while not list(folder.glob(".dynamodb.json.*.tmp")) and child.poll() is None and time.monotonic() < deadline:
    time.sleep(0.001)
os._exit(0)  # as kill -9 would: the compaction, still writing, loses its server
"""


def write_big_snapshot(folder: Path, count: int, text: str) -> None:
    """A snapshot in `folder` of table "big": `count` items "item 0", "item 1"..., each with `text`."""
    state = StoreState()
    snapshots.apply(state, [["table", {**DEFINITION, "TableName": "big"}]], "setup")
    table = state.tables["big"]
    for n in range(count):
        item = {"k": {"S": f"item {n}"}, "text": {"S": text}}
        table.items[table.key_of(item, "setup")] = item
    snapshots.write(state, folder / compaction.SNAPSHOT_FILE)


def test_a_compaction_whose_server_dies_stops_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    write_big_snapshot(tmp_path, 30_000, "x" * 200)
    journal.segment_path(tmp_path, 0).write_bytes(journal.encode([["put", "big", {"k": {"S": "new"}}]]))
    parent = subprocess.run([sys.executable, "-c", ORPHANING_PARENT, str(tmp_path)], cwd=PROJECT_ROOT, timeout=300, check=False)
    assert parent.returncode == 0
    with compaction.exclusive(tmp_path, compaction.COMPACTION_LOCK_FILE, wait=True):
        pass  # the orphan has finished or stopped
    assert not snapshots.temporary_files(tmp_path, compaction.SNAPSHOT_FILE)
    assert len(compaction.load(tmp_path).tables["big"].items) == 30_001  # compacted or not, nothing lost


# ---- group commit ----


class BlockedSync:
    """Stands in for fdatasync: each call waits until released, and is counted."""

    def __init__(self) -> None:
        self.calls = 0
        self.entered = threading.Semaphore(0)
        self.release = threading.Semaphore(0)

    def __call__(self, descriptor: int) -> None:
        self.calls += 1
        self.entered.release()
        assert self.release.acquire(timeout=120)


class FakeHandler:
    def __init__(self, action: str, body: dict[str, Any]) -> None:
        self.action, self.body = action, body

    def _get_action(self) -> str:
        return self.action

    def put_item(self) -> None:  # moto implements the action
        pass


def test_a_write_is_answered_only_once_its_record_is_synced_and_one_sync_serves_many(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync = BlockedSync()
    monkeypatch.setattr(journal, "_sync_data", sync)
    persistence = Persistence(tmp_path, backend)
    persistence.start()
    try:
        client().put_item(**put("A", {"S": "a"}))
        first = persistence.after_request(FakeHandler("PutItem", put("A", {"S": "a"})))
        assert first is not None
        assert sync.entered.acquire(timeout=120)  # the writer is syncing the first record
        answered = threading.Event()

        def answer() -> None:
            first()
            answered.set()

        waiting = threading.Thread(target=answer)
        waiting.start()
        # Ten more writes while the first sync runs: their records wait for the next one.
        later = [persistence.after_request(FakeHandler("PutItem", put("A", {"S": "a"}))) for _ in range(10)]
        read = persistence.after_request(FakeHandler("GetItem", {}))
        waiting.join(timeout=0.2)
        assert not answered.is_set()  # not durable yet: must still be waiting
        sync.release.release()
        assert sync.entered.acquire(timeout=120)  # one sync for all ten
        sync.release.release()
        waiting.join(timeout=120)
        assert answered.is_set()
        for then in [*later, read]:
            assert then is not None
            then()
        assert sync.calls == 2
        assert len(journal.read_segment(journal.segment_path(tmp_path, 0)).records) == 11
    finally:
        sync.release.release()
        for _ in range(3):
            sync.release.release()
        persistence.close()


def test_a_journal_that_cannot_be_written_fails_requests_rather_than_hang(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(descriptor: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(journal, "_sync_data", disk_full)
    writer = journal.JournalWriter(tmp_path, 0, lambda size: False, lambda number: None)
    number = writer.append(journal.encode([["reset"]]))
    with pytest.raises(journal.JournalWriteError, match="No space left"):
        writer.wait(number)
    writer.close()


def test_a_start_compacts_a_journal_past_a_quarter_of_the_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A restart reads at most about 1.25 times the data: a journal a third of the snapshot's size
    is folded in by the start's compaction (a quarter is the line), even when its thread first
    runs once the store is closing (the slowest scheduling there is)."""
    from moto.dynamodb.models import DynamoDBBackend

    from shoplocal.store import persistence

    class CompactionRunsWhenJoined(threading.Thread):
        def start(self) -> None:
            if self.name != "dynamodb-compaction":
                super().start()

        def join(self, timeout: float | None = None) -> None:
            if self.name == "dynamodb-compaction":
                super().start()
            super().join(timeout)

    monkeypatch.setattr(threading, "Thread", CompactionRunsWhenJoined)
    monkeypatch.setattr(persistence, "COMPACT_AT_LEAST_BYTES", 1)
    write_big_snapshot(tmp_path, 300, "x" * 100)
    snapshot_bytes = (tmp_path / compaction.SNAPSHOT_FILE).stat().st_size
    record = journal.encode([["put", "big", {"k": {"S": "new"}, "text": {"S": "y" * 100}}]])
    journal.segment_path(tmp_path, 0).write_bytes(record * (snapshot_bytes // 3 // len(record)))
    fresh = DynamoDBBackend(REGION, ACCOUNT_ID)
    saved = Persistence(tmp_path, lambda: fresh)
    saved.restore()
    saved.start()
    saved.close()  # lets the compaction finish
    assert not journal.segment_path(tmp_path, 0).exists()
    assert snapshots.SnapshotReader(tmp_path / compaction.SNAPSHOT_FILE).journal >= 1


def test_a_restart_with_a_journal_parses_each_item_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Once the journal changed a table, each of the table's snapshot items is parsed (is the
    journal's version newer?) and handed on parsed: parsing it again to load it made a restart of
    880,000 items take 20 s instead of 12. Its whole key is worked out only when its hash key is
    one the journal changed."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType

    write_big_snapshot(tmp_path, 300, "x")
    changed = journal.encode([["put", "big", {"k": {"S": "item 7"}, "text": {"S": "changed"}}]])
    journal.segment_path(tmp_path, 0).write_bytes(changed)

    parsed_for_keys = calls_of(monkeypatch, snapshots, "parse_item")
    keys_worked_out = calls_of(monkeypatch, snapshots.TableState, "key_of")
    loader_orjson = type("LoaderOrjson", (), {"loads": staticmethod(orjson.loads)})  # the loader's, not every module's
    monkeypatch.setattr(moto_state, "orjson", loader_orjson)
    parsed_to_load = calls_of(monkeypatch, loader_orjson, "loads")
    fresh = DynamoDBBackend(REGION, ACCOUNT_ID)
    saved = Persistence(tmp_path, lambda: fresh)
    restored = saved.restore()
    saved.close()
    assert restored is not None
    found = fresh.get_table("big").get_item(DynamoType({"S": "item 7"}), None)
    assert found is not None
    assert found.attrs["text"] == DynamoType({"S": "changed"})
    assert len(fresh.get_table("big").items) == 300
    # 300 snapshot lines (one replaced by the journal's) and the journal's version
    assert len(parsed_for_keys) + len(parsed_to_load) == 301
    assert len(keys_worked_out) <= 2  # the journal's item, and the snapshot's item of that hash key
