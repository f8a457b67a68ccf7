"""Any picture of a digit -> a 28x28 MNIST-like image: grey, white ink on black, centred by its mass.

MNIST's own recipe: the digit's bounding box is scaled (keeping its aspect) to fit a 20x20 box, then
placed in the 28x28 frame so that its centre of mass sits at the frame's centre. Dark ink on a light
background (a scan, a photo of paper, a drawing on white) is inverted first; the background's level,
read from the border, becomes black. Refusals raise ``DigitImageError`` with a message for a person.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 5 * 1024 * 1024
MAX_SIDE = 4096
SIDE = 28
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
            if max(picture.size) > MAX_SIDE:  # read from the header, before any pixel is decoded
                raise DigitImageError(f"the image is {picture.width}x{picture.height} pixels; at most "
                                      f"{MAX_SIDE} per side")
            picture.load()
    except DigitImageError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DigitImageError("this file is not an image that can be read (PNG, JPEG, GIF, BMP, WebP ...)") \
            from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise DigitImageError(f"the image is damaged and cannot be read ({exc})") from exc
    return digit_from_picture(picture)


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
    frame = np.zeros((SIDE, SIDE))
    top, left = (SIDE - size[1]) // 2, (SIDE - size[0]) // 2
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
    centre = (SIDE - 1) / 2.0
    dy, dx = cy - centre, cx - centre
    image = Image.fromarray(frame.astype(np.float32))  # mode "F"
    # An affine transform maps output (x, y) to input (x + dx, y + dy): the content moves by (-dx, -dy).
    moved = image.transform(image.size, Image.AFFINE, (1, 0, dx, 0, 1, dy), resample=Image.BILINEAR)
    return np.clip(np.asarray(moved, dtype=np.float64), 0.0, 1.0)
