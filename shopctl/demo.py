"""The demo data `make run` starts with and `shopctl seed-demo` loads: two users with documented
passwords and about 200 products with varied prices and stocks, some sold out, each with a SKU
and a description made from its name, and a few with photos (PNGs drawn here, no downloads).

The catalogue is generated from a fixed seed, so every fresh start shows the same shop.
"""

import hashlib
import os
import random
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from shoplocal.template import put_layers_on_path

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


# What each word of a name says about the product, for its description.
_NOUN_USES = {
    "backpack": ("carries a laptop, a lunch and a rain jacket", "padded straps that stay comfortable all day"),
    "bike light": ("keeps you seen on dark roads", "a battery that lasts a week of commutes"),
    "bookshelf": ("holds a few hundred paperbacks", "shelves that do not sag under hardbacks"),
    "ceramic mug": ("holds a generous 350 ml of coffee or tea", "a glaze that survives the dishwasher"),
    "chess set": ("has weighted pieces and a folding board", "pieces that feel good in the hand"),
    "desk lamp": ("lights a whole desk without glare", "an arm that stays where you put it"),
    "french press": ("brews four cups in four minutes", "a fine mesh that keeps the grounds out"),
    "headphones": ("play for thirty hours on a charge", "cushions you forget you are wearing"),
    "hiking boots": ("keep feet dry on muddy trails", "soles that grip wet rock"),
    "kettle": ("boils a litre in under three minutes", "a handle that stays cool"),
    "notebook": ("has 192 pages of dotted paper", "paper that takes fountain pens without bleeding"),
    "rain jacket": ("packs into its own pocket", "taped seams that keep out a downpour"),
    "scarf": ("is long enough to wrap twice", "a weave that is warm without being bulky"),
    "teapot": ("pours six cups without dripping", "a removable infuser for loose leaves"),
    "umbrella": ("opens at the press of a button", "a frame that flexes instead of breaking in the wind"),
    "wall clock": ("ticks so quietly you will not hear it", "numbers you can read across the room"),
    "water bottle": ("keeps drinks cold for a day", "a lid that never leaks in a bag"),
    "wool blanket": ("covers a double bed", "wool that gets softer with every wash"),
    "yoga mat": ("grips the floor and your hands", "a cushioning that spares the knees"),
    "wireless mouse": ("works on any surface, glass included", "a battery that lasts months"),
}
_ADJECTIVE_PHRASES = {
    "Classic": "a design that has not needed changing in years",
    "Compact": "a size that fits a drawer or a bag",
    "Deluxe": "the extras the basic model leaves out",
    "Eco": "recycled materials and plastic-free packaging",
    "Everyday": "a build meant to be used daily, not kept for best",
    "Handmade": "the small differences that show a maker's hand",
    "Heavy-duty": "reinforced parts for hard use",
    "Lightweight": "a weight you will not notice",
    "Modern": "clean lines and muted colours",
    "Organic": "materials grown without pesticides",
    "Pocket": "a size that really fits a pocket",
    "Premium": "the best materials of the range",
    "Rustic": "natural finishes and a farmhouse look",
    "Smart": "an app that shows what it is doing",
    "Vintage": "a look borrowed from the 1960s",
    "Waterproof": "seals that keep water out",
}
_PLURAL_NOUNS = {"headphones", "hiking boots"}
_DESCRIPTIONS = (
    "{This} {adjective} {noun} {use}. {It} {comes} with {quality}.",
    "{A_adjective} {noun} that {use}, with {phrase}.",
    "{phrase_capitalised}: {this} {noun} {use}. Expect {quality}.",
    "{A_adjective} take on the {noun}: {it} {use}, and {has} {quality}.",
)
# Products that get photos, and how many (one in twenty of the catalogue).
_PHOTO_EVERY = 20
_PHOTO_SIZE = (320, 240)


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
    quantity: int
    sku: str


def _description(rng: random.Random, adjective: str, noun: str) -> str:
    use, quality = _NOUN_USES[noun]
    phrase = _ADJECTIVE_PHRASES[adjective]
    plural = noun in _PLURAL_NOUNS
    article = "" if plural else ("An " if adjective[0] in "AEIOU" else "A ")
    template = rng.choice(_DESCRIPTIONS)
    if plural and template.startswith("{A_adjective} take"):
        article = "A "  # "a take on", whatever the noun's number
    return template.format(
        adjective=adjective.lower(),
        noun=noun,
        A_adjective=f"{article}{adjective.lower() if article else adjective}",
        This="These" if plural else "This",
        this="these" if plural else "this",
        It="They" if plural else "It",
        it="they" if plural else "it",
        comes="come" if plural else "comes",
        has="have" if plural else "has",
        use=use,
        quality=quality,
        phrase=phrase,
        phrase_capitalised=phrase[0].upper() + phrase[1:],
    )


