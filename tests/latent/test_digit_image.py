import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from gan_core.images import MAX_BYTES, DigitImageError, digit_from_bytes


def encode(picture, fmt="PNG"):
    buffer = io.BytesIO()
    picture.save(buffer, format=fmt)
    return buffer.getvalue()


def seven(size=(300, 200), ink=(0, 0, 0), paper=(255, 255, 255), mode="RGB"):
    """A thick '7' drawn off-centre, dark on light by default."""
    picture = Image.new(mode, size, paper)
    draw = ImageDraw.Draw(picture)
    draw.line([(40, 30), (140, 30), (80, 180)], fill=ink, width=14)
    return picture


def assert_mnist_like(digit):
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert digit.min() >= 0 and digit.max() == pytest.approx(1.0, abs=0.02)
    ys, xs = np.indices(digit.shape)
    mass = digit.sum()
    assert (ys * digit).sum() / mass == pytest.approx(13.5, abs=0.3)  # centre of mass at the centre
    assert (xs * digit).sum() / mass == pytest.approx(13.5, abs=0.3)
    ink_rows = np.flatnonzero((digit > 0.1).any(1))
    assert ink_rows[-1] - ink_rows[0] + 1 <= 22  # fitted into a 20x20 box (plus the resampling blur)
    assert digit[0].max() < 0.05 and digit[:, 0].max() < 0.05  # black border


def test_dark_ink_on_light_paper_is_inverted_and_centred():
    digit = digit_from_bytes(encode(seven()))
    assert_mnist_like(digit)


def test_polarity_modes_and_formats_give_the_same_digit():
    reference = digit_from_bytes(encode(seven()))
    variants = {
        "white on black, grey": seven(ink=255, paper=0, mode="L"),
        "RGBA transparent, black strokes": seven(ink=(0, 0, 0, 255), paper=(0, 0, 0, 0), mode="RGBA"),
        "palette": seven().convert("P"),
        "16-bit": Image.fromarray(np.asarray(seven(ink=0, paper=255, mode="L"), np.uint16) * 257),
    }
    for name, picture in variants.items():
        digit = digit_from_bytes(encode(picture))
        assert_mnist_like(digit)
        assert np.abs(digit - reference).mean() < 0.02, name
    jpeg = digit_from_bytes(encode(seven(), "JPEG"))
    assert np.abs(jpeg - reference).mean() < 0.05


@pytest.mark.parametrize("data, message", [
    (b"hello, I am a text file pretending to be a PNG\n" * 3, "not an image"),
    (b"", "empty"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 6 * 1024 * 1024, "the file is 6.0 MB; the limit is 5 MB"),
])
def test_refusals_say_why(data, message):
    with pytest.raises(DigitImageError, match=message):
        digit_from_bytes(data)


def test_the_size_limit_refuses_only_files_above_it():
    """A file of exactly MAX_BYTES is read (and refused for what it holds, not for its size); one byte more is
    refused for its size before anything decodes it."""
    at_limit = b"\x89PNG\r\n\x1a\n" + b"\0" * (MAX_BYTES - 8)
    with pytest.raises(DigitImageError) as refused:
        digit_from_bytes(at_limit)
    assert "limit" not in str(refused.value)
    with pytest.raises(DigitImageError, match="the limit is 5 MB"):
        digit_from_bytes(at_limit + b"\0")


def test_too_many_pixels_per_side_and_blank_and_damaged_images_are_refused():
    wide = encode(Image.new("L", (4097, 8), 0))
    assert len(wide) < MAX_BYTES
    with pytest.raises(DigitImageError, match=r"too large \(4097x8 pixels\); the limit is 4096 pixels per side"):
        digit_from_bytes(wide)
    digit_from_bytes(encode(seven(size=(4096, 300))))  # the limit itself is allowed
    with pytest.raises(DigitImageError, match="blank"):
        digit_from_bytes(encode(Image.new("RGB", (50, 50), (200, 200, 200))))
    with pytest.raises(DigitImageError):
        digit_from_bytes(encode(seven())[:200])  # cut off mid-file


def png_header_only(width, height):
    """A PNG whose header promises ``width`` x ``height`` grey pixels and holds none: what a reader sees before
    it decodes anything (a real 20,000 x 20,000 file would take seconds and 400 MB to make)."""
    import struct
    import zlib

    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


@pytest.mark.parametrize("side", [20_000, 12_000, 5_000])  # PIL's bomb error, its bomb warning, our own limit
def test_an_oversized_image_says_it_is_too_large_and_the_limit_in_one_line(side):
    with pytest.raises(DigitImageError) as refused:
        digit_from_bytes(png_header_only(side, side))
    message = str(refused.value)
    assert "too large" in message and "the limit is 4096 pixels per side" in message and "\n" not in message
    assert "not an image" not in message
