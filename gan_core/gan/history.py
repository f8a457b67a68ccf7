"""The per-step history of a run: its columns and the buffer that holds them."""

from __future__ import annotations

import math

import numpy as np

STATS = ("d_loss", "g_loss", "d_real", "d_fake")  # the losses and D's outputs: epoch means, losses.csv
# The L2 norm of all of D's / G's gradients in the step (G's: of its latest update, as g_loss is); NaN in
# rows of runs saved before they were recorded.
GRAD_NORMS = ("d_grad_norm", "g_grad_norm")
HISTORY = STATS + GRAD_NORMS  # columns of the per-step history


class StepHistory:
    """Per-step HISTORY rows, float32 (steps, 6), in a buffer that grows by doubling.

    Appending is amortised O(1) however long the run, and ``array()`` hands out a read-only view of
    rows that are never written again, so the trainer can publish it without copying.
    """

    def __init__(self, rows: np.ndarray | None = None) -> None:
        rows = np.zeros((0, len(HISTORY)), np.float32) if rows is None else rows
        self._buffer = np.array(rows, dtype=np.float32).reshape(-1, len(HISTORY))
        self._n = len(self._buffer)

    def __len__(self) -> int:
        return self._n

    def append(self, rows: np.ndarray) -> None:
        end = self._n + len(rows)
        if end > len(self._buffer):
            grown = np.empty((max(end, 2 * len(self._buffer), 1024), len(HISTORY)), np.float32)
            grown[:self._n] = self._buffer[:self._n]
            self._buffer = grown  # views handed out earlier keep the old buffer, unchanged
        self._buffer[self._n:end] = rows
        self._n = end

    def array(self) -> np.ndarray:
        view = self._buffer[:self._n]
        view.flags.writeable = False
        return view


def history_columns(rows: np.ndarray) -> np.ndarray:
    """``rows`` as a read-only float32 (steps, 6) history: a 4-column one (saved before the gradient
    norms were recorded) gets NaN norms. Raises ValueError for any other shape."""
    rows = np.asarray(rows, dtype=np.float32)
    if rows.size == 0:
        rows = rows.reshape(0, len(HISTORY))
    if rows.ndim != 2 or rows.shape[1] not in (len(STATS), len(HISTORY)):
        raise ValueError(f"history of shape {rows.shape} is not (steps, {len(STATS)}) or (steps, {len(HISTORY)})")
    if rows.shape[1] == len(STATS):
        rows = np.concatenate((rows, np.full((len(rows), len(GRAD_NORMS)), np.nan, np.float32)), axis=1)
    rows.flags.writeable = False
    return rows


def latest_row(history: np.ndarray) -> dict[str, float | None]:
    """The last history row by column name, for a ``view.Snapshot``: None for a norm not recorded (NaN)
    and for everything when there is no row yet."""
    if not len(history):
        return {}
    latest: dict[str, float | None] = {name: float(value) for name, value in zip(HISTORY, history[-1], strict=True)}
    return {name: None if value is not None and math.isnan(value) else value for name, value in latest.items()}
