"""Chart-ready training curves: smoothing and downsampling of the per-step history, no Streamlit.

A run of many hours holds hundreds of thousands of steps; the browser only ever receives at most
``max_points`` rows per chart, so charts stay fast however long the run.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gan_core.gan.history import HISTORY

MAX_POINTS = 500  # rows per chart sent to the browser: Vega re-runs its dataflow over every row on each refresh


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over ``window`` steps (shorter at the start), O(n) via a cumulative sum. NaN values
    (steps where a series was not recorded) are left out of the means; NaN where a window has none."""
    values = np.asarray(values, dtype=np.float64)
    if window <= 1 or len(values) == 0:
        return values.copy()
    idx = np.arange(1, len(values) + 1)
    start = np.maximum(idx - window, 0)
    missing = np.isnan(values)
    if not missing.any():
        csum = np.concatenate(([0.0], np.cumsum(values)))
        return (csum[idx] - csum[start]) / (idx - start)
    csum = np.concatenate(([0.0], np.cumsum(np.where(missing, 0.0, values))))
    count = np.concatenate(([0], np.cumsum(~missing)))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (csum[idx] - csum[start]) / (count[idx] - count[start])


def smoothing_window(n_steps: int) -> int:
    """About 2% of the run, at least 5 steps: visibly smooth yet still responsive."""
    return max(5, n_steps // 50)


def pick_indices(n: int, max_points: int = MAX_POINTS) -> np.ndarray:
    """At most ``max_points`` evenly spread indices into ``range(n)``, always including the last one."""
    if n <= max_points:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, max_points).round().astype(np.int64))


def chart_table(history: np.ndarray, first_step: int = 1, max_points: int = MAX_POINTS,
                columns: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """Columns ``step``, each HISTORY name (raw) and ``<name>_smooth``, downsampled to ``max_points`` rows;
    only ``columns`` when given. ``history`` holds the first 4 or all 6 HISTORY columns.

    Smoothing runs over every step before downsampling, so the smoothed curve is the same at any zoom;
    the raw columns are the actual values at the kept steps (their noise stays visible).
    """
    history = np.asarray(history, dtype=np.float32)
    names = HISTORY[:history.shape[1]] if history.ndim == 2 else HISTORY
    history = history.reshape(-1, len(names))
    keep = pick_indices(len(history), max_points)
    window = smoothing_window(len(history))
    table: dict[str, np.ndarray] = {"step": keep + first_step}
    for column, name in enumerate(names):
        if columns is not None and name not in columns:
            continue
        table[name] = history[keep, column].astype(np.float64)
        table[f"{name}_smooth"] = moving_average(history[:, column], window)[keep]
    return table
