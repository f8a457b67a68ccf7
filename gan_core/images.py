"""The 28x28 pictures everything here draws: their size, grids, PNG and GIF encoding."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence

import numpy as np
from PIL import Image

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
