"""The 28x28 pictures everything here draws: their size, grids, PNG and GIF encoding; and the one decoder
that turns any picture file (a person's upload, an image of a folder dataset) into such a picture.

The decoder follows MNIST's own recipe: the drawing's bounding box is scaled (keeping its aspect) to fit a
20x20 box, then placed in the 28x28 frame so that its centre of mass sits at the frame's centre. Dark ink on
a light background (a scan, a photo of paper, a drawing on white) is inverted first; the background's
level, read from the border, becomes black. Refusals raise ``DigitImageError`` with one line for a person.
"""

from __future__ import annotations

import io
import os
import re
import warnings
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .atomic import atomic_write_bytes

IMAGE_SIDE = 28  # MNIST's digits, and every image a generator draws, are IMAGE_SIDE x IMAGE_SIDE grey
IMAGE_PIXELS = IMAGE_SIDE * IMAGE_SIDE


def to_uint8(images: np.ndarray) -> np.ndarray:
    """(N, 784) or (N, 28, 28) floats in [0, 1] -> (N, 28, 28) uint8."""
    images = np.asarray(images, dtype=np.float32).reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
    return (np.clip(images, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def make_grid(images: np.ndarray, ncols: int | None = None, pad: int = 2, scale: int = 1) -> np.ndarray:
    """Tile images row by row into one uint8 picture with ``pad`` black pixels between tiles."""
    tiles = to_uint8(images)
    n = len(tiles)
    if n == 0:
        raise ValueError("make_grid needs at least one image")
    ncols = ncols or int(np.ceil(np.sqrt(n)))
    nrows = int(np.ceil(n / ncols))
    step = IMAGE_SIDE + pad
    grid = np.zeros((nrows * step + pad, ncols * step + pad), dtype=np.uint8)
    for i, tile in enumerate(tiles):
        row, col = divmod(i, ncols)
        grid[pad + row * step: pad + row * step + IMAGE_SIDE, pad + col * step: pad + col * step + IMAGE_SIDE] = tile
    return upscale(grid, scale)


def comparison_sheet(generated: np.ndarray, real: np.ndarray, ncols: int = 10, gap: int = 12) -> np.ndarray:
    """Two grids side by side, generated on the left and real on the right, a white gap between: the
    sheet a person reads to judge whether the generated digits are handwriting."""
    left, right = make_grid(generated, ncols), make_grid(real, ncols)
    height = max(len(left), len(right))
    pad = [np.zeros((height - len(grid), grid.shape[1]), np.uint8) for grid in (left, right)]
    return np.hstack((np.vstack((left, pad[0])), np.full((height, gap), 255, np.uint8), np.vstack((right, pad[1]))))


def upscale(picture: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement (each pixel becomes a factor x factor block): crisp, not blurred."""
    if factor < 1:
        raise ValueError("factor must be >= 1")
    picture = np.asarray(picture)
    return picture.repeat(factor, axis=0).repeat(factor, axis=1) if factor > 1 else picture


def png_bytes(picture: np.ndarray, compress_level: int = 6) -> bytes:
    """Lossless PNG; zlib level 6 is PIL's default, 1 encodes ~4x faster for a slightly larger file."""
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG", compress_level=compress_level)
    return buffer.getvalue()


def save_png(picture: np.ndarray, path: str | os.PathLike[str]) -> None:
    atomic_write_bytes(path, png_bytes(picture))


def gif_bytes(images: np.ndarray, *, scale: int = 4, frame_ms: int = 120, last_frame_ms: int = 800) -> bytes:
    """A looping animated GIF with one frame per image (e.g. a latent path or interpolation strip)."""
    tiles = to_uint8(images)
    if not len(tiles):
        raise ValueError("gif_bytes needs at least one image")
    return encode_gif([upscale(tile, scale) for tile in tiles], frame_ms=frame_ms, last_frame_ms=last_frame_ms)


def encode_gif(pictures: Sequence[np.ndarray], *, frame_ms: int, last_frame_ms: int, optimize: bool = True) -> bytes:
    """The one GIF encoder: a looping animation of grey uint8 ``pictures``, each shown ``frame_ms``, the last
    ``last_frame_ms`` (so the end result is readable). ``optimize`` lets PIL shrink each frame's palette."""
    if not len(pictures):
        raise ValueError("a GIF needs at least one picture")
    frames = [Image.fromarray(np.asarray(picture, dtype=np.uint8)) for picture in pictures]
    durations = [frame_ms] * (len(frames) - 1) + [last_frame_ms]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0,
                   optimize=optimize)
    return buffer.getvalue()

MAX_BYTES = 5 * 1024 * 1024
MAX_IMAGE_SIDE = 4096
BOX = 20  # MNIST fits each digit into 20x20 before centring it in 28x28
INK_THRESHOLD = 0.1  # share of the brightest ink a pixel needs to count toward the bounding box


class DigitImageError(ValueError):
    """The file cannot be used as a digit; the message says why, for a person."""


def digit_from_bytes(data: bytes) -> np.ndarray:
    """float32 (28, 28) in [0, 1], white ink on black, from the bytes of a PNG/JPEG/... file."""
    if len(data) > MAX_BYTES:
        raise DigitImageError(f"the file is {len(data) / 2**20:.1f} MB; the limit is {MAX_BYTES // 2**20} MB")
    if not data:
        raise DigitImageError("the file is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            picture = Image.open(io.BytesIO(data))
            _check_side(*picture.size)  # read from the header, before any pixel is decoded
            picture.load()
    except DigitImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # PIL refuses a huge header (over ~89 M pixels) inside ``open``, before our own check could run.
        raise DigitImageError(f"the image is too large ({_pixels(exc)}); the limit is {MAX_IMAGE_SIDE} pixels "
                              f"per side") from exc
    except UnidentifiedImageError as exc:
        raise DigitImageError("this file is not an image that can be read (PNG, JPEG, GIF, BMP, WebP ...)") \
            from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise DigitImageError(" ".join(f"the image is damaged and cannot be read ({exc})".split())) from exc
    return digit_from_picture(picture)


def _check_side(width: int, height: int) -> None:
    if max(width, height) > MAX_IMAGE_SIDE:
        raise DigitImageError(f"the image is too large ({width}x{height} pixels); the limit is {MAX_IMAGE_SIDE} "
                              f"pixels per side")


def _pixels(exc: Exception) -> str:
    """The pixel count in PIL's bomb message ("Image size (400000000 pixels) exceeds ..."), for a person."""
    found = re.search(r"\((\d+) pixels\)", str(exc))
    return f"{int(found.group(1)):,} pixels" if found else "too many pixels"


def digit_from_picture(picture: Image.Image) -> np.ndarray:
    """See ``digit_from_bytes``; takes an opened PIL image of any mode and size."""
    picture = ImageOps.exif_transpose(picture)
    grey = _grey(picture)
    return centre_digit(grey)


def _grey(picture: Image.Image) -> np.ndarray:
    """float64 (h, w) in [0, 1] where 1 is white; transparent pixels take the background's colour."""
    if picture.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        values = np.asarray(picture, dtype=np.float64)
        span = values.max() - values.min()
        return (values - values.min()) / span if span > 0 else np.zeros_like(values)
    rgba = np.asarray(picture.convert("RGBA"), dtype=np.float64) / 255.0
    grey = rgba[..., :3] @ np.array([0.299, 0.587, 0.114])
    alpha = rgba[..., 3]
    if alpha.min() < 1.0:
        # Ink drawn on a transparent layer: put it on the background it contrasts with.
        opaque = alpha > 0.5
        ink_is_dark = opaque.any() and grey[opaque].mean() < 0.5
        background = 1.0 if ink_is_dark else 0.0
        grey = alpha * grey + (1.0 - alpha) * background
    return grey


def centre_digit(grey: np.ndarray) -> np.ndarray:
    """(h, w) grey in [0, 1] (either polarity) -> float32 (28, 28) MNIST-style."""
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    background = float(np.median(border))
    ink = background - grey if background > 0.5 else grey - background  # light background: invert
    ink = np.clip(ink, 0.0, None)
    peak = float(ink.max())
    if peak <= 0.05:
        raise DigitImageError("no digit found: the image is blank (one colour)")
    ink = ink / peak
    rows = np.flatnonzero((ink > INK_THRESHOLD).any(1))
    cols = np.flatnonzero((ink > INK_THRESHOLD).any(0))
    crop = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    h, w = crop.shape
    scale = BOX / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = np.asarray(Image.fromarray((crop * 255).astype(np.uint8)).resize(size, Image.LANCZOS),
                       dtype=np.float64) / 255.0
    frame = np.zeros((IMAGE_SIDE, IMAGE_SIDE))
    top, left = (IMAGE_SIDE - size[1]) // 2, (IMAGE_SIDE - size[0]) // 2
    frame[top:top + size[1], left:left + size[0]] = small
    centred = _shift_to_centre(frame)
    # Shrinking thins the strokes' peaks (a 14-px pen on a 300-px canvas is ~1 px wide at 20x20); MNIST's
    # strokes reach full white, so stretch the ink back to a peak of 1.
    return (centred / max(float(centred.max()), 1e-6)).astype(np.float32)


def _shift_to_centre(frame: np.ndarray) -> np.ndarray:
    """Shift (bilinear, sub-pixel) so the centre of mass lands on the frame's centre."""
    mass = frame.sum()
    ys, xs = np.indices(frame.shape)
    cy, cx = (ys * frame).sum() / mass, (xs * frame).sum() / mass
    centre = (IMAGE_SIDE - 1) / 2.0
    dy, dx = cy - centre, cx - centre
    image = Image.fromarray(frame.astype(np.float32))  # mode "F"
    # An affine transform maps output (x, y) to input (x + dx, y + dy): the content moves by (-dx, -dy).
    moved = image.transform(image.size, Image.AFFINE, (1, 0, dx, 0, 1, dy), resample=Image.BILINEAR)
    return np.clip(np.asarray(moved, dtype=np.float64), 0.0, 1.0)
