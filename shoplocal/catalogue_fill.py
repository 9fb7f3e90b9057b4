"""Fill a local table with a large catalogue fast: the very items `catalog.add_products` writes
(products, SKU claims, word items, counters), but with BatchWriteItem instead of transactions,
which moto answers by copying the whole table (0.1 transactions a second at 100,000 items).
For benchmarks and tests of cost at scale only: nothing guards against concurrent writers."""

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from shop_common import catalog, settings
from shop_common.dynamo import client
from shop_common.models import NewProduct, Product

_ADJECTIVES = ["Blue", "Red", "Dark", "Large", "Small", "Organic", "Crème", "Vintage", "Green", "Smoked"]
_NOUNS = [
    "mug", "chocolate", "tea", "coffee", "teapot", "candle", "notebook", "scarf", "honey", "cheese",
    "bread", "olive oil", "caramel", "cup", "plate", "spoon", "jam", "biscuit", "lamp", "basket",
]  # fmt: skip


def sample_products(count: int) -> list[NewProduct]:
    """`count` products with names from a small vocabulary (each noun in 1 of 20 names), prices
    from 0.50 to 99.99 and a third of them sold out."""
    return [
        NewProduct(
            name=f"{_ADJECTIVES[n % 10]} {_NOUNS[(n // 10) % 20]} {n}",
            description=f"Sample product {n}.",
            price=Decimal(50 + (n * 7919) % 9950) / 100,
            quantity=n % 3 * 5,
        )
        for n in range(count)
    ]


def fill_catalogue(new_products: Sequence[NewProduct]) -> list[Product]:
    first_id = catalog.allocate_ids(len(new_products))
    products = [Product(id=first_id + index, **new.model_dump()) for index, new in enumerate(new_products)]
    items: list[dict[str, Any]] = []
    for start in range(0, len(products), 50):
        for write in catalog.new_product_writes(products[start : start + 50]):
            if "Put" in write:
                items.append(dict(write["Put"]["Item"]))
    table = settings.table_name()
    for start in range(0, len(items), 25):
        request: Any = {table: [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]}
        while request:
            request = client().batch_write_item(RequestItems=request).get("UnprocessedItems") or None
    for update in catalog.counter_updates(products, +1):
        arguments = dict(update["Update"])
        client().update_item(**arguments)  # type: ignore[arg-type]
    return products
