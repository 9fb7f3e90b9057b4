"""The store pages Scan and Query results at DynamoDB's 1 MB limit, so a client reading a large
table gets it in bounded pages (`LastEvaluatedKey`), never the whole table in one response."""

import dataclasses
from typing import Any

from conftest import TABLE_NAME
from shop_common.dynamo import client as typed_client


def client() -> Any:
    """The shop's DynamoDB client, untyped: these tests send every shape of request."""
    return typed_client()


PRODUCTS = 6_000
ONE_MB = 1_048_576


def product(number: int) -> dict[str, Any]:
    return {
        "PK": {"S": f"PRODUCT#{number}"},
        "SK": {"S": "PRODUCT"},
        "GSI1PK": {"S": "CATALOG#0"},
        "GSI1SK": {"S": f"PRODUCT#{number:012d}"},
        "id": {"N": str(number)},
        "name": {"S": f"Product {number}"},
        "description": {"S": "A product of the paging test, described at some length. " * 2},
        "price": {"N": "9.99"},
        "quantity_in_stock": {"N": "5"},
    }


def item_bytes(item: dict[str, Any]) -> int:
    """DynamoDB's measure of an item: attribute names plus values (numbers roughly as digits)."""
    return sum(len(name) + len(str(next(iter(value.values()))).encode()) for name, value in item.items())


def load_products() -> None:
    for start in range(0, PRODUCTS, 25):
        requests = [{"PutRequest": {"Item": product(n)}} for n in range(start, min(start + 25, PRODUCTS))]
        client().batch_write_item(RequestItems={TABLE_NAME: requests})


def read_all(request: dict[str, Any], operation: Any) -> list[dict[str, Any]]:
    pages = []
    while True:
        page = operation(**request)
        pages.append(page)
        if "LastEvaluatedKey" not in page:
            return pages
        request = {**request, "ExclusiveStartKey": page["LastEvaluatedKey"]}


def test_a_scan_and_a_query_of_a_large_table_come_in_pages_of_at_most_1_mb() -> None:
    load_products()
    assert sum(item_bytes(product(n)) for n in range(PRODUCTS)) > ONE_MB  # more than one page of data

    scan_pages = read_all({"TableName": TABLE_NAME}, client().scan)
    query = {
        "TableName": TABLE_NAME,
        "IndexName": "GSI1",
        "KeyConditionExpression": "GSI1PK = :bucket",
        "ExpressionAttributeValues": {":bucket": {"S": "CATALOG#0"}},
    }
    query_pages = read_all(query, client().query)

    for pages in (scan_pages, query_pages):
        assert len(pages) >= 2
        assert all(sum(item_bytes(item) for item in page["Items"]) <= ONE_MB for page in pages)
        ids = [int(item["id"]["N"]) for page in pages for item in page["Items"]]
        assert sorted(ids) == list(range(PRODUCTS))  # every item exactly once
    assert [int(item["id"]["N"]) for page in query_pages for item in page["Items"]] == list(range(PRODUCTS))


class CountedEntries(list[Any]):
    """A partition's sorted entries that count how many of them a request reads."""

    read = 0

    def __getitem__(self, position: Any) -> Any:
        found = super().__getitem__(position)
        CountedEntries.read += len(found) if isinstance(position, slice) else 1
        return found


def test_a_query_page_reads_a_few_of_its_partitions_entries_however_many_there_are(monkeypatch: Any) -> None:
    """A page of 5 from a partition of 6,000 reads a few dozen entries (the page, the items
    after it, the binary searches), forwards and backwards, from the start or from a key: a
    copy of the partition's entries cost every products page in proportion to the catalogue."""
    from shoplocal.store import partition_index

    load_products()
    run_for = partition_index._run_for

    def counted(*arguments: Any) -> Any:
        run = run_for(*arguments)
        return dataclasses.replace(run, entries=CountedEntries(run.entries))

    monkeypatch.setattr(partition_index, "_run_for", counted)
    query = {
        "TableName": TABLE_NAME,
        "IndexName": "GSI1",
        "KeyConditionExpression": "GSI1PK = :bucket",
        "ExpressionAttributeValues": {":bucket": {"S": "CATALOG#0"}},
        "Limit": 5,
    }
    middle = {"GSI1PK": {"S": "CATALOG#0"}, "GSI1SK": {"S": f"PRODUCT#{3000:012d}"}, "PK": {"S": "PRODUCT#3000"}}
    middle["SK"] = {"S": "PRODUCT"}
    for forward in (True, False):
        for start in (None, middle):
            request = {**query, "ScanIndexForward": forward, **({"ExclusiveStartKey": start} if start else {})}
            CountedEntries.read = 0
            page = client().query(**request)
            assert len(page["Items"]) == 5
            assert "LastEvaluatedKey" in page
            assert CountedEntries.read <= 50, (forward, start, CountedEntries.read)