def _sku(adjective: str, noun: str, number: int) -> str:
    initials = "".join(word[0] for word in noun.split())
    return f"{adjective[:3].upper()}-{initials.upper()}-{number:04d}"


def demo_products(count: int = DEMO_PRODUCT_COUNT) -> list[DemoProduct]:
    """`count` distinct products: prices from 0.99 to about 500, stocks from 0 to 250, one in
    ten sold out (so the out-of-stock path can be tried by hand)."""
    rng = random.Random(_SEED)  # noqa: S311 - demo data, not security
    words = [(adjective, noun) for adjective in _ADJECTIVES for noun in _NOUNS]
    rng.shuffle(words)
    products = []
    for index in range(count):
        adjective, noun = words[index % len(words)]
        name = f"{adjective} {noun}"
        if index >= len(words):
            name = f"{name} (edition {index // len(words) + 1})"
        price = Decimal(round(rng.lognormvariate(3.2, 1.1), 2)).quantize(Decimal("0.01"))
        price = min(max(price, Decimal("0.99")), Decimal("499.00"))
        stock = 0 if index % 10 == 7 else rng.randint(1, 250)
        description = _description(rng, adjective, noun)
        products.append(DemoProduct(name, description, price, stock, _sku(adjective, noun, index + 1)))
    return products


def png(width: int, height: int, rows: Callable[[int], bytes]) -> bytes:
    """A PNG (8-bit RGB, no interlace) of `height` rows, each `rows(y)`: `width` RGB triples."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = b"".join(b"\x00" + rows(y) for y in range(height))  # filter type 0 on each row
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(pixels, 9)) + chunk(b"IEND", b"")


def demo_photo(seed: int, width: int = _PHOTO_SIZE[0], height: int = _PHOTO_SIZE[1]) -> bytes:
    """A small made-up product photo: a backdrop, a floor and a striped box, colours from `seed`."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    backdrop, floor, box, stripe = (bytes(rng.randrange(40, 230) for _ in range(3)) for _ in range(4))
    left, right = width // 4 + rng.randrange(width // 8), width * 3 // 4 - rng.randrange(width // 8)
    top, bottom = height // 4 + rng.randrange(height // 8), height * 3 // 4
    band = max(4, rng.randrange(height // 12, height // 5))
    wall, ground = backdrop * width, floor * width

    def row(y: int) -> bytes:
        base = wall if y < bottom else ground
        if not top <= y < bottom:
            return base
        colour = stripe if ((y - top) // band) % 2 else box
        return base[: left * 3] + colour * (right - left) + base[right * 3 :]

    return png(width, height, row)


def _add_demo_photos(products: list[Any]) -> int:
    """Photos for one product in `_PHOTO_EVERY`, put in the images bucket and on the products (the
    demo's own shortcut: uploads by staff go through the checker). None without a bucket."""
    if not os.environ.get("IMAGES_BUCKET"):
        return 0
    import boto3

    from shop_common import settings
    from shop_common.dynamo import client, to_attributes
    from shop_common.keys import product_key
    from shop_common.product_images import IMAGES, bucket, photo_file_key

    s3 = boto3.client("s3")
    added = 0
    for product in products[::_PHOTO_EVERY]:
        images = []
        for number in range(1 + product.id % 3):
            digest = hashlib.sha256(f"demo-{product.id}-{number}".encode()).hexdigest()
            image_id, token = digest[:16], digest[16:24]
            key = photo_file_key(product.id, image_id, token, "image/png")  # where accepted photos are
            s3.put_object(Bucket=bucket(), Key=key, Body=demo_photo(product.id * 10 + number), ContentType="image/png")
            alt = f"{product.name}, view {number + 1}"
            images.append({"id": image_id, "key": key, "alt": alt, "width": _PHOTO_SIZE[0], "height": _PHOTO_SIZE[1]})
        client().update_item(
            TableName=settings.table_name(),
            Key=product_key(product.id),
            UpdateExpression="SET #images = :images",
            ExpressionAttributeNames={"#images": IMAGES},
            ExpressionAttributeValues=to_attributes({":images": images}),
        )
        added += len(images)
    return added


def seed_demo(*, on_progress: Callable[[int], None] | None = None) -> tuple[list[str], int]:
    """Create the demo users that are missing, and the demo catalogue if the catalogue is empty.
    Returns the usernames created and the number of products added. Safe to run again."""
    put_layers_on_path()
    from shop_common.catalog import read_catalog_stats
    from shop_common.models import NewProduct
    from shop_common.new_accounts import AccountExists, create_user
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
    if read_catalog_stats().product_count:
        return created, 0
    products = [NewProduct(**vars(product)) for product in demo_products()]
    result = apply_load(LoadPlan(to_add=products), on_progress or (lambda _count: None))
    _add_demo_photos(result.added)
    return created, len(products)
