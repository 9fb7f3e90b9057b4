"""Product photos: what the staff catalogue (which hands out uploads) and the image checker (which
accepts them) agree on: where an upload lands, what it may be, and how the product item records
photos waiting for their check and photos checked.

On the product item (docs/data-model.md):
- `images`          a list of maps {id, key, alt, width, height}, in display order (checked photos)
- `pending_images`  a map image id -> {alt, content_type, expires_at}: uploads handed out and
                    not yet checked; the checker moves an entry to `images` (or drops it) in one
                    conditional UpdateItem of the product
"""

import os
import re

# What a browser shows without a plug-in, and what the checker can read the dimensions of.
CONTENT_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
MAX_BYTES = 5 * 1024 * 1024
# Photos per product, checked and pending together: a product item stays small (a listing page
# reads 100 of them) and an upload cannot grow it without bound.
MAX_IMAGES = 10
IMAGES = "images"
PENDING = "pending_images"
# An upload form is valid this long; a pending entry is dropped from the count this long after
# it was handed out (the checker still accepts it while it is on the item).
UPLOAD_SECONDS = 600
PENDING_SECONDS = 3600

_KEY = re.compile(r"^products/([1-9][0-9]{0,15})/([0-9a-f]{16})$")


def bucket() -> str:
    """The images bucket (template.yaml's ImagesBucket)."""
    return os.environ["IMAGES_BUCKET"]


def object_key(product_id: int, image_id: str) -> str:
    return f"{product_prefix(product_id)}{image_id}"


def product_prefix(product_id: int) -> str:
    """The keys of one product's uploads begin with this (and no other product's do)."""
    return f"products/{product_id}/"


def parse_object_key(key: str) -> tuple[int, str] | None:
    """(product id, image id) of an upload's key; None for any other key."""
    match = _KEY.match(key)
    return (int(match.group(1)), match.group(2)) if match else None
