"""The demo data `make run` starts with and `shopctl seed-demo` loads: two users with documented
passwords and about 200 products with varied prices and stocks, some sold out.

The catalogue is generated from a fixed seed, so every fresh start shows the same shop.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from shoplocal.template import put_code_on_path

DEMO_PRODUCT_COUNT = 200
_SEED = 2024

_ADJECTIVES = (
    "Classic", "Compact", "Deluxe", "Eco", "Everyday", "Handmade", "Heavy-duty", "Lightweight",
    "Modern", "Organic", "Pocket", "Premium", "Rustic", "Smart", "Vintage", "Waterproof",
)  # fmt: skip
_NOUNS = (
    "backpack", "bike light", "bookshelf", "ceramic mug", "chess set", "desk lamp", "french press",
    "headphones", "hiking boots", "kettle", "notebook", "rain jacket", "scarf", "teapot", "umbrella",
    "wall clock", "water bottle", "wool blanket", "yoga mat", "wireless mouse",
)  # fmt: skip


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    is_staff: bool
    email: str
    first_name: str
    last_name: str


DEMO_USERS = (
    DemoUser("demo", "demo-password", False, "demo@example.com", "Demo", "Customer"),
    DemoUser("admin", "admin-password", True, "admin@example.com", "Demo", "Staff"),
)


@dataclass(frozen=True)
class DemoProduct:
    name: str
    description: str
    price: Decimal
    quantity_in_stock: int


def demo_products(count: int = DEMO_PRODUCT_COUNT) -> list[DemoProduct]:
    """`count` distinct products: prices from 0.99 to about 500, stocks from 0 to 250, one in
    ten sold out (so the out-of-stock path can be tried by hand)."""
    rng = random.Random(_SEED)  # noqa: S311 - demo data, not security
    names = [f"{adjective} {noun}" for adjective in _ADJECTIVES for noun in _NOUNS]
    rng.shuffle(names)
    products = []
    for index in range(count):
        name = names[index % len(names)]
        if index >= len(names):
            name = f"{name} (edition {index // len(names) + 1})"
        price = Decimal(round(rng.lognormvariate(3.2, 1.1), 2)).quantize(Decimal("0.01"))
        price = min(max(price, Decimal("0.99")), Decimal("499.00"))
        stock = 0 if index % 10 == 7 else rng.randint(1, 250)
        description = f"{name}, demo product #{index + 1}."
        products.append(DemoProduct(name, description, price, stock))
    return products


def seed_demo(*, on_progress: Callable[[int], None] | None = None) -> tuple[list[str], int]:
    """Create the demo users that are missing, and the demo catalogue if the catalogue is empty.
    Returns the usernames created and the number of products added. Safe to run again."""
    put_code_on_path()
    from accounts import AccountExists, create_user
    from shop_common.catalog import catalog_stats
    from shop_common.models import NewProduct
    from shopctl.catalog_load import LoadPlan, apply_load

    created = []
    for user in DEMO_USERS:
        try:
            create_user(
                user.username,
                user.password,
                email=user.email,
                first_name=user.first_name,
                last_name=user.last_name,
                is_staff=user.is_staff,
            )
        except AccountExists:
            continue
        created.append(user.username)
    if catalog_stats().product_count:
        return created, 0
    products = [NewProduct(**vars(product)) for product in demo_products()]
    apply_load(LoadPlan(to_add=products), on_progress or (lambda _count: None))
    return created, len(products)
