"""``sample``'s output with bounded memory, whatever ``--n`` asks for.

Drawing every latent and image at once made ``sample --n 10000000`` grow to 22 GB before the kernel killed
it (10 million images are 31 GB of float32). An ``.npy`` is therefore streamed: the header first, then
``CHUNK`` latents at a time are drawn, turned into images and appended, so the process holds one chunk
(~3 MB of images per 1,000) whatever n is. The file is written through the file handle rather than a
memory map: pages written through a map count in the process's resident memory until it is unmapped, which
for one map over the whole file is the whole file. A request that the disk cannot hold is refused before
anything is written. A PNG grid is one picture held in memory: it is refused past ``PNG_MAX`` images.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import torch

from ..atomic import atomic_write
from ..gan.model import GENERATE_CHUNK, Generator, generate, sample_z
from ..images import IMAGE_PIXELS, IMAGE_SIDE, make_grid, save_png

CHUNK = 10 * GENERATE_CHUNK  # latents per draw (31 MB of images): whole passes of generate, so one draw's bits
PNG_MAX = 10_000  # images in one PNG grid: 100 x 100 tiles, 3,002 px a side
DISK_MARGIN = 256 * 2**20  # what must stay free on the disk after the file is written


class SampleLimitError(ValueError):
    """A request ``sample`` refuses before it writes anything; the message is one line for the user."""


def write_samples(generator: Generator, seed: int, n: int, out: Path) -> None:
    """Write the images of ``seeded_z(seed, z_dim, n)`` to ``out`` (.npy: float32 (n, 28, 28); .png: a
    grid), from ``generator`` in eval mode; raises SampleLimitError for a request past the limits."""
    if out.suffix == ".png":
        if n > PNG_MAX:
            raise SampleLimitError(f"a PNG grid holds at most {PNG_MAX:,} images (a 100 x 100 grid); for "
                                   f"{n:,} write --out FILE.npy, which is streamed to disk")
        out.parent.mkdir(parents=True, exist_ok=True)
        save_png(make_grid(_images(generator, seed, n)), out)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    needed = n * IMAGE_PIXELS * 4
    free = shutil.disk_usage(out.parent).free
    if needed + DISK_MARGIN > free:
        raise SampleLimitError(f"{n:,} images need {needed / 2**30:,.1f} GiB in {out.name} but only "
                               f"{free / 2**30:,.1f} GiB is free on its disk; ask for fewer with --n")
    atomic_write(out, lambda handle: _stream_npy(handle, generator, seed, n))


def _stream_npy(handle, generator: Generator, seed: int, n: int) -> None:
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float32)), "fortran_order": False,
              "shape": (n, IMAGE_SIDE, IMAGE_SIDE)}
    np.lib.format.write_array_header_1_0(handle, header)
    for images in _chunks(generator, seed, n):
        handle.write(np.ascontiguousarray(images, dtype=np.float32).tobytes())


def _chunks(generator: Generator, seed: int, n: int):
    """The images of ``seeded_z(seed, z_dim, n)`` in pieces of at most CHUNK: one seeded torch.Generator
    drawn from in turn gives exactly the latents of one draw of n (tests/cli check it)."""
    draws = torch.Generator().manual_seed(int(seed))
    for start in range(0, n, CHUNK):
        z = sample_z(min(CHUNK, n - start), generator.z_dim, generator=draws)
        yield generate(generator, z).numpy()


def _images(generator: Generator, seed: int, n: int) -> np.ndarray:
    return np.concatenate(list(_chunks(generator, seed, n)))
