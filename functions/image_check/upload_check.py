"""The image checker's rules: an uploaded photo joins its product's images only if its bytes
are what the upload declared (a PNG, JPEG, GIF or WebP of that type, within the size cap and
sensible dimensions) and its upload is still pending; anything else is deleted, and a refused
upload is marked rejected, with the reason, for staff to see.

The upload form's policy already held the type and the size at upload (S3 enforces it); the
bytes are checked here because a policy cannot see what a file really is. The bytes checked are
the bytes served: they are written to the photo's own file, which no form can write, and the
upload's file is deleted (shop_common.product_images).
"""

import secrets

from aws_lambda_powertools import Logger

from image_check.image_types import HEAD_BYTES, ImageInfo, identify
from image_check.upload_store import accept, delete_object, drop_pending, read_photo_state, read_upload, reject, write_photo_file
from shop_common.product_images import MAX_BYTES, is_photo_file, parse_object_key, photo_file_key

logger = Logger(child=True)

# Wider or taller than any screen needs: larger ones are refused rather than served to phones.
MAX_DIMENSION = 10_000
# Pixels in all: what a client decodes (4 bytes each). A small file can declare 10,000 x 10,000
# pixels (400 MB decoded: a decompression bomb); 25 million (a 6,000 x 4,000 camera photo fits)
# is at most 100 MB.
MAX_PIXELS = 25_000_000


def check_upload(bucket: str, key: str) -> str:
    """Check one uploaded object; returns what became of it (for the log)."""
    if is_photo_file(key):
        return "kept: an accepted photo's file"  # this checker wrote it
    parsed = parse_object_key(key)
    if parsed is None:
        delete_object(bucket, key)  # only upload forms write here, with keys of that form
        return "deleted: not an upload's key"
    product_id, image_id = parsed
    state = read_photo_state(product_id, image_id)
    if state.checked:
        if state.file_key == key:  # accepted before photos had files of their own
            return "kept: already accepted (a repeated event)"
        delete_object(bucket, key)  # the form posted again: the photo keeps the bytes it was accepted with
        return "deleted: the upload's file, its photo already accepted (a repeated event, or the form posted again)"
    if state.pending is None:
        delete_object(bucket, key)
        return "deleted: no pending upload (the product or the photo was deleted, or the upload expired)"
    upload = read_upload(bucket, key, MAX_BYTES)
    if upload is None:
        drop_pending(product_id, image_id)
        return "dropped: the object is gone"
    data, size = upload
    info = identify(data[:HEAD_BYTES])  # the headers are at the start (image_types)
    problem = _problem(info, size, str(state.pending["content_type"]))
    if info is None or problem is not None:
        reason = problem or "not a PNG, JPEG, GIF or WebP image"
        delete_object(bucket, key)
        reject(product_id, image_id, reason)
        return f"refused: {reason}"
    file_key = photo_file_key(product_id, image_id, secrets.token_hex(4), info.content_type)
    write_photo_file(bucket, file_key, data, info.content_type)
    image = {"id": image_id, "key": file_key, "alt": state.pending.get("alt", ""), "width": info.width, "height": info.height}
    accepted = accept(product_id, image_id, image)
    if not accepted:  # deleted by staff (or the product) while we checked, or accepted by another check
        delete_object(bucket, file_key)
    delete_object(bucket, key)
    return "accepted" if accepted else "deleted: the upload stopped being pending while it was checked"


def _problem(info: ImageInfo | None, size: int, declared: str) -> str | None:
    if size > MAX_BYTES:
        return f"{size} bytes, over the cap of {MAX_BYTES}"
    if info is None:
        return "not a PNG, JPEG, GIF or WebP image"
    if info.content_type != declared:
        return f"a {info.content_type} image uploaded as {declared}"
    if max(info.width, info.height) > MAX_DIMENSION:
        return f"{info.width}x{info.height} pixels, over {MAX_DIMENSION} on a side"
    if info.width * info.height > MAX_PIXELS:
        return f"{info.width}x{info.height} pixels, over the cap of {MAX_PIXELS:,} pixels in all"
    return None
