"""Data access for the product catalogue (see docs/data-model.md).

Items:
- product      PK=PRODUCT#<id>  SK=PRODUCT      GSI1PK=CATALOG#<bucket>  GSI1SK=PRODUCT#<id, 12 digits>
                 GSI2PK=PRICE#IN|OUT  GSI2SK=<cents>#<id>  GSI3PK=STOCK#IN|OUT  GSI3SK=<id>  (stock_state)
                 GSI4PK=PRODUCTS  GSI4SK=<id, 12 digits>
- catalogue    PK=CATALOG       SK=META         product_count, in_stock_count, next_id
- word         PK=WORD#<..>     SK=<word>#<id>  id, words, cents  (search_words; with the product)
- bucket       PK=CATALOG       SK=BUCKET#<bucket, 9 digits>  product_count (gone with the bucket's last product)

Products live in their own partitions, so stock updates from orders spread over the table.
The listing's links read GSI4, keys only: one partition holding every product's id, which only
adds and deletes write (a stock change moves no key of it), so a page after or before any id
is one Query of its keys and BatchGetItems of its products with the catalogue counters.
A `page=N` typed by hand needs an offset: the counts per bucket of BUCKET_SIZE consecutive ids
locate the bucket holding it, and the same index is read from that bucket's first id. (GSI1,
the buckets as partitions, is still written with each product but no longer read: the typed
pages it served read GSI4 since pages grew to 1,000 products.)

This module holds the items, the writes that keep the counters and indexes exact, and the reads
more than one function (or `shopctl`) makes; the listing's reads are the products function's
(functions/products/catalog_reads.py).
"""

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shop_common import settings
from shop_common.dynamo import (
    TransactionCancelled,
    batch_get,
    client,
    from_attributes,
    set_at_least,
    to_attributes,
    transact_write,
)
from shop_common.errors import ServiceBusy
from shop_common.keys import product_key, sku_claim_key
from shop_common.models import PRICE_QUANTUM, NewProduct, Product, ProductImage, ProductView, image_url
from shop_common.search_words import indexed_words, word_keys
from shop_common.stock_state import IN_STOCK_COUNT, id_sort_key, price_sort_key, state_keys

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

BUCKET_SIZE = 1000
CATALOG_PK = "CATALOG"
META_SK = "META"
# Every product, in id order, keys only: the listing's links (one Query, whatever the gaps).
PRODUCTS_INDEX = "GSI4"
ALL_PRODUCTS = "PRODUCTS"
LARGEST_LISTED_ID = 10**12 - 1  # the index sorts ids as 12 digits
# A transaction holds at most 100 items: products, the catalogue counter and their bucket counters.
_MAX_TRANSACTION_ITEMS = 100
PRODUCT_FIELDS = "id, #name, description, price, quantity_in_stock"
# What the public reads show of a product (Product.to_json).
PUBLIC_FIELDS = PRODUCT_FIELDS + ", sku, images"


@dataclass(frozen=True)
class CatalogStats:
    product_count: int
    next_id: int  # the id the next product will get; ids below it have been allocated
    in_stock_count: int = 0

    @property
    def last_id(self) -> int:
        """The highest id ever allocated: no product has a larger one."""
        return self.next_id - 1


def bucket_of(product_id: int) -> int:
    return product_id // BUCKET_SIZE


def _bucket_sk(bucket: int) -> str:
    return f"BUCKET#{bucket:09d}"


def _listing_sk(product_id: int) -> str:
    return f"PRODUCT#{product_id:012d}"


def product_from_item(item: dict[str, Any]) -> Product:
    values = from_attributes(item)
    return Product(
        id=int(values["id"]),
        name=values["name"],
        description=values.get("description", ""),
        price=values["price"],
        quantity=int(values["quantity_in_stock"]),
        sku=values.get("sku"),
        images=[ProductImage(**image) for image in values.get("images", [])],
    )


