"""The image checker's rules: an uploaded photo joins its product's images only if its bytes
are what the upload declared (a PNG, JPEG, GIF or WebP of that type, within the size cap and
sensible dimensions) and its upload is still pending; anything else is deleted.

The upload form's policy already held the type and the size at upload (S3 enforces it); the
bytes are checked here because a policy cannot see what a file really is.
"""

from aws_lambda_powertools import Logger

from image_types import HEAD_BYTES, identify
from shop_common.product_images import MAX_BYTES, parse_object_key
from upload_store import accept, delete_object, drop_pending, read_head, read_photo_state

logger = Logger(child=True)

# Wider or taller than any screen needs: larger ones are refused rather than served to phones.
MAX_DIMENSION = 10_000


def check_upload(bucket: str, key: str) -> str:
    """Check one uploaded object; returns what became of it (for the log)."""
    parsed = parse_object_key(key)
    if parsed is None:
        delete_object(bucket, key)  # only upload forms write here, with keys of that form
        return "deleted: not an upload's key"
    product_id, image_id = parsed
    state = read_photo_state(product_id, image_id)
    if state.checked:
        return "kept: already accepted (a repeated event)"
    if state.pending is None:
        delete_object(bucket, key)
        return "deleted: no pending upload (the product or the photo was deleted, or the upload expired)"
    head = read_head(bucket, key, HEAD_BYTES)
    if head is None:
        drop_pending(product_id, image_id)
        return "dropped: the object is gone"
    data, size = head
    problem = _problem(data, size, str(state.pending["content_type"]))
    if problem is not None:
        delete_object(bucket, key)
        drop_pending(product_id, image_id)
        return f"refused: {problem}"
    info = identify(data)
    assert info is not None  # _problem found none
    image = {"id": image_id, "key": key, "alt": state.pending.get("alt", ""), "width": info.width, "height": info.height}
    if not accept(product_id, image_id, image):
        delete_object(bucket, key)  # deleted by staff (or the product) while we checked
        return "deleted: the upload stopped being pending while it was checked"
    return "accepted"


def _problem(data: bytes, size: int, declared: str) -> str | None:
    if size > MAX_BYTES:
        return f"{size} bytes, over the cap of {MAX_BYTES}"
    info = identify(data)
    if info is None:
        return "not a PNG, JPEG, GIF or WebP image"
    if info.content_type != declared:
        return f"a {info.content_type} image uploaded as {declared}"
    if max(info.width, info.height) > MAX_DIMENSION:
        return f"{info.width}x{info.height} pixels, over {MAX_DIMENSION} on a side"
    return None
