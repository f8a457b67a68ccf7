"""When and how the trainer writes the run to disk.

``Checkpointing`` owns the run's writes: at an epoch's end when one is due (the first and the last epoch,
and any other once ``checkpoint_seconds`` have passed since the last write), and at every pause or stop,
whatever the time. A write freezes the training state into its record and hands it to one
``BackgroundWriter`` thread: the checkpoint first, then the run summary that describes it and the CSVs
that mirror its epoch log and edits. The checkpoint is the truth; grids and rows past it (a crash
between writes) are repaired by ``runs.folder.reconcile`` when the run continues.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import Self

from ..gan.state import GANState
from ..runs import checkpoint as ckpt
from ..runs.folder import RunPaths, write_events_csv, write_losses_csv
from ..runs.record import to_record
from ..runs.summary import summarise, write_summary
from ..runs.writer import BackgroundWriter, frozen_copy


class Checkpointing:
    """The run's checkpoint writes. As a context manager: leaving the block lets a write in flight land
    (see ``BackgroundWriter``)."""

    def __init__(self, paths: RunPaths) -> None:
        self.paths = paths
        self.writer = BackgroundWriter()
        self.saved_at: float | None = None  # time.monotonic() of the last write handed over; None before one

    def due(self, state: GANState) -> bool:
        """At an epoch's end: the first and the last epoch, and any other once ``checkpoint_seconds``
        passed since the last write."""
        config = state.config
        return (self.saved_at is None or state.epoch >= config.epochs
                or time.monotonic() - self.saved_at >= config.checkpoint_seconds)

    def epoch_ended(self, state: GANState) -> None:
        if self.due(state):
            self.save(state)

    def save(self, state: GANState) -> None:
        """Hand a frozen copy of the record to the writer thread; training goes on while ~35 MB are
        serialised and fsynced."""
        self.saved_at = time.monotonic()
        record = frozen_copy(to_record(state))
        paths = self.paths

        def write() -> None:
            ckpt.save_checkpoint(record, paths.checkpoint)
            write_summary(paths.summary, summarise(record, paths.checkpoint.stat()))
            write_losses_csv(paths, record["epoch_log"])
            write_events_csv(paths, record["edits"])

        self.writer.submit(write)

    def save_and_wait(self, state: GANState) -> None:
        """What a pause or a stop writes: paused or stopped means "on disk"."""
        self.save(state)
        self.writer.wait()

    def wait(self) -> None:
        """Until no write is in flight; a failed write is raised here."""
        self.writer.wait()

    def __enter__(self) -> Self:
        self.writer.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.writer.__exit__(exc_type, exc, traceback)
