"""Data access for the product catalogue (see docs/data-model.md).

Items:
- product      PK=PRODUCT#<id>  SK=PRODUCT      GSI1PK=CATALOG#<bucket>  GSI1SK=PRODUCT#<id, 12 digits>
- catalogue    PK=CATALOG       SK=META         product_count, next_id
- bucket       PK=CATALOG       SK=BUCKET#<bucket, 9 digits>  product_count

Products live in their own partitions, so stock updates from orders spread over the table.
The listing index GSI1 groups products into buckets of BUCKET_SIZE consecutive ids, each its own
partition, so no single index partition takes every stock change, while a page in id order is
a range read of one or two buckets. Counts per bucket let `page=N` jump to the right bucket.
"""

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shop_common import settings
from shop_common.dynamo import client, from_attributes, to_attributes
from shop_common.errors import ServiceBusy
from shop_common.models import NewProduct, Product

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

BUCKET_SIZE = 1000
CATALOG_PK = "CATALOG"
META_SK = "META"
LISTING_INDEX = "GSI1"
# A transaction holds at most 100 items: products, the catalogue counter and their bucket counters.
_MAX_TRANSACTION_ITEMS = 100
_PRODUCT_FIELDS = "id, #name, description, price, quantity_in_stock"


@dataclass(frozen=True)
class CatalogStats:
    product_count: int
    next_id: int  # the id the next product will get; ids below it have been allocated


def product_key(product_id: int) -> dict[str, Any]:
    return to_attributes({"PK": f"PRODUCT#{product_id}", "SK": "PRODUCT"})


def bucket_of(product_id: int) -> int:
    return product_id // BUCKET_SIZE


def _bucket_sk(bucket: int) -> str:
    return f"BUCKET#{bucket:09d}"


def _listing_sk(product_id: int) -> str:
    return f"PRODUCT#{product_id:012d}"


def _product_from_item(item: dict[str, Any]) -> Product:
    values = from_attributes(item)
    return Product(
        id=int(values["id"]),
        name=values["name"],
        description=values.get("description", ""),
        price=values["price"],
        quantity_in_stock=int(values["quantity_in_stock"]),
        sku=values.get("sku"),
    )


# --- reads ------------------------------------------------------------------------------------


def _stats_from(meta: dict[str, Any]) -> CatalogStats:
    # `next_id` in the table is the last id allocated (an atomic counter); absent before any.
    return CatalogStats(int(meta.get("product_count", 0)), int(meta.get("next_id", 0)) + 1)


def catalog_stats() -> CatalogStats:
    """Product count and id high-water mark: one GetItem."""
    response = client().get_item(
        TableName=settings.table_name(),
        Key=to_attributes({"PK": CATALOG_PK, "SK": META_SK}),
    )
    return _stats_from(from_attributes(response.get("Item", {})))


def catalog_stats_and_buckets() -> tuple[CatalogStats, dict[int, int]]:
    """The catalogue counters and the product count of every non-empty bucket: one Query
    (more only past 1 MB, i.e. beyond ~20 million products)."""
    stats = _stats_from({})
    buckets: dict[int, int] = {}
    for item in _query_all(KeyConditionExpression="PK = :pk", ExpressionAttributeValues=to_attributes({":pk": CATALOG_PK})):
        values = from_attributes(item)
        if values["SK"] == META_SK:
            stats = _stats_from(values)
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


