"""An image's real type and dimensions, read from its first bytes (no image library: the formats
keep both in their headers, and parsing only headers cannot be made to decode a pixel).

PNG: the IHDR chunk; GIF: the logical screen; WebP: the VP8, VP8L or VP8X chunk; JPEG: the first
start-of-frame segment, found by walking the segments before it (so EXIF data or colour profiles
larger than the bytes read make a JPEG unreadable: the caller reads `HEAD_BYTES`).
"""

import struct
from dataclasses import dataclass

# Enough for every header here, and for a JPEG's EXIF block (at most 64 KiB) and a usual colour
# profile before its start-of-frame segment.
HEAD_BYTES = 256 * 1024

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Start-of-frame markers (baseline, progressive, lossless, arithmetic); not DHT (C4), JPG (C8), DAC (CC).
_JPEG_FRAMES = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
# Markers that stand alone, without a length: TEM and the restart markers.
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})


@dataclass(frozen=True)
class ImageInfo:
    content_type: str
    width: int
    height: int


def identify(head: bytes) -> ImageInfo | None:
    """The type and dimensions of the image these bytes begin, or None when they begin none of
    the supported formats (or its header lies beyond them, or claims a zero dimension)."""
    for reader in (_png, _gif, _webp, _jpeg):
        info = reader(head)
        if info is not None:
            return info if info.width > 0 and info.height > 0 else None
    return None


def _png(head: bytes) -> ImageInfo | None:
    # Signature, then the first chunk must be IHDR, 13 bytes long: width, height (big-endian).
    if not head.startswith(_PNG_SIGNATURE) or len(head) < 24 or head[8:16] != b"\x00\x00\x00\x0dIHDR":
        return None
    width, height = struct.unpack(">II", head[16:24])
    return ImageInfo("image/png", width, height)


def _gif(head: bytes) -> ImageInfo | None:
    if head[:6] not in (b"GIF87a", b"GIF89a") or len(head) < 10:
        return None
    width, height = struct.unpack("<HH", head[6:10])
    return ImageInfo("image/gif", width, height)


def _webp(head: bytes) -> ImageInfo | None:
    if len(head) < 30 or head[:4] != b"RIFF" or head[8:12] != b"WEBP":
        return None
    chunk = head[12:16]
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":  # lossy: a key frame's start code
        width, height = struct.unpack("<HH", head[26:30])
        return ImageInfo("image/webp", width & 0x3FFF, height & 0x3FFF)
    if chunk == b"VP8L" and head[20] == 0x2F:  # lossless: 14 bits each, minus one
        bits = int.from_bytes(head[21:25], "little")
        return ImageInfo("image/webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8X":  # extended: the canvas, 24 bits each, minus one
        return ImageInfo("image/webp", int.from_bytes(head[24:27], "little") + 1, int.from_bytes(head[27:30], "little") + 1)
    return None


def _jpeg(head: bytes) -> ImageInfo | None:
    if not head.startswith(b"\xff\xd8"):
        return None
    position = 2
    while position + 4 <= len(head):
        if head[position] != 0xFF:
            return None  # not at a marker: not a JPEG we can read
        marker = head[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker in _JPEG_STANDALONE:
            position += 2
            continue
        if marker in (0xD8, 0xD9, 0xDA):  # another start, the end, or the image data: no frame header first
            return None
        (length,) = struct.unpack(">H", head[position + 2 : position + 4])
        if length < 2:
            return None
        if marker in _JPEG_FRAMES:
            if position + 9 > len(head) or length < 7:
                return None
            height, width = struct.unpack(">HH", head[position + 5 : position + 9])
            return ImageInfo("image/jpeg", width, height)
        position += 2 + length
    return None