def view_from_item(item: dict[str, Any]) -> ProductView:
    """What the public reads show of a stored product, read off its attribute values (each
    stored by `product_item` or a photo check): the JSON of `Product.to_json`, without building
    and validating a `Product` (tests/layer/test_product_view.py holds the two equal)."""
    product_id = int(item["id"]["N"])
    description, sku = item.get("description"), item.get("sku")
    images = (
        [
            {
                "id": image["M"]["id"]["S"],
                "url": image_url(image["M"]["key"]["S"]),
                "alt": image["M"]["alt"]["S"] if "alt" in image["M"] else "",
                "width": int(image["M"]["width"]["N"]),
                "height": int(image["M"]["height"]["N"]),
            }
            for image in item["images"]["L"]
        ]
        if "images" in item
        else []
    )
    return ProductView(
        product_id,
        {
            "id": product_id,
            "name": item["name"]["S"],
            "description": description["S"] if description is not None else "",
            "price": Decimal(item["price"]["N"]).quantize(PRICE_QUANTUM),
            "quantity": int(item["quantity_in_stock"]["N"]),
            "sku": sku["S"] if sku is not None else None,
            "images": images,
        },
    )


def product_json(item: dict[str, Any]) -> dict[str, Any]:
    """The JSON the API shows for a stored product item (as `GET /api/products/{id}` answers);
    the events function publishes products with it."""
    return view_from_item(item).json


def cents(product: NewProduct) -> int:
    return int(product.price * 100)


# --- reads ------------------------------------------------------------------------------------


def stats_from(meta: dict[str, Any]) -> CatalogStats:
    # `next_id` in the table is the last id allocated (an atomic counter); absent before any.
    return CatalogStats(int(meta.get("product_count", 0)), int(meta.get("next_id", 0)) + 1, int(meta.get(IN_STOCK_COUNT, 0)))


def read_catalog_stats() -> CatalogStats:
    """Product count, count in stock and id high-water mark: one GetItem."""
    response = client().get_item(TableName=settings.table_name(), Key=to_attributes({"PK": CATALOG_PK, "SK": META_SK}))
    return stats_from(from_attributes(response.get("Item", {})))


def get_products(product_ids: Sequence[int]) -> dict[int, Product]:
    """The products with these ids that exist, with what orders need (BatchGetItem, at most
    100 ids)."""
    items = batch_get_products(product_ids, PRODUCT_FIELDS)
    return {product.id: product for product in map(product_from_item, items)}


def batch_get_products(product_ids: Sequence[int], projection: str) -> list[dict[str, Any]]:
    return batch_get_fields([product_key(product_id) for product_id in product_ids], projection)


def batch_get_fields(keys: list[dict[str, Any]], projection: str) -> list[dict[str, Any]]:
    """The items that exist among `keys` with the fields of `projection` (one BatchGetItem per 100 keys)."""
    return batch_get(keys, projection=projection, names={"#name": "name"} if "#name" in projection else None)


# --- writes (administration: seeding, imports; never on a customer request path) --------------


def allocate_ids(count: int) -> int:
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


def in_stock_count_update(delta: int) -> "TransactWriteItemTypeDef":
    """The catalogue counter's change when products cross 0 (sold out: -1, restocked: +1)."""
    return {
        "Update": {
            "TableName": settings.table_name(),
            "Key": to_attributes({"PK": CATALOG_PK, "SK": META_SK}),
            "UpdateExpression": f"ADD {IN_STOCK_COUNT} :delta",
            "ExpressionAttributeValues": to_attributes({":delta": delta}),
        }
    }


