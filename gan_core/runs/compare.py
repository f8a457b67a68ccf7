"""Runs side by side: each run's final figures, runs grouped by recipe with mean ± sd over seeds, and
per-epoch curves to overlay. Plain data in and out; the UI draws it.

A recipe is what a run trains with: its config without the run fields (seed, epochs, device, ...), plus
its dataset, since figures on different data do not compare. A run whose hyperparameters were edited while
it trained (``record["edits"]``) followed another recipe than its config says: it is labelled as edited
and grouped only with runs that had the same edits at the same steps.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import GANConfig
from ..presets import PRESETS, RUN_FIELDS, preset_config
from .checkpoint import CheckpointError, load_checkpoint
from .folder import RunPaths

METRICS = ("readable", "fid", "inception_score", "precision", "recall", "images_per_sec")  # mean ± sd per recipe
CURVES = ("d_loss", "g_loss", "d_real", "d_fake")  # epoch means from the epoch log
GRAD_CURVES = ("d_grad_norm", "g_grad_norm")  # epoch means from the per-step history, where recorded


@dataclass(frozen=True)
class RunFigures:
    """One run's final figures (None where the run has none, e.g. metrics off); not ``summary.RunSummary``,
    the run browser's ``run.json``."""

    name: str
    recipe: str  # e.g. "stable", "stable + loss=hinge", "seed (edited)"
    recipe_key: tuple  # equal for runs of the same recipe (and the same edits)
    seed: int
    epochs_done: int
    edited: bool
    values: dict[str, float | None] = field(default_factory=dict)  # each of METRICS


@dataclass(frozen=True)
class RecipeRow:
    """Runs of one recipe: how many, their seeds and names, and mean / sd of each of METRICS."""

    recipe: str
    runs: tuple[str, ...]
    seeds: tuple[int, ...]
    mean: dict[str, float | None]
    sd: dict[str, float | None]  # sample standard deviation; None with fewer than two values
    count: dict[str, int]  # how many runs had each figure


def recipe_label(config: GANConfig) -> str:
    """The nearest preset and what differs from it: ``stable``, ``stable + loss=hinge, lr_g=0.001``."""
    values = config.to_dict()
    best: tuple[int, str, list[str]] | None = None
    for name in PRESETS:
        reference = preset_config(name).to_dict()
        diffs = [f"{k}={values[k]}" for k in reference if k not in RUN_FIELDS and values[k] != reference[k]]
        if best is None or len(diffs) < best[0]:
            best = (len(diffs), name, diffs)
    assert best is not None
    _, name, diffs = best
    return f"{name} + {', '.join(diffs)}" if diffs else name


