"""Checkpoint writes off the training thread: serialising and fsyncing ~35 MB takes longer than a few
training steps, so the trainer hands a frozen copy of the record to one writer thread and carries on.

At most one write is in flight: a new one waits for the previous, so checkpoints land in order and a
slow disk throttles training instead of queueing copies in memory. A failed write is raised on the
trainer's thread at its next ``submit`` or ``wait``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import torch


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
    def __init__(self, name: str = "gan-checkpoint-writer") -> None:
        self._name = name
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def submit(self, write: Callable[[], None]) -> None:
        """Run ``write`` on the writer thread once the previous write has finished."""
        self.wait()
        self._thread = threading.Thread(target=self._run, args=(write,), name=self._name, daemon=True)
        self._thread.start()

    def wait(self) -> None:
        """Block until no write is in flight; re-raise the failure of the last one, if any."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _run(self, write: Callable[[], None]) -> None:
        try:
            write()
        except BaseException as exc:  # handed to the trainer thread by wait()
            self._error = exc
