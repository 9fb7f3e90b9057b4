"""What the stock state indexes (GSI2, GSI3) and the count in stock hold, read with boto3
directly (not through the code under test), and what the stocks say they must hold."""

from collections.abc import Mapping

import boto3

from conftest import TABLE_NAME
from shop_common.catalog import get_products

STATE_PARTITIONS = {("GSI3", "STOCK#IN"), ("GSI3", "STOCK#OUT"), ("GSI2", "PRICE#IN"), ("GSI2", "PRICE#OUT")}


def index_members(index: str, partition: str) -> set[int]:
    """The product ids in one partition of a stock state index, read with boto3 directly."""
    pages = (
        boto3.client("dynamodb")
        .get_paginator("query")
        .paginate(
            TableName=TABLE_NAME,
            IndexName=index,
            KeyConditionExpression="#pk = :partition",
            ExpressionAttributeNames={"#pk": f"{index}PK"},
            ExpressionAttributeValues={":partition": {"S": partition}},
        )
    )
    return {int(item["PK"]["S"].removeprefix("PRODUCT#")) for page in pages for item in page["Items"]}


def in_stock_count() -> int:
    item = boto3.client("dynamodb").get_item(TableName=TABLE_NAME, Key={"PK": {"S": "CATALOG"}, "SK": {"S": "META"}})
    return int(item.get("Item", {}).get("in_stock_count", {"N": "0"})["N"])


def stock_states(product_ids: set[int]) -> dict[tuple[str, str], set[int]]:
    """Which of these products each stock state partition holds."""
    return {where: index_members(*where) & product_ids for where in STATE_PARTITIONS}


def expected_states(stocks: Mapping[int, int]) -> dict[tuple[str, str], set[int]]:
    """The oracle: what the stocks say each partition must hold."""
    in_stock = {product_id for product_id, quantity in stocks.items() if quantity > 0}
    sold_out = set(stocks) - in_stock
    return {
        ("GSI3", "STOCK#IN"): in_stock,
        ("GSI2", "PRICE#IN"): in_stock,
        ("GSI3", "STOCK#OUT"): sold_out,
        ("GSI2", "PRICE#OUT"): sold_out,
    }


def assert_indexes_follow(stocks: Mapping[int, int], others_in_stock: int) -> None:
    """The table's stocks are `stocks`, and the indexes and the count say exactly what they say
    (`others_in_stock`: products in stock besides these)."""
    in_table = get_products(list(stocks))
    assert {product_id: product.quantity for product_id, product in in_table.items()} == dict(stocks)
    assert stock_states(set(stocks)) == expected_states(stocks)
    assert in_stock_count() == others_in_stock + sum(1 for quantity in stocks.values() if quantity > 0)