def _query_bucket(bucket: int, limit: int, *, after: int | None = None, before: int | None = None) -> list[Product]:
    """Up to `limit` products of one bucket in id order (descending when `before` is given)."""
    condition = "GSI1PK = :bucket"
    values: dict[str, Any] = {":bucket": f"{CATALOG_PK}#{bucket}"}
    if after is not None:
        condition += " AND GSI1SK > :edge"
        values[":edge"] = _listing_sk(after)
    if before is not None:
        condition += " AND GSI1SK < :edge"
        values[":edge"] = _listing_sk(before)
    query: dict[str, Any] = {
        "IndexName": LISTING_INDEX,
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": to_attributes(values),
        "ScanIndexForward": before is None,
        "Limit": limit,
    }
    products: list[Product] = []
    while len(products) < limit:
        response = client().query(TableName=settings.table_name(), **query)
        products.extend(_product_from_item(item) for item in response.get("Items", []))
        if "LastEvaluatedKey" not in response:
            break
        query["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        query["Limit"] = limit - len(products)
    return products[:limit]


def products_after(after_id: int, limit: int, stats: CatalogStats) -> list[Product]:
    """The first `limit` products with an id greater than `after_id`, in id order."""
    products: list[Product] = []
    bucket = bucket_of(after_id + 1)
    last_bucket = bucket_of(stats.next_id - 1)
    while len(products) < limit and bucket <= last_bucket:
        products += _query_bucket(bucket, limit - len(products), after=after_id)
        bucket += 1
    return products


def products_before(before_id: int, limit: int) -> list[Product]:
    """The last `limit` products with an id smaller than `before_id`, in id order."""
    products: list[Product] = []
    bucket = bucket_of(before_id - 1)
    while len(products) < limit and bucket >= 0:
        products += _query_bucket(bucket, limit - len(products), before=before_id)
        bucket -= 1
    return products[::-1]


def products_at_offset(offset: int, limit: int, stats: CatalogStats, buckets: dict[int, int]) -> list[Product]:
    """The products at positions offset..offset+limit-1 of the id-ordered catalogue.

    The bucket counts locate the bucket holding `offset`. Where that bucket has no gaps (no
    product deleted from it), the id at the offset is computed and the read starts there, so a
    page reads `limit` items; otherwise the bucket is read from its start (< BUCKET_SIZE extra).
    """
    passed = 0
    for bucket in sorted(buckets):
        if passed + buckets[bucket] > offset:
            break
        passed += buckets[bucket]
    else:
        return []
    position = offset - passed
    first_id = max(1, bucket * BUCKET_SIZE)
    allocated = min(stats.next_id - 1, (bucket + 1) * BUCKET_SIZE - 1) - first_id + 1
    if buckets[bucket] == allocated:
        return products_after(first_id + position - 1, limit, stats)
    head = _query_bucket(bucket, position + limit, after=first_id - 1)[position:]
    if len(head) == limit or not head:
        return head
    return head + products_after(head[-1].id, limit - len(head), stats)


def get_products(product_ids: Sequence[int]) -> dict[int, Product]:
    """The products with these ids that exist (BatchGetItem, at most 100 ids)."""
    if not product_ids:
        return {}
    request: dict[str, Any] = {
        settings.table_name(): {
            "Keys": [product_key(product_id) for product_id in product_ids],
            "ProjectionExpression": _PRODUCT_FIELDS,
            "ExpressionAttributeNames": {"#name": "name"},
        }
    }
    found: dict[int, Product] = {}
    for attempt in range(8):
        response = client().batch_get_item(RequestItems=request)
        for item in response.get("Responses", {}).get(settings.table_name(), []):
            product = _product_from_item(item)
            found[product.id] = product
        request = dict(response.get("UnprocessedKeys") or {})
        if not request:
            return found
        time.sleep(0.02 * 2**attempt)  # throttled: back off before asking for the rest
    raise ServiceBusy("DynamoDB kept throttling BatchGetItem for products")


# --- writes (administration: seeding, imports; never on a customer request path) --------------


def _allocate_ids(count: int) -> int:
    """Reserve `count` consecutive ids; return the first. One atomic counter update."""
    response = client().update_item(
        TableName=settings.table_name(),
        Key=to_attributes({"PK": CATALOG_PK, "SK": META_SK}),
        UpdateExpression="ADD next_id :count",
        ExpressionAttributeValues=to_attributes({":count": count}),
        ReturnValues="UPDATED_NEW",
    )
    last_id = int(from_attributes(response["Attributes"])["next_id"])
    return last_id - count + 1


def _counter_update(sort_key: str, delta: int) -> "TransactWriteItemTypeDef":
    return {
        "Update": {
            "TableName": settings.table_name(),
            "Key": to_attributes({"PK": CATALOG_PK, "SK": sort_key}),
            "UpdateExpression": "ADD product_count :delta",
            "ExpressionAttributeValues": to_attributes({":delta": delta}),
        }
    }


def _counter_updates(product_ids: Sequence[int], sign: int) -> "list[TransactWriteItemTypeDef]":
    per_bucket: dict[int, int] = {}
    for product_id in product_ids:
        per_bucket[bucket_of(product_id)] = per_bucket.get(bucket_of(product_id), 0) + 1
    updates = [_counter_update(META_SK, sign * len(product_ids))]
    updates += [_counter_update(_bucket_sk(bucket), sign * count) for bucket, count in per_bucket.items()]
    return updates


def product_item(product: Product) -> dict[str, Any]:
    values: dict[str, Any] = {
        "PK": f"PRODUCT#{product.id}",
        "SK": "PRODUCT",
        "GSI1PK": f"{CATALOG_PK}#{bucket_of(product.id)}",
        "GSI1SK": _listing_sk(product.id),
        "id": product.id,
        "name": product.name,
        "description": product.description,
        "price": product.price,
        "quantity_in_stock": product.quantity_in_stock,
    }
    if product.sku is not None:
        values["sku"] = product.sku
    return to_attributes(values)


def sku_claim_key(sku: str) -> dict[str, Any]:
    """The item that makes a SKU unique: written with its product, `attribute_not_exists(PK)`."""
    return to_attributes({"PK": f"SKU#{sku}", "SK": "SKU"})


def _sku_claim_put(product: Product) -> "TransactWriteItemTypeDef":
    return {
        "Put": {
            "TableName": settings.table_name(),
            "Item": {**sku_claim_key(product.sku or ""), **to_attributes({"product_id": product.id})},
            "ConditionExpression": "attribute_not_exists(PK)",
        }
    }


def _transaction_chunks(products: list[Product]) -> Iterator[list[Product]]:
    """Runs of products that fit one transaction together with their counters."""
    chunk: list[Product] = []
    buckets: set[int] = set()
    writes = 0  # products and their SKU claims
    for product in products:
        new_buckets = buckets | {bucket_of(product.id)}
        new_writes = writes + (2 if product.sku else 1)
        if new_writes + 1 + len(new_buckets) > _MAX_TRANSACTION_ITEMS:
            yield chunk
            chunk, new_buckets, new_writes = [], {bucket_of(product.id)}, (2 if product.sku else 1)
        chunk.append(product)
        buckets, writes = new_buckets, new_writes
    if chunk:
        yield chunk


def add_products(new_products: Sequence[NewProduct]) -> list[Product]:
    """Add products with fresh consecutive ids, keeping the counts exact: each transaction writes
    a run of products together with the catalogue and bucket counters (and the claims of their
    SKUs: a SKU already taken cancels the transaction, TransactionCanceledException)."""
    if not new_products:
        return []
    first_id = _allocate_ids(len(new_products))
    products = [Product(id=first_id + index, **new.model_dump()) for index, new in enumerate(new_products)]
    for chunk in _transaction_chunks(products):
        writes: list[TransactWriteItemTypeDef] = [
            {
                "Put": {
                    "TableName": settings.table_name(),
                    "Item": product_item(product),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            }
            for product in chunk
        ]
        writes += [_sku_claim_put(product) for product in chunk if product.sku]
        client().transact_write_items(TransactItems=writes + _counter_updates([p.id for p in chunk], +1))
    return products


def remove_product(product_id: int) -> None:
    """Delete a product (and its SKU claim) and keep the counts exact. Orders keep the product's name."""
    found = client().get_item(
        TableName=settings.table_name(), Key=product_key(product_id), ProjectionExpression="sku", ConsistentRead=True
    )
    sku = from_attributes(found.get("Item", {})).get("sku")
    delete: TransactWriteItemTypeDef = {
        "Delete": {
            "TableName": settings.table_name(),
            "Key": product_key(product_id),
            # The SKU read above is still the product's: the claim deleted with it is its own.
            "ConditionExpression": "attribute_exists(PK) AND sku = :sku"
            if sku
            else "attribute_exists(PK) AND attribute_not_exists(sku)",
            **({"ExpressionAttributeValues": to_attributes({":sku": sku})} if sku else {}),
        }
    }
    claim: list[TransactWriteItemTypeDef] = (
        [{"Delete": {"TableName": settings.table_name(), "Key": sku_claim_key(sku)}}] if sku else []
    )
    client().transact_write_items(TransactItems=[delete, *claim, *_counter_updates([product_id], -1)])