def counter_updates(products: Sequence[Product], sign: int) -> "list[TransactWriteItemTypeDef]":
    """The catalogue counter (products, products in stock) and the bucket counters, for adding
    (sign +1) or removing (-1) these products. One write per counter item."""
    per_bucket: dict[int, int] = {}
    for product in products:
        per_bucket[bucket_of(product.id)] = per_bucket.get(bucket_of(product.id), 0) + 1
    in_stock = sum(1 for product in products if product.quantity > 0)
    meta: TransactWriteItemTypeDef = {
        "Update": {
            "TableName": settings.table_name(),
            "Key": to_attributes({"PK": CATALOG_PK, "SK": META_SK}),
            "UpdateExpression": f"ADD product_count :products, {IN_STOCK_COUNT} :in_stock",
            "ExpressionAttributeValues": to_attributes({":products": sign * len(products), ":in_stock": sign * in_stock}),
        }
    }
    return [meta] + [_counter_update(_bucket_sk(bucket), sign * count) for bucket, count in per_bucket.items()]


def word_puts(product: Product) -> "list[TransactWriteItemTypeDef]":
    """The product's word items (search_words), to write in its own transaction."""
    shared = to_attributes({"id": product.id, "words": indexed_words(product.name), "cents": cents(product)})
    return [
        {"Put": {"TableName": settings.table_name(), "Item": {**to_attributes({"PK": pk, "SK": sk}), **shared}}}
        for pk, sk in word_keys(product.name, product.id)
    ]


def word_deletes(keys: Sequence[tuple[str, str]]) -> "list[TransactWriteItemTypeDef]":
    return [{"Delete": {"TableName": settings.table_name(), "Key": to_attributes({"PK": pk, "SK": sk})}} for pk, sk in keys]


def all_products_keys(product_id: int) -> dict[str, str]:
    """A product's place in the index of every product (GSI4): from its id alone, so no edit
    or stock change ever moves it."""
    return {f"{PRODUCTS_INDEX}PK": ALL_PRODUCTS, f"{PRODUCTS_INDEX}SK": id_sort_key(product_id)}


def product_item(product: Product) -> dict[str, Any]:
    values: dict[str, Any] = {
        "PK": f"PRODUCT#{product.id}",
        "SK": "PRODUCT",
        "GSI1PK": f"{CATALOG_PK}#{bucket_of(product.id)}",
        "GSI1SK": _listing_sk(product.id),
        **all_products_keys(product.id),
        **state_keys(product.quantity > 0),
        "GSI2SK": price_sort_key(cents(product), product.id),
        "GSI3SK": id_sort_key(product.id),
        "id": product.id,
        "name": product.name,
        "description": product.description,
        "price": product.price,
        "quantity_in_stock": product.quantity,
    }
    if product.sku is not None:
        values["sku"] = product.sku
    # `images` is not derived here: only the photo checks write it (an edit must not undo one).
    return to_attributes(values)


def _sku_claim_put(product: Product) -> "TransactWriteItemTypeDef":
    return {
        "Put": {
            "TableName": settings.table_name(),
            "Item": {**sku_claim_key(product.sku or ""), **to_attributes({"product_id": product.id})},
            "ConditionExpression": "attribute_not_exists(PK)",
        }
    }


def _item_writes(product: Product) -> int:
    """Items a new product writes: itself, its SKU claim, its word items."""
    return 1 + (1 if product.sku else 0) + len(word_keys(product.name, product.id))


def _transaction_chunks(products: list[Product]) -> Iterator[list[Product]]:
    """Runs of products that fit one transaction together with their counters."""
    chunk: list[Product] = []
    buckets: set[int] = set()
    writes = 0  # products, their SKU claims and word items
    for product in products:
        new_buckets = buckets | {bucket_of(product.id)}
        new_writes = writes + _item_writes(product)
        if new_writes + 1 + len(new_buckets) > _MAX_TRANSACTION_ITEMS:
            yield chunk
            chunk, new_buckets, new_writes = [], {bucket_of(product.id)}, _item_writes(product)
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
    first_id = allocate_ids(len(new_products))
    products = [Product(id=first_id + index, **new.model_dump()) for index, new in enumerate(new_products)]
    write_new_products(products)
    return products


def write_new_products(products: Sequence[Product], on_written: Callable[[int], None] | None = None) -> None:
    """Write products whose ids are allocated (or reserved: `reserve_ids`) and free, in runs that
    fit one transaction each with their counters (`new_product_writes`); `on_written` is told
    how many each transaction wrote."""
    for chunk in _transaction_chunks(list(products)):
        transact_write(new_product_writes(chunk))
        if on_written is not None:
            on_written(len(chunk))


