"""A run's folder: checkpoint, summary, losses.csv, per-epoch sample grids, and the one-writer lock.

    checkpoints/<run>/checkpoint.pt        the whole resumable state (the source of truth)
    checkpoints/<run>/run.json             what the run browser shows (gan_core.summary)
    checkpoints/<run>/losses.csv           epoch,d_loss,g_loss,d_real,d_fake,seconds (epoch means)
    checkpoints/<run>/samples/epoch_NNNN.png   10x10 grid from the fixed preview noise
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import errno
import fcntl
import io
import os
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from ..atomic import atomic_write_bytes, remove_stale_temps
from ..config import validate_run_name
from . import checkpoint
from .summary import SUMMARY_NAME, RunSummary, read_summary, summarise, write_summary

CHECKPOINT_NAME = "checkpoint.pt"  # a run folder's one checkpoint: what makes a folder a run
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
        return self.folder / CHECKPOINT_NAME

    @property
    def summary(self) -> Path:
        return self.folder / SUMMARY_NAME

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


class FileLock:
    """An exclusive flock on one file, across processes: a run's one writer (``RunLock``), a sweep's one
    driver (``sweep.driver``).

    ``with lock:`` holds it for the block; ``acquire`` raises ``busy(holder)`` (holder: the pid written in
    the file, or "unknown") while another process holds it. The kernel drops a flock when its holder dies,
    even by SIGKILL, so a dead holder's lock is taken over without any stale-pid guessing.
    """

    def __init__(self, path: Path, busy: Callable[[str], Exception]) -> None:
        self.path = path
        self._busy = busy
        self._fd: int | None = None

    def _take(self) -> int | None:
        """The locked file descriptor if the lock was free; None while another process holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return None
            raise
        return fd

    def acquire(self) -> None:
        fd = self._take()
        if fd is None:
            raise self.busy_error()
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def held_elsewhere(self) -> bool:
        """True while another process holds the lock (False when it cannot even be tried, e.g. a read-only
        folder): the one "is it held?" probe, which takes the lock for an instant when it is free."""
        try:
            fd = self._take()
        except OSError:
            return False
        if fd is None:
            return True
        os.close(fd)  # closing the descriptor drops its flock
        return False

    def busy_error(self) -> Exception:
        """The error that says another process holds the lock, naming the pid it wrote into the file."""
        try:
            holder = self.path.read_text(errors="replace")[:64].strip()
        except OSError:
            holder = ""
        return self._busy(holder or "unknown")

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


class RunLock(FileLock):
    """``<run>/.lock``: one writer per run (a trainer, or ``delete_run``); RunError while another holds it."""

    def __init__(self, paths: RunPaths) -> None:
        super().__init__(paths.lock, lambda holder: RunError(
            f"run '{paths.name}' is being trained by another trainer (pid {holder}); stop it first"))


@dataclass(frozen=True)
class RunInfo:
    """One row of the run browser."""

    name: str
    epochs_done: int
    epochs_total: int | None
    d_loss: float | None
    g_loss: float | None
    modified: dt.datetime | None  # the checkpoint's mtime
    dataset: str | None
    error: str | None  # set when the run is damaged; the other fields may then be empty
    disk_bytes: int = 0  # everything in the run's folder
    step: int | None = None
    fid: float | None = None
    data_source: str | None = None
    data_kind: str | None = None
    preset: str | None = None
    checkpoint_version: int | None = None


def list_runs(root: str | os.PathLike[str]) -> list[RunInfo]:
    """Every run folder under ``root`` with a checkpoint, newest first; damaged ones carry ``error``.

    Reads each run's ``run.json``; a checkpoint is opened only when its summary is missing or does not
    describe it (size or mtime differ), and a fresh summary is then written for the next listing.
    """
    root = Path(root)
    if not root.is_dir():
        return []
    infos = []
    for folder in root.iterdir():
        paths = RunPaths(root, folder.name)
        try:
            stat = paths.checkpoint.stat()
        except OSError:
            continue
        if not paths.checkpoint.is_file():
            continue
        modified = dt.datetime.fromtimestamp(stat.st_mtime)
        disk = disk_usage(paths.folder)
        summary = read_summary(paths.summary)
        if summary is None or not summary.describes(stat):
            summary = _summary_from_checkpoint(paths, stat)
            if isinstance(summary, str):  # the checkpoint is damaged: listed, with why
                infos.append(RunInfo(folder.name, 0, None, None, None, modified, None, summary, disk))
                continue
        infos.append(RunInfo(folder.name, summary.epochs_done, summary.epochs_total, summary.d_loss,
                             summary.g_loss, modified, summary.dataset, None, disk, summary.step, summary.fid,
                             summary.data_source, summary.data_kind, summary.preset,
                             summary.checkpoint_version))
    return sorted(infos, key=lambda info: info.modified or dt.datetime.min, reverse=True)


def _summary_from_checkpoint(paths: RunPaths, stat: os.stat_result) -> RunSummary | str:
    """Read the checkpoint and store its summary, or say why it cannot be read."""
    try:
        record = checkpoint.load_checkpoint(paths.checkpoint)
    except checkpoint.CheckpointError as exc:
        return str(exc)
    summary = summarise(record, stat)
    with contextlib.suppress(OSError):  # a read-only folder still lists, from the checkpoint each time
        write_summary(paths.summary, summary)
    return summary


def disk_usage(folder: str | os.PathLike[str]) -> int:
    """Bytes of all files under ``folder`` (0 when it is gone)."""
    total = 0
    for parent, _, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):  # removed while walking
                total += os.lstat(os.path.join(parent, name)).st_size
    return total


def delete_run(root: str | os.PathLike[str], name: str) -> None:
    """Remove the run folder ``root/name``; RunError when it holds no checkpoint (not a run) or a live
    trainer holds its lock."""
    paths = RunPaths.of(root, name)
    if not paths.checkpoint.is_file():
        raise RunError(f"'{name}' is not a run under {paths.root} (no {paths.checkpoint.name})")
    with RunLock(paths):  # a trainer that starts now waits for nothing: it finds no checkpoint
        shutil.rmtree(paths.folder)
