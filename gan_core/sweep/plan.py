"""Sweeps: a grid of runs (presets x seeds x ``--set`` values), each trained as one Ray task.

Ray places the tasks (on this machine by default, or on a cluster given by ``address``); everything else
is ordinary runs in the checkpoints folder. A sweep's manifest, ``<checkpoints>/_sweeps/<name>.json``,
names its runs and records how each attempt ended. The runs' own checkpoints are the truth about their
progress, so a sweep is continued by running it again: complete runs are skipped, interrupted ones
continue from their checkpoint (bit for bit, as any resumed run), and failed ones are reported with
their error and tried again. Ray's own retries are off: a retried task would not know which of the
two attempts owns the run folder, and the run lock would refuse the second one anyway.

Ray is imported only when a sweep runs (``driver``), so importing this module never needs it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import re
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..atomic import atomic_write_bytes
from ..config import ConfigError, GANConfig, fields, validate_run_name
from ..presets import PRESETS, preset_config
from ..runs.checkpoint import load_checkpoint
from ..runs.folder import RunLock, RunPaths
from ..runs.snapshot import Status
from ..train.trainer import Trainer

SWEEPS_DIR = "_sweeps"  # beside the runs; holds no checkpoint.pt, so run listings skip it
MANIFEST_FORMAT, MANIFEST_VERSION = "gan_core.sweep", 1
LOCK_WAIT_SECONDS = 60.0  # how long a task waits for the worker of a killed attempt to end
NAME_LIMIT = 32  # sweep names leave room in the 64-character run names for preset, seed and values
COMPLETE, PARTIAL, NEW, FAILED = "complete", "partial", "new", "failed"
_KINDS = {spec.name: spec.kind for spec in fields()}
_SAFE = re.compile(r"[^A-Za-z0-9_.]")


class SweepError(ValueError):
    """A sweep cannot be built or continued as asked; the message says why."""


@dataclass(frozen=True)
class SweepRun:
    """One cell of the grid: a run name and the recipe it trains."""

    name: str
    preset: str
    seed: int
    changes: dict[str, Any]  # the --set values of this cell, on top of the preset

    def config(self, epochs: int, device: str = "auto") -> GANConfig:
        return preset_config(self.preset, **{**self.changes, "seed": self.seed, "epochs": epochs,
                                             "device": device})

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "preset": self.preset, "seed": self.seed, "changes": dict(self.changes)}


def parse_set(text: str) -> tuple[str, list[Any]]:
    """``"field=v1,v2"`` as the field's name and its values in the field's type."""
    field, sep, values = text.partition("=")
    field = field.strip()
    if not sep or not values:
        raise SweepError(f"--set takes field=v1,v2, got {text!r}")
    if field not in _KINDS:
        raise SweepError(f"--set: unknown config field {field!r}")
    if field in ("seed", "epochs"):
        raise SweepError(f"--set {field}: use --{field}{'s' if field == 'seed' else ''} instead")
    return field, [_parse_value(field, item.strip()) for item in values.split(",")]


def _parse_value(field: str, text: str) -> Any:
    kind = _KINDS[field]
    try:
        if kind is bool:
            if text.lower() not in ("true", "false", "1", "0"):
                raise ValueError(text)
            return text.lower() in ("true", "1")
        return kind(text)
    except ValueError as exc:
        raise SweepError(f"--set {field}: {text!r} is not a {kind.__name__}") from exc


def expand_grid(sweep: str, presets: Sequence[str], seeds: Sequence[int],
                sets: Mapping[str, Sequence[Any]] | None = None, epochs: int = 30) -> list[SweepRun]:
    """Every combination of preset, ``sets`` values and seed, in that nesting order, each validated."""
    check_sweep_name(sweep)
    sets = dict(sets or {})
    if not presets or not seeds:
        raise SweepError("a sweep needs at least one preset and one seed")
    for preset in presets:
        if preset not in PRESETS:
            raise SweepError(f"unknown preset {preset!r} (known: {', '.join(PRESETS)})")
    runs = []
    fields = list(sets)
    for preset in presets:
        for values in itertools.product(*(sets[f] for f in fields)):
            changes = dict(zip(fields, values, strict=True))
            for seed in seeds:
                run = SweepRun(_run_name(sweep, preset, seed, changes, len(runs)), preset, int(seed), changes)
                try:
                    run.config(epochs)
                except ConfigError as exc:
                    raise SweepError(f"run {run.name}: {exc}") from exc
                runs.append(run)
    if len({r.name for r in runs}) != len(runs):
        raise SweepError("the grid repeats a cell (a preset, seed or value is listed twice)")
    return runs


def _run_name(sweep: str, preset: str, seed: int, changes: Mapping[str, Any], index: int) -> str:
    """``<sweep>-<preset>-<field><value>...-s<seed>``; the cell's index when that is not a valid name."""
    parts = [sweep, preset, *(f"{_SAFE.sub('', f)}{_SAFE.sub('', str(v))}" for f, v in changes.items()),
             f"s{seed}"]
    name = "-".join(parts)
    try:
        return validate_run_name(name)
    except ConfigError:
        return f"{sweep}-{index:03d}"


def check_sweep_name(name: str) -> str:
    try:
        validate_run_name(name)
    except ConfigError as exc:
        raise SweepError(f"sweep name: {exc}") from exc
    if len(name) > NAME_LIMIT:
        raise SweepError(f"sweep name: at most {NAME_LIMIT} characters, got {len(name)}")
    return name


# --- the manifest -----------------------------------------------------------------------------------

def manifest_path(checkpoints: str | os.PathLike[str], sweep: str) -> Path:
    return Path(checkpoints) / SWEEPS_DIR / f"{check_sweep_name(sweep)}.json"


