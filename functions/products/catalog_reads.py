"""The products function's reads of the catalogue (docs/data-model.md): the listing's counters
(cached per container for a moment), the keys-only index of every product (GSI4) by id and by
offset, and the products a page shows. The items and the writes that keep them exact are the
layer's (`shop_common.catalog`), shared with the staff catalogue, orders and `shopctl`."""

import time
from collections.abc import Iterator, Sequence
from typing import Any

from shop_common import catalog, settings
from shop_common.catalog import (
    ALL_PRODUCTS,
    CATALOG_PK,
    LARGEST_LISTED_ID,
    META_SK,
    PRODUCTS_INDEX,
    PUBLIC_FIELDS,
    CatalogStats,
    batch_get_fields,
    batch_get_products,
    read_catalog_stats,
    stats_from,
    view_from_item,
)
from shop_common.dynamo import client, from_attributes, to_attributes
from shop_common.keys import product_key
from shop_common.models import ProductView
from shop_common.stock_state import id_sort_key

# How long a container keeps the catalogue counters (CATALOG/META) for the filtered listing's
# count: one item serves about 6,000 reads a second. `count` may lag writes by this much.
STATS_CACHE_SECONDS = 1.0

_cached_stats: tuple[float, CatalogStats] | None = None
_clock = time.monotonic  # the container's clock for that cache (tests set their own)


def forget_cached_stats() -> None:
    global _cached_stats
    _cached_stats = None


def catalog_stats() -> CatalogStats:
    """Product count, count in stock and id high-water mark: one GetItem, or none when this
    container read them less than STATS_CACHE_SECONDS ago."""
    global _cached_stats
    now = _clock()
    # A clock that went backwards (a SnapStart restore) counts as expired.
    if _cached_stats is not None and 0 <= now - _cached_stats[0] < STATS_CACHE_SECONDS:
        return _cached_stats[1]
    stats = read_catalog_stats()
    _cached_stats = (now, stats)
    return stats


def catalog_stats_and_buckets() -> tuple[CatalogStats, dict[int, int]]:
    """The catalogue counters and the product count of every non-empty bucket: one Query
    (more only past 1 MB, i.e. beyond ~20 million products)."""
    stats = stats_from({})
    buckets: dict[int, int] = {}
    for item in _query_all(KeyConditionExpression="PK = :pk", ExpressionAttributeValues=to_attributes({":pk": CATALOG_PK})):
        values = from_attributes(item)
        if values["SK"] == META_SK:
            stats = stats_from(values)
        elif int(values.get("product_count", 0)) > 0:
            buckets[int(values["SK"].removeprefix("BUCKET#"))] = int(values["product_count"])
    return stats, buckets


def _query_all(**query: Any) -> Iterator[dict[str, Any]]:
    while True:
        response = client().query(TableName=settings.table_name(), **query)
        yield from response.get("Items", [])
        if "LastEvaluatedKey" not in response:
            return
        query["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def product_ids_beyond(edge: int, count: int, *, forward: bool) -> list[int]:
    """Up to `count` product ids past `edge` (an id, present or not), nearest first: one Query
    of the keys-only index of every product (GSI4), whatever `edge` is and however many ids
    before or after it were deleted. Keys-only items are ~60 bytes: 101 of them never reach
    DynamoDB's 1 MB page."""
    if forward and edge >= LARGEST_LISTED_ID:
        return []
    condition = f"{PRODUCTS_INDEX}PK = :all"
    values = {":all": ALL_PRODUCTS}
    if forward or edge <= LARGEST_LISTED_ID:  # backwards from beyond every id: from the end
        # Sort keys are 12-digit strings: a longer number would not compare as a number.
        condition += f" AND {PRODUCTS_INDEX}SK {'>' if forward else '<'} :edge"
        values[":edge"] = id_sort_key(edge)
    response = client().query(
        TableName=settings.table_name(),
        IndexName=PRODUCTS_INDEX,
        KeyConditionExpression=condition,
        ExpressionAttributeValues=to_attributes(values),
        ProjectionExpression=f"{PRODUCTS_INDEX}SK",
        ScanIndexForward=forward,
        Limit=count,
    )
    return [int(item[f"{PRODUCTS_INDEX}SK"]["S"]) for item in response.get("Items", [])]


def products_and_count(product_ids: Sequence[int]) -> tuple[list[ProductView], int]:
    """The products with these ids that exist, in the order given, and the exact product count
    (CATALOG/META), read together: one BatchGetItem per 100 keys (a page of 50: one call; of
    1,000: 11)."""
    keys = [*map(product_key, product_ids), to_attributes({"PK": CATALOG_PK, "SK": META_SK})]
    found: dict[int, ProductView] = {}
    product_count = 0
    for item in batch_get_fields(keys, PUBLIC_FIELDS + ", product_count"):
        if "id" in item:
            product = view_from_item(item)
            found[product.id] = product
        else:  # the catalogue counters item
            product_count = int(from_attributes(item).get("product_count", 0))
    return [found[product_id] for product_id in product_ids if product_id in found], product_count


def product_ids_at_offset(offset: int, limit: int, buckets: dict[int, int]) -> tuple[list[int], bool]:
    """The ids at positions offset..offset+limit-1 of the id-ordered catalogue, and whether more
    follow. The bucket counts (catalog_stats_and_buckets) locate the bucket holding `offset`;
    one Query of the keys-only index of every product (GSI4) then reads from that bucket's first
    id: the ids before the offset within the bucket (at most BUCKET_SIZE - 1), the page's, and
    one more. At most 2,000 keys of ~60 bytes: one call, however thinned the catalogue is."""
    passed = 0
    for bucket in sorted(buckets):
        if passed + buckets[bucket] > offset:
            break
        passed += buckets[bucket]
    else:
        return [], False
    position = offset - passed
    # The layer's BUCKET_SIZE read at call time (tests make buckets smaller).
    found = product_ids_beyond(max(bucket * catalog.BUCKET_SIZE - 1, 0), position + limit + 1, forward=True)
    return found[position : position + limit], len(found) > position + limit


def public_products(product_ids: Sequence[int]) -> dict[int, ProductView]:
    """The products with these ids that exist, as the API shows them (one BatchGetItem per 100 ids)."""
    items = batch_get_products(product_ids, PUBLIC_FIELDS)
    return {product.id: product for product in map(view_from_item, items)}


def get_product(product_id: int) -> ProductView | None:
    """One product with every field the API shows (one GetItem, eventually consistent)."""
    response = client().get_item(
        TableName=settings.table_name(),
        Key=product_key(product_id),
        ProjectionExpression=PUBLIC_FIELDS,
        ExpressionAttributeNames={"#name": "name"},
    )
    return view_from_item(response["Item"]) if "Item" in response else None


def stock_levels(product_ids: Sequence[int]) -> dict[int, int]:
    """The stock of the products with these ids that exist (BatchGetItem, at most 100 ids)."""
    items = map(from_attributes, batch_get_products(product_ids, "id, quantity_in_stock"))
    return {int(values["id"]): int(values["quantity_in_stock"]) for values in items}
