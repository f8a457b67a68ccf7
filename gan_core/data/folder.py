"""A folder (or .zip) of a person's own pictures as a dataset: ``--dataset folder:PATH``.

Every PNG/JPEG/BMP/GIF file, of any size and mode, becomes a 28x28 grey image by the one decoder the
inversion's uploads use (``images.digit_from_bytes``: MNIST's recipe). Files it cannot read are listed
and skipped, never fatal; fewer than ``MIN_IMAGES`` usable images is an error. Labels come from
sub-folder names when every picture sits in one (``3/a.png``, ``cats/b.jpg``; a single folder around them
all, as zipping a folder makes, is looked through); otherwise the data is unlabeled (labels -1) and its
quality is measured without a judge classifier (``quality.unlabeled``).

Decoding is the slow part (about a millisecond a file), so the prepared images are cached under
``data_dir/prepared/`` by the sha256 of the files' names and contents: the same pictures are decoded once,
and a changed file is a new dataset. The run records the dataset's name, image count and that hash.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import torch

from ..images import MAX_BYTES, DigitImageError, digit_from_bytes, to_uint8
from ..records import load_tagged, save_record
from .archive import Source, open_source
from .common import HOLD_OUT_EVERY, KIND_FOLDER, DataError, TrainingData, held_count, split_by_stride

MIN_IMAGES = 100
SHOWN_SKIPPED = 5  # unreadable files named in the one-line message; the rest are counted
FORMAT, VERSION = "gan_core.folder-data", 1  # bump VERSION when the decoder's output changes
PREPARED = "prepared"  # the cache's folder under data_dir
log = logging.getLogger(__name__)


def load_folder(path: str | os.PathLike[str], data_dir: str | os.PathLike[str] = "data") -> TrainingData:
    """The pictures of the folder or .zip ``path`` as TrainingData (every 5th held out); see the module."""
    source = open_source(path)
    digest = source.digest()
    cache = cache_path(data_dir, digest)
    record = load_tagged(cache, FORMAT, key=digest, version=VERSION)
    if record is None:
        record = prepare(source, digest)
        try:
            save_record(cache, record)
        except OSError as exc:  # a read-only data dir: decode again next time
            log.warning("cannot cache the prepared folder data at %s (%s)", cache, exc)
    return training_data(record, Path(path))


def cache_path(data_dir: str | os.PathLike[str], digest: str) -> Path:
    return Path(data_dir) / PREPARED / f"folder-{digest[:16]}.pt"


def prepare(source: Source, digest: str) -> dict[str, Any]:
    """Decode every picture of ``source``: the cache record (uint8 images, labels, class names, the files
    skipped and why), or DataError when fewer than MIN_IMAGES are usable."""
    pictures, names, skipped = [], [], []
    for name, data in source.items():
        try:
            if data is None:
                raise DigitImageError(f"the file is over {MAX_BYTES // 2**20} MB, the limit")
            pictures.append(to_uint8(digit_from_bytes(data))[0])
            names.append(name)
        except DigitImageError as exc:
            skipped.append(f"{name} ({exc})")
    if len(pictures) < MIN_IMAGES:
        raise DataError(f"only {len(pictures):,} usable images of {len(source.names):,} pictures; at least "
                        f"{MIN_IMAGES} are needed" + (f"; {skipped_text(skipped)}" if skipped else ""))
    labels, class_names = labels_from_folders(names)
    return {"format": FORMAT, "version": VERSION, "key": digest,
            "images": torch.from_numpy(np.stack(pictures)), "labels": torch.from_numpy(labels),
            "class_names": list(class_names), "skipped": skipped}


def labels_from_folders(names: list[str]) -> tuple[np.ndarray, tuple[str, ...]]:
    """(int64 labels, class names) from the sub-folder of each name: ``3/a.png`` is class "3". Unlabeled
    (all -1, no names) unless every picture lies exactly one folder deep and there are at least two
    folders. One folder that holds everything (``digits/3/a.png``) is looked through."""
    parts = [PurePosixPath(name).parts for name in names]
    while parts and all(len(p) > 2 for p in parts) and len({p[0] for p in parts}) == 1:
        parts = [p[1:] for p in parts]
    classes = sorted({p[0] for p in parts}) if all(len(p) == 2 for p in parts) else []
    if len(classes) < 2:
        return np.full(len(names), -1, np.int64), ()
    index = {name: i for i, name in enumerate(classes)}
    return np.array([index[p[0]] for p in parts], np.int64), tuple(classes)


def skipped_text(skipped: list[str]) -> str:
    """``3 unreadable files skipped: a.png (why), ...``, the first SHOWN_SKIPPED named: one line."""
    shown = "; ".join(skipped[:SHOWN_SKIPPED])
    more = f"; and {len(skipped) - SHOWN_SKIPPED:,} more" if len(skipped) > SHOWN_SKIPPED else ""
    return f"{len(skipped):,} unreadable file{'s' if len(skipped) != 1 else ''} skipped: {shown}{more}"


def dataset_name(path: Path) -> str:
    """A folder's name, or a .zip's name without the suffix."""
    return path.stem if path.suffix.lower() == ".zip" else path.name


def training_data(record: dict[str, Any], path: Path) -> TrainingData:
    """TrainingData of a cache record: floats in [0, 1], every 5th image held out, the one-line message."""
    images = record["images"].reshape(len(record["images"]), -1).float() / 255.0
    labels, class_names, skipped = record["labels"], tuple(record["class_names"]), list(record["skipped"])
    name = dataset_name(path)
    n_held = held_count(len(images))
    labelled = f", {len(class_names)} classes from its sub-folders" if class_names else ", unlabeled"
    message = (f"folder {name}: {len(images) - n_held:,} training images (+{n_held:,} held out: every "
               f"{HOLD_OUT_EVERY}th) from {path}{labelled}" + (f"; {skipped_text(skipped)}" if skipped else ""))
    return split_by_stride(images, labels, "folder", message, KIND_FOLDER, labeled=bool(class_names),
                           class_names=class_names, name=name, content_hash=record["key"],
                           skipped=tuple(skipped))
