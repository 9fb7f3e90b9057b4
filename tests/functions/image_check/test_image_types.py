"""The image checker's header parser (functions/image_check/image_types.py): the real type and
dimensions of PNG, GIF, WebP and JPEG files, from their first bytes, against images built here
with known dimensions; anything else (truncated headers, random bytes) is None, never an error."""

from hypothesis import given
from hypothesis import strategies as st

from image_check.image_types import HEAD_BYTES, ImageInfo, identify
from image_files import gif, jpeg, png_header, webp_extended, webp_lossless, webp_lossy
from shopctl.demo import demo_photo, png

Sizes = st.tuples(st.integers(1, 2**16 - 1), st.integers(1, 2**16 - 1))


@given(Sizes)
def test_png_gif_and_jpeg_dimensions_are_read_from_their_headers(size: tuple[int, int]) -> None:
    width, height = size
    assert identify(png_header(width, height)) == ImageInfo("image/png", width, height)
    assert identify(gif(width, height)) == ImageInfo("image/gif", width, height)
    assert identify(jpeg(width, height)) == ImageInfo("image/jpeg", width, height)


@given(st.integers(1, 2**14 - 1), st.integers(1, 2**14 - 1), st.integers(1, 2**24))
def test_each_kind_of_webp_gives_its_dimensions(width: int, height: int, canvas: int) -> None:
    assert identify(webp_lossy(width, height)) == ImageInfo("image/webp", width, height)
    assert identify(webp_lossless(width, height)) == ImageInfo("image/webp", width, height)
    assert identify(webp_extended(canvas, width)) == ImageInfo("image/webp", canvas, width)


@given(Sizes, st.integers(0, 65_000), st.sampled_from([0xC0, 0xC1, 0xC2, 0xC3, 0xC9, 0xCF]))
def test_a_jpeg_frame_is_found_past_metadata_of_any_size_and_any_frame_type(
    size: tuple[int, int], padding: int, frame: int
) -> None:
    width, height = size
    data = jpeg(width, height, padding, frame)
    assert len(data) <= HEAD_BYTES
    assert identify(data) == ImageInfo("image/jpeg", width, height)


def test_real_pngs_drawn_by_the_demo_are_read() -> None:
    assert identify(demo_photo(7)) == ImageInfo("image/png", 320, 240)
    assert identify(png(3, 2, lambda y: b"\x10\x20\x30" * 3)) == ImageInfo("image/png", 3, 2)


@given(st.sampled_from([png_header, gif, webp_lossy, webp_lossless, webp_extended, jpeg]), st.data())
def test_a_header_cut_short_is_not_an_image(build: object, data: st.DataObject) -> None:
    assert callable(build)
    whole: bytes = build(640, 480)
    cut = data.draw(st.integers(0, 29 if build is not jpeg else len(whole) - 5))
    found = identify(whole[:cut])
    assert found is None or found == identify(whole)


@given(st.binary(max_size=2048))
def test_any_bytes_give_an_image_or_none_never_an_error(data: bytes) -> None:
    found = identify(data)
    assert found is None or (found.width > 0 and found.height > 0)


def test_zero_dimensions_text_and_other_formats_are_not_images() -> None:
    assert identify(png_header(0, 10)) is None
    assert identify(gif(10, 0)) is None
    assert identify(b"<svg xmlns='http://www.w3.org/2000/svg'/>") is None
    assert identify(b"%PDF-1.7\n" + b"\x00" * 100) is None
    assert identify(b"BM" + b"\x00" * 100) is None  # BMP: not accepted
    assert identify(b"\xff\xd8\xff\xda" + b"\x00" * 100) is None  # image data before any frame header
