"""Writing checked catalogue rows (`shopctl load-products`, `seed-demo`).

A row with a SKU is an upsert: it updates the product holding that SKU, or adds a product that
claims it; a row without one adds a product. Loading the same file twice therefore changes
nothing the second time for rows with a SKU. What each row will do is worked out before any
write, so the summary is exact. The writes go in batches (updates first, then additions in the
file's order): a load stopped part-way (Ctrl-C, a failure) says what it wrote, and how to finish.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError

from shoplocal.template import put_layers_on_path

put_layers_on_path()
from shop_common.catalog import add_products  # noqa: E402 - the layer is importable only after the line above
from shop_common.catalog_writes import CatalogChanged, products_by_sku, update_products  # noqa: E402
from shop_common.dynamo import TransactionCancelled  # noqa: E402
from shop_common.errors import ServiceBusy  # noqa: E402
from shop_common.models import NewProduct, Product  # noqa: E402

BATCH_SIZE = 100  # products per id allocation, per update transaction and per progress step


class LoadInterrupted(Exception):
    """A write failed, or Ctrl-C came, part-way: `result` is what had been written."""

    def __init__(self, reason: str, result: "LoadResult", *, by_user: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.result = result
        self.by_user = by_user


@dataclass
class LoadPlan:
    to_add: list[NewProduct] = field(default_factory=list)
    to_update: list[Product] = field(default_factory=list)  # with the existing product's id
    unchanged: int = 0


@dataclass
class LoadResult:
    added: list[Product] = field(default_factory=list)
    updated: int = 0


def plan_load(products: Sequence[NewProduct]) -> LoadPlan:
    """What loading `products` will do: reads the products holding their SKUs, writes nothing."""
    existing = products_by_sku([product.sku for product in products if product.sku is not None])
    plan = LoadPlan()
    for product in products:
        current = existing.get(product.sku) if product.sku is not None else None
        if current is None:
            plan.to_add.append(product)
            continue
        wanted = Product(id=current.id, **product.model_dump())
        if wanted == current:
            plan.unchanged += 1
        else:
            plan.to_update.append(wanted)
    return plan


def apply_load(plan: LoadPlan, on_progress: Callable[[int], None]) -> LoadResult:
    """Write the plan: updates first, then additions. Raises LoadInterrupted, saying how far it got."""
    result = LoadResult()
    try:
        for start in range(0, len(plan.to_update), BATCH_SIZE):
            updates = plan.to_update[start : start + BATCH_SIZE]
            update_products(updates)
            result.updated += len(updates)
            on_progress(len(updates))
        for start in range(0, len(plan.to_add), BATCH_SIZE):
            additions = plan.to_add[start : start + BATCH_SIZE]
            result.added += add_products(additions)
            on_progress(len(additions))
    except KeyboardInterrupt as interrupted:
        raise LoadInterrupted("interrupted (Ctrl-C)", result, by_user=True) from interrupted
    except (CatalogChanged, ServiceBusy, ClientError, BotoCoreError) as error:
        reason = str(error)
        if isinstance(error, TransactionCancelled) and error.failed_conditions:
            reason = "a SKU of the file was given to another product meanwhile"
        raise LoadInterrupted(reason, result) from error
    return result
