"""Image files of the supported formats with known dimensions, built byte by byte: headers only
(what the image checker reads), for tests of the checker and of uploads."""

import struct


def png_header(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + b"\x00\x00\x00\x00"


def gif(width: int, height: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\xf7\x00\x00" + b"\x00" * 20


def riff(chunk: bytes, payload: bytes) -> bytes:
    body = b"WEBP" + chunk + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", len(body)) + body


def webp_lossy(width: int, height: int) -> bytes:
    return riff(b"VP8 ", b"\x10\x02\x00" + b"\x9d\x01\x2a" + struct.pack("<HH", width, height) + b"\x00" * 10)


def webp_lossless(width: int, height: int) -> bytes:
    bits = (width - 1) | (height - 1) << 14
    return riff(b"VP8L", b"\x2f" + bits.to_bytes(4, "little") + b"\x00" * 10)


def webp_extended(width: int, height: int) -> bytes:
    return riff(b"VP8X", b"\x10\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little"))


def jpeg(width: int, height: int, padding: int = 0, frame: int = 0xC0) -> bytes:
    """A JFIF header, an APP1 segment of `padding` bytes (EXIF's place), a quantisation table,
    fill bytes, then the start of frame."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    app1 = b"\xff\xe1" + struct.pack(">H", padding + 2) + b"\x00" * padding
    dqt = b"\xff\xdb" + struct.pack(">H", 67) + b"\x00" * 65
    sof = bytes([0xFF, frame]) + struct.pack(">HBHHB", 17, 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return b"\xff\xd8" + app0 + app1 + dqt + b"\xff\xff" + sof + b"\xff\xda\x00\x0c"