def edits_of(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The live edits a run recorded, oldest first (none for runs without any, or from before edits)."""
    return [dict(edit) for edit in record.get("edits", ())]


def run_figures(name: str, record: Mapping[str, Any]) -> RunFigures:
    """A loaded checkpoint record as one run's figures: the last evaluation's figures and the training
    speed over its completed epochs."""
    config: GANConfig = record["config"]
    edits = edits_of(record)
    recipe = tuple(sorted((k, v) for k, v in config.to_dict().items() if k not in RUN_FIELDS))
    key = (config.dataset, recipe, tuple((e["step"], e["field"], e["new"]) for e in edits))
    last = record.get("metrics_log", [])[-1] if record.get("metrics_log") else {}
    values: dict[str, float | None] = {m: _number(last.get(m)) for m in METRICS if m != "images_per_sec"}
    values["images_per_sec"] = _images_per_sec(record)
    label = recipe_label(config) + (" (edited)" if edits else "")
    return RunFigures(name, label, key, config.seed, int(record["epoch"]), bool(edits), values)


def _images_per_sec(record: Mapping[str, Any]) -> float | None:
    log = record["epoch_log"]
    seconds = sum(float(row.get("seconds", 0.0)) for row in log)
    epoch = int(record["epoch"])
    if not log or seconds <= 0 or epoch <= 0:
        return None
    steps_in_epochs = int(record["step"]) - int(record["progress"]["batch_in_epoch"])
    return steps_in_epochs * record["config"].batch_size / seconds


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def group_by_recipe(figures: Iterable[RunFigures]) -> list[RecipeRow]:
    """One row per recipe, in order of first appearance."""
    groups: dict[tuple, list[RunFigures]] = {}
    for run in figures:
        groups.setdefault(run.recipe_key, []).append(run)
    rows = []
    for members in groups.values():
        mean, sd, count = {}, {}, {}
        for metric in METRICS:
            numbers = [m.values[metric] for m in members if m.values.get(metric) is not None]
            count[metric] = len(numbers)
            mean[metric], sd[metric] = _mean_sd(numbers)
        rows.append(RecipeRow(members[0].recipe, tuple(m.name for m in members), tuple(m.seed for m in members),
                              mean, sd, count))
    return rows


def _mean_sd(numbers: Sequence[float]) -> tuple[float | None, float | None]:
    if not numbers:
        return None, None
    mean = sum(numbers) / len(numbers)
    if len(numbers) < 2:
        return mean, None
    return mean, math.sqrt(sum((x - mean) ** 2 for x in numbers) / (len(numbers) - 1))


def format_mean_sd(mean: float | None, sd: float | None, digits: int = 1) -> str:
    if mean is None:
        return "–"
    return f"{mean:.{digits}f}" if sd is None else f"{mean:.{digits}f} ± {sd:.{digits}f}"


def curves(record: Mapping[str, Any]) -> dict[str, list]:
    """Per-epoch curves of one run: ``epoch`` and each of CURVES (epoch means), each of GRAD_CURVES (epoch
    means; None for an epoch without recorded norms), ``fid_epoch``/``fid`` (evaluated epochs only), and
    ``edit_steps`` / ``edit_epochs`` where its hyperparameters changed."""
    log = record["epoch_log"]
    out: dict[str, list] = {"epoch": [int(row["epoch"]) for row in log]}
    for name in CURVES:
        out[name] = [float(row[name]) for row in log]
    evaluated = [row for row in record.get("metrics_log", []) if row.get("fid") is not None]
    out["fid_epoch"] = [int(row["epoch"]) for row in evaluated]
    out["fid"] = [float(row["fid"]) for row in evaluated]
    edits = edits_of(record)
    steps_per_epoch = _steps_per_epoch(record)
    out["edit_steps"] = [int(e["step"]) for e in edits]
    out["edit_epochs"] = [e["step"] / steps_per_epoch for e in edits] if steps_per_epoch else []
    out.update(_epoch_grad_norms(record.get("history"), steps_per_epoch, len(log)))
    return out


def _epoch_grad_norms(history: Any, steps_per_epoch: float | None, epochs: int) -> dict[str, list]:
    """Epoch means of the per-step gradient norms (history rows: one per step, ``steps_per_epoch`` an
    epoch), leaving out steps where they were not recorded (NaN)."""
    out: dict[str, list] = {name: [None] * epochs for name in GRAD_CURVES}
    width = len(CURVES) + len(GRAD_CURVES)
    if history is None or not steps_per_epoch or history.ndim != 2 or history.shape[1] != width:
        return out
    per_epoch = round(steps_per_epoch)
    if len(history) < epochs * per_epoch:
        return out
    rows = history[:epochs * per_epoch, len(CURVES):].double().reshape(epochs, per_epoch, len(GRAD_CURVES))
    recorded = rows.isfinite()
    means = rows.where(recorded, 0.0).sum(dim=1) / recorded.sum(dim=1)  # 0/0: NaN
    for column, name in enumerate(GRAD_CURVES):
        out[name] = [None if math.isnan(value) else value for value in means[:, column].tolist()]
    return out


def _steps_per_epoch(record: Mapping[str, Any]) -> float | None:
    epoch = int(record["epoch"])
    done = int(record["step"]) - int(record["progress"]["batch_in_epoch"])
    return done / epoch if epoch > 0 and done > 0 else None


def overlay_rows(curves_by_run: Mapping[str, Mapping[str, list]], series: str) -> list[dict[str, Any]]:
    """Long-format rows ``{run, epoch, value}`` of one series across runs, for one overlaid chart."""
    x = "fid_epoch" if series == "fid" else "epoch"
    return [{"run": run, "epoch": epoch, "value": value}
            for run, c in curves_by_run.items() for epoch, value in zip(c[x], c[series], strict=True)
            if value is not None]


def load_records(checkpoints: str | os.PathLike[str], names: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The checkpoint records of ``names`` (damaged or missing runs are left out: the run list shows why)."""
    records = {}
    for name in names:
        path = RunPaths.of(Path(checkpoints), name).checkpoint
        try:
            records[name] = load_checkpoint(path)
        except CheckpointError:
            continue
    return records