def reserve_ids(last_id: int) -> None:
    """Move the id counter to at least `last_id`, so that no product added later gets an id up
    to it (products imported with their own ids). Never moves it back."""
    set_at_least(settings.table_name(), {"PK": CATALOG_PK, "SK": META_SK}, "next_id", last_id)


def new_product_writes(products: Sequence[Product]) -> "list[TransactWriteItemTypeDef]":
    """One transaction's writes adding products (with ids allocated): each product, then the
    claims of their SKUs in the same order, then the catalogue and bucket counters, then the
    products' word items."""
    writes: list[TransactWriteItemTypeDef] = [
        {
            "Put": {
                "TableName": settings.table_name(),
                "Item": product_item(product),
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        }
        for product in products
    ]
    writes += [_sku_claim_put(product) for product in products if product.sku]
    writes += counter_updates(products, +1)
    return writes + [put for product in products for put in word_puts(product)]


def remove_product(product_id: int, attempts: int = 5) -> bool:
    """Delete a product (its SKU claim, its word items) and keep the counts exact; False when
    there is no such product. Orders keep the product's name. A transaction cancelled by a
    concurrent write to the product (an order, a new SKU) wrote nothing: the product is read
    again and the removal tried again, `attempts` times in all, then ServiceBusy."""
    table = settings.table_name()
    for attempt in range(attempts):
        key = product_key(product_id)
        found = client().get_item(
            TableName=table,
            Key=key,
            ProjectionExpression=PRODUCT_FIELDS + ", sku",
            ExpressionAttributeNames={"#name": "name"},
            ConsistentRead=True,
        )
        if "Item" not in found:
            return False
        product = product_from_item(found["Item"])
        in_stock = product.quantity > 0
        # The condition keeps what was read and what the other writes derive from: the SKU (its
        # claim is deleted), the name (its word items) and the stock state (the count in stock).
        condition = [
            "attribute_exists(PK)",
            "#name = :name",
            "quantity_in_stock > :zero" if in_stock else "quantity_in_stock = :zero",
        ]
        values: dict[str, Any] = {":name": product.name, ":zero": 0}
        if product.sku:
            condition.append("sku = :sku")
            values[":sku"] = product.sku
        else:
            condition.append("attribute_not_exists(sku)")
        delete: TransactWriteItemTypeDef = {
            "Delete": {
                "TableName": table,
                "Key": product_key(product_id),
                "ConditionExpression": " AND ".join(condition),
                "ExpressionAttributeNames": {"#name": "name"},
                "ExpressionAttributeValues": to_attributes(values),
            }
        }
        writes = [delete, *counter_updates([product], -1), *word_deletes(word_keys(product.name, product_id))]
        if product.sku:
            writes.append({"Delete": {"TableName": table, "Key": sku_claim_key(product.sku)}})
        try:
            transact_write(writes)
        except TransactionCancelled:
            time.sleep(0.05 * 2**attempt)  # a concurrent write won: read the product again
            continue
        _forget_bucket_if_empty(bucket_of(product_id))
        return True
    raise ServiceBusy(f"product {product_id} kept changing under concurrent writes; it was not removed")


def _forget_bucket_if_empty(bucket: int) -> None:
    """Delete a bucket's counter once it reaches 0, so a typed `page=N` reads one counter per
    non-empty bucket, not one per bucket ever used. The condition makes it safe against a
    concurrent add, whose ADD recreates the counter; if this step never runs, the counter stays
    at 0 and is only skipped by readers."""
    try:
        client().delete_item(
            TableName=settings.table_name(),
            Key=to_attributes({"PK": CATALOG_PK, "SK": _bucket_sk(bucket)}),
            ConditionExpression="product_count = :zero",
            ExpressionAttributeValues=to_attributes({":zero": 0}),
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
