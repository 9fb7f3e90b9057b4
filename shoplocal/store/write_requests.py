"""Reading DynamoDB requests as the store's bookkeeping needs them: which actions only read, and
which items a write request names. Shared by the journal (`changes`) and the sorted partitions
(`partition_index`), which both follow exactly the items a write touched."""

from typing import Any

# Requests that change no item.
READ_ACTIONS = frozenset(
    {
        "BatchGetItem",
        "DescribeContinuousBackups",
        "DescribeEndpoints",
        "DescribeLimits",
        "DescribeTable",
        "DescribeTimeToLive",
        "GetItem",
        "ListBackups",
        "ListTables",
        "ListTagsOfResource",
        "Query",
        "Scan",
        "TransactGetItems",
    }
)

_TRANSACTION_WRITES = ("Put", "Update", "Delete")  # a ConditionCheck changes nothing


def named_items(action: str, request: dict[str, Any]) -> list[tuple[str, dict[str, Any]]] | None:
    """(table, item or key) for each item a write request names, in request order; None for an
    action that names no items this way (table changes, PartiQL, restores...). A malformed request
    raises KeyError, TypeError or AttributeError."""
    if action == "PutItem":
        return [(request["TableName"], request["Item"])]
    if action in ("UpdateItem", "DeleteItem"):
        return [(request["TableName"], request["Key"])]
    if action == "BatchWriteItem":
        return [
            (table_name, entry["PutRequest"]["Item"] if "PutRequest" in entry else entry["DeleteRequest"]["Key"])
            for table_name, entries in request["RequestItems"].items()
            for entry in entries
        ]
    if action == "TransactWriteItems":
        named = []
        for entry in request["TransactItems"]:
            for kind in _TRANSACTION_WRITES:
                if kind in entry:
                    operation = entry[kind]
                    named.append((operation["TableName"], operation["Item"] if kind == "Put" else operation["Key"]))
        return named
    return None
