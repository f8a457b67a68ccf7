"""Checkpoint writes off the training thread: serialising and fsyncing ~35 MB takes longer than a few
training steps, so the trainer hands a frozen copy of the record to one writer thread and carries on.

At most one write is in flight: a new one waits for the previous, so checkpoints land in order and a
slow disk throttles training instead of queueing copies in memory. A failed write is raised on the
trainer's thread at its next ``submit`` or ``wait``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any, Self

import torch

log = logging.getLogger(__name__)


def frozen_copy(value: Any) -> Any:
    """Deep copy of a record's tensors (which the trainer keeps mutating), sharing the plain data."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, dict):
        return {key: frozen_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [frozen_copy(item) for item in value]
    if isinstance(value, tuple):
        return tuple(frozen_copy(item) for item in value)
    return value


class BackgroundWriter:
    """One worker thread for writes. As a context manager: leaving the block waits for the last write
    and ends the worker; when the block is left by an exception, that one is the failure reported and a
    failed write is only logged."""

    def __init__(self, name: str = "gan-checkpoint-writer") -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._pending: Future[None] | None = None

    def submit(self, write: Callable[[], None]) -> None:
        """Run ``write`` on the writer thread once the previous write has finished."""
        self.wait()
        self._pending = self._pool.submit(write)

    def wait(self) -> None:
        """Block until no write is in flight; re-raise the failure of the last one, if any."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        try:
            if exc_type is None:
                self.wait()
            else:
                try:
                    self.wait()
                except Exception:
                    log.exception("checkpoint write failed while the trainer was failing too")
        finally:
            self._pool.shutdown(wait=True)
