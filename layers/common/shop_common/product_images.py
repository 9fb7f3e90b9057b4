"""Product photos: what the staff catalogue (which hands out uploads) and the image checker (which
accepts them) agree on: where an upload lands, what it may be, and how the product item records
photos waiting for their check and photos checked.

On the product item (docs/data-model.md):
- `images`          a list of maps {id, key, alt, width, height}, in display order (checked photos)
- `pending_images`  a map image id -> {alt, content_type, expires_at, rejected?}: uploads handed
                    out and not yet accepted; the checker moves an entry to `images`, or marks it
                    `rejected` with the reason, in one conditional UpdateItem of the product

Files: an upload form writes `products/<id>/<image id>` (its policy names exactly that key). The
checker reads the whole file, checks it, and writes those very bytes to the photo's own file,
`products/<id>/<image id>-<8 hex>.<ext>`, which no form can write: so a form posted again after
its photo was accepted (it stays valid its 10 minutes) can never change what the photo's URL
serves; the upload's file is then deleted.
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
_PHOTO_FILE = re.compile(r"^products/([1-9][0-9]{0,15})/([0-9a-f]{16})-[0-9a-f]{8}\.(png|jpg|gif|webp)$")
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}


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


def photo_file_key(product_id: int, image_id: str, token: str, content_type: str) -> str:
    """The accepted photo's own file (`token`: 8 hex digits, new for each check)."""
    return f"{object_key(product_id, image_id)}-{token}.{EXTENSIONS[content_type]}"


def is_photo_file(key: str) -> bool:
    """Whether a key is an accepted photo's file (written by the checker, never by a form)."""
    return _PHOTO_FILE.match(key) is not None