def new_manifest(sweep: str, runs: Sequence[SweepRun], epochs: int, *, cpus_per_run: float = 1,
                 gpus_per_run: float = 0) -> dict[str, Any]:
    return {"format": MANIFEST_FORMAT, "version": MANIFEST_VERSION, "name": sweep,
            "created": dt.datetime.now().isoformat(timespec="seconds"), "epochs": epochs,
            "cpus_per_run": cpus_per_run, "gpus_per_run": gpus_per_run,
            "runs": [run.to_dict() for run in runs], "attempts": {}}


def write_manifest(checkpoints: str | os.PathLike[str], manifest: Mapping[str, Any]) -> Path:
    path = manifest_path(checkpoints, manifest["name"])
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, json.dumps(manifest, indent=1, sort_keys=True).encode())
    return path


def read_manifest(checkpoints: str | os.PathLike[str], sweep: str) -> dict[str, Any]:
    path = manifest_path(checkpoints, sweep)
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise SweepError(f"no sweep named {sweep!r} in {path.parent}") from exc
    except (OSError, ValueError) as exc:
        raise SweepError(f"{path}: unreadable sweep manifest ({exc})") from exc
    if manifest.get("format") != MANIFEST_FORMAT or manifest.get("version") != MANIFEST_VERSION:
        raise SweepError(f"{path}: not a version {MANIFEST_VERSION} sweep manifest")
    return manifest


def list_sweeps(checkpoints: str | os.PathLike[str]) -> list[str]:
    folder = Path(checkpoints) / SWEEPS_DIR
    return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []


def sweep_runs(manifest: Mapping[str, Any]) -> list[SweepRun]:
    return [SweepRun(r["name"], r["preset"], int(r["seed"]), dict(r["changes"])) for r in manifest["runs"]]


def sweep_of(checkpoints: str | os.PathLike[str], run: str) -> str | None:
    """The sweep whose manifest lists ``run``, if any: the run's sweep tag."""
    for sweep in list_sweeps(checkpoints):
        try:
            if any(r["name"] == run for r in read_manifest(checkpoints, sweep)["runs"]):
                return sweep
        except SweepError:
            continue
    return None


# --- progress, read from the runs themselves --------------------------------------------------------

def epochs_done(checkpoints: str | os.PathLike[str], run: str) -> int:
    """Completed epochs of a run, from its losses.csv (one line per epoch, written after each checkpoint):
    cheap enough to poll; may lag the checkpoint by one epoch after a crash, never lead it."""
    csv = RunPaths.of(checkpoints, run).losses_csv
    try:
        return max(0, len(csv.read_text().splitlines()) - 1)
    except OSError:
        return 0


def run_state(checkpoints: str | os.PathLike[str], run: str, epochs: int) -> str:
    """NEW (no checkpoint), PARTIAL or COMPLETE, from the run's checkpoint: the truth, read in full."""
    paths = RunPaths.of(checkpoints, run)
    if not paths.checkpoint.is_file():
        return NEW
    return COMPLETE if int(load_checkpoint(paths.checkpoint)["epoch"]) >= epochs else PARTIAL


def progress(checkpoints: str | os.PathLike[str], sweep: str) -> list[dict[str, Any]]:
    """One row per run: name, preset, seed, changes, epochs done of the sweep's total, and the last
    attempt's outcome (status, error, pid, host, seconds) when one ended."""
    manifest = read_manifest(checkpoints, sweep)
    rows = []
    for run in manifest["runs"]:
        attempt = manifest["attempts"].get(run["name"], {})
        rows.append({**run, "epochs": manifest["epochs"], "epochs_done": epochs_done(checkpoints, run["name"]),
                     **{k: attempt.get(k) for k in ("status", "error", "pid", "host", "seconds")}})
    return rows


# --- one run, inside a Ray worker ---------------------------------------------------------------------

def train_one(config: dict[str, Any], run: str, checkpoints: str, data_dir: str, threads: int) -> dict[str, Any]:
    """Train (or continue) one run to its configured epochs in this process; never raises for a run that
    fails, so its error reaches the driver as data. Runs as a Ray task."""
    torch.set_num_threads(threads)  # the task's CPU share: tasks side by side never oversubscribe a machine
    started = time.monotonic()
    outcome = {"pid": os.getpid(), "host": socket.gethostname()}
    try:
        _wait_for_lock(RunPaths.of(checkpoints, run))
        resume = RunPaths.of(checkpoints, run).checkpoint.is_file()
        trainer = Trainer(GANConfig.from_dict(config), run, checkpoints=checkpoints, data_dir=data_dir,
                          continue_run=resume, threads=threads)
        trainer.start()
        trainer.join()
        snap = trainer.snapshot()
        ok = snap.status == Status.FINISHED
        outcome.update(status=COMPLETE if ok else FAILED, error=None if ok else (snap.error or snap.status),
                       epoch=snap.epoch, resumed=resume)
    except Exception as exc:  # reported to the driver with the run's name
        outcome.update(status=FAILED, error=f"{type(exc).__name__}: {exc}")
    outcome["seconds"] = time.monotonic() - started
    return outcome


def _wait_for_lock(paths: RunPaths, timeout: float = LOCK_WAIT_SECONDS) -> None:
    """Wait until no process holds the run's lock: after its driver was killed, a worker of the old
    attempt takes a few seconds to notice and end, and its run must not be refused as busy meanwhile.
    RunError when it is still held after ``timeout`` seconds."""
    lock = RunLock(paths)
    deadline = time.monotonic() + timeout
    while lock.held_elsewhere():
        if time.monotonic() >= deadline:
            raise lock.busy_error()
        time.sleep(0.5)
