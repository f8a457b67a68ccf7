"""Chart-ready training curves: smoothing and downsampling of the per-step history, no Streamlit.

A run of many hours holds hundreds of thousands of steps; the browser only ever receives at most
``max_points`` rows per chart, so charts stay fast however long the run.
"""

from __future__ import annotations

import numpy as np

from gan_core.engine import STATS

MAX_POINTS = 500  # rows per chart sent to the browser: Vega re-runs its dataflow over every row on each refresh


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over ``window`` steps (shorter at the start), O(n) via a cumulative sum."""
    values = np.asarray(values, dtype=np.float64)
    if window <= 1 or len(values) == 0:
        return values.copy()
    csum = np.concatenate(([0.0], np.cumsum(values)))
    idx = np.arange(1, len(values) + 1)
    start = np.maximum(idx - window, 0)
    return (csum[idx] - csum[start]) / (idx - start)


def smoothing_window(n_steps: int) -> int:
    """About 2% of the run, at least 5 steps: visibly smooth yet still responsive."""
    return max(5, n_steps // 50)


def pick_indices(n: int, max_points: int = MAX_POINTS) -> np.ndarray:
    """At most ``max_points`` evenly spread indices into ``range(n)``, always including the last one."""
    if n <= max_points:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, max_points).round().astype(np.int64))


def chart_table(history: np.ndarray, first_step: int = 1, max_points: int = MAX_POINTS) -> dict[str, np.ndarray]:
    """Columns ``step``, each STATS name (raw) and ``<name>_smooth``, downsampled to ``max_points`` rows.

    Smoothing runs over every step before downsampling, so the smoothed curve is the same at any zoom;
    the raw columns are the actual values at the kept steps (their noise stays visible).
    """
    history = np.asarray(history, dtype=np.float32).reshape(-1, len(STATS))
    keep = pick_indices(len(history), max_points)
    window = smoothing_window(len(history))
    table: dict[str, np.ndarray] = {"step": keep + first_step}
    for column, name in enumerate(STATS):
        table[name] = history[keep, column].astype(np.float64)
        table[f"{name}_smooth"] = moving_average(history[:, column], window)[keep]
    return table
