"""A run's folder: checkpoint, losses.csv, per-epoch sample grids, and the one-writer lock.

    checkpoints/<run>/checkpoint.pt        the whole resumable state (the source of truth)
    checkpoints/<run>/losses.csv           epoch,d_loss,g_loss,d_real,d_fake,seconds (epoch means)
    checkpoints/<run>/samples/epoch_NNNN.png   10x10 grid from the fixed preview noise
"""

from __future__ import annotations

import csv
import datetime as dt
import errno
import fcntl
import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .atomic import atomic_write_bytes, remove_stale_temps
from .config import validate_run_name

CSV_COLUMNS = ("epoch", "d_loss", "g_loss", "d_real", "d_fake", "seconds")
EVENT_COLUMNS = ("step", "field", "old", "new")  # events.csv: live hyperparameter edits
_SAMPLE_NAME = re.compile(r"^epoch_(\d{4,})\.png$")


class RunError(RuntimeError):
    """A run folder cannot be used as asked (missing, exists already, locked by another writer)."""


@dataclass(frozen=True)
class RunPaths:
    root: Path
    name: str

    @classmethod
    def of(cls, root: str | os.PathLike[str], name: str) -> RunPaths:
        return cls(Path(root), validate_run_name(name))

    @property
    def folder(self) -> Path:
        return self.root / self.name

    @property
    def checkpoint(self) -> Path:
        return self.folder / "checkpoint.pt"

    @property
    def losses_csv(self) -> Path:
        return self.folder / "losses.csv"

    @property
    def events_csv(self) -> Path:
        return self.folder / "events.csv"

    @property
    def samples(self) -> Path:
        return self.folder / "samples"

    @property
    def lock(self) -> Path:
        return self.folder / ".lock"

    def sample(self, epoch: int) -> Path:
        return self.samples / f"epoch_{epoch:04d}.png"

    def sample_epochs(self) -> list[int]:
        """Epochs that have a sample grid on disk, ascending."""
        if not self.samples.is_dir():
            return []
        found = (_SAMPLE_NAME.match(p.name) for p in self.samples.iterdir())
        return sorted(int(m.group(1)) for m in found if m)

    def make(self) -> None:
        self.samples.mkdir(parents=True, exist_ok=True)


def losses_csv_bytes(epoch_log: Sequence[dict[str, float]]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in epoch_log:
        writer.writerow([int(row["epoch"])] + [f"{float(row[c]):.6f}" for c in CSV_COLUMNS[1:]])
    return text.getvalue().encode()


def write_losses_csv(paths: RunPaths, epoch_log: Sequence[dict[str, float]]) -> None:
    atomic_write_bytes(paths.losses_csv, losses_csv_bytes(epoch_log))


def events_csv_bytes(edits: Sequence[dict[str, Any]]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(EVENT_COLUMNS)
    for edit in edits:
        writer.writerow([edit[c] for c in EVENT_COLUMNS])
    return text.getvalue().encode()


def write_events_csv(paths: RunPaths, edits: Sequence[dict[str, Any]]) -> None:
    """The run's live edits, rewritten whole from the checkpoint's list after each checkpoint (so, like
    losses.csv, it never holds an edit the checkpoint lacks once the run is continued)."""
    atomic_write_bytes(paths.events_csv, events_csv_bytes(edits))


def reconcile(paths: RunPaths, epoch_log: Sequence[dict[str, float]]) -> None:
    """Make the folder agree with a checkpoint after a crash: the CSV is rewritten from the checkpoint's
    epoch log, sample grids of epochs the checkpoint never reached are removed, and so are temp files."""
    completed = len(epoch_log)
    for epoch in paths.sample_epochs():
        if epoch > completed:
            paths.sample(epoch).unlink(missing_ok=True)
    remove_stale_temps(paths.folder)
    if paths.samples.is_dir():
        remove_stale_temps(paths.samples)
    write_losses_csv(paths, epoch_log)


class RunLock:
    """An exclusive flock on ``<run>/.lock``: one writer per run, across processes.

    The kernel drops a flock when its holder dies, even by SIGKILL, so a dead writer's lock is
    taken over without any stale-pid guessing.
    """

    def __init__(self, paths: RunPaths) -> None:
        self.paths = paths
        self._fd: int | None = None

    def acquire(self) -> None:
        self.paths.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.paths.lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise RunError(f"run '{self.paths.name}' is being trained by another trainer "
                               f"(pid {holder}); stop it first") from exc
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


@dataclass(frozen=True)
class RunInfo:
    """One row of the run browser."""

    name: str
    epochs_done: int
    epochs_total: int | None
    d_loss: float | None
    g_loss: float | None
    modified: dt.datetime | None
    dataset: str | None
    error: str | None  # set when the run is damaged; the other fields may then be empty


def list_runs(root: str | os.PathLike[str]) -> list[RunInfo]:
    """Every run folder under ``root`` with a checkpoint, newest first; damaged ones carry ``error``."""
    from .checkpoint import CheckpointError, load_checkpoint  # torch import kept off this module's path

    root = Path(root)
    if not root.is_dir():
        return []
    infos = []
    for folder in root.iterdir():
        paths = RunPaths(root, folder.name)
        if not paths.checkpoint.is_file():
            continue
        modified = dt.datetime.fromtimestamp(paths.checkpoint.stat().st_mtime)
        try:
            record = load_checkpoint(paths.checkpoint)
        except CheckpointError as exc:
            infos.append(RunInfo(folder.name, 0, None, None, None, modified, None, str(exc)))
            continue
        log = record["epoch_log"]
        last = log[-1] if log else {}
        infos.append(RunInfo(folder.name, int(record["epoch"]), record["config"].epochs, last.get("d_loss"),
                             last.get("g_loss"), modified, record["config"].dataset, None))
    return sorted(infos, key=lambda info: info.modified or dt.datetime.min, reverse=True)
