"""One self-describing checkpoint record per run, written atomically and loaded without running code.

The record is a dict of tensors and plain Python data (no classes), so ``torch.load(weights_only=True)``
can read it and refuses anything else, e.g. a pickled callable planted in a shared file. Each record
carries its format version; older versions are migrated on load (see ``gan_core.migrations``).
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..atomic import atomic_write
from ..config import ConfigError, GANConfig
from ..gan.model import Generator
from ..gan.nets import make_generator
from ..records import DAMAGED, MISFIT, REFUSED, REFUSED_TEXT, read_record
from . import migrations
from .migrations import RecordVersionError, migrate

FORMAT = "gan_core.checkpoint"
VERSION = migrations.VERSION  # what save_checkpoint's callers write; older ones are migrated on load
REQUIRED_KEYS = ("format", "version", "config", "generator", "discriminator", "opt_g", "opt_d", "epoch", "step",
                 "rng", "history", "epoch_log", "metrics_log", "data_source", "g_updates", "edits", "preview_z",
                 "progress")


class CheckpointError(RuntimeError):
    """A checkpoint is missing, damaged, hostile or inconsistent; the message names the file."""


def save_checkpoint(record: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Atomically replace ``path`` with ``record`` (temp file, flush, fsync, os.replace)."""
    atomic_write(path, lambda handle: torch.save(record, handle))


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read, migrate to the current version and check a record; raises CheckpointError naming ``path``
    for any problem."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no checkpoint file")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path}: empty checkpoint file (0 bytes)")
    try:
        record = read_record(path)
    except REFUSED as exc:
        raise CheckpointError(f"{path}: {REFUSED_TEXT}") from exc  # one line: torch's own text is not quoted
    except DAMAGED as exc:
        raise CheckpointError(f"{path}: damaged or truncated checkpoint ({type(exc).__name__})") from exc
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a gan_core checkpoint")
    stored_version = record.get("version")
    try:
        record = migrate(record)
    except RecordVersionError as exc:
        raise CheckpointError(f"{path}: {exc}") from exc
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CheckpointError(f"{path}: damaged version-{stored_version} checkpoint: migrating it "
                              f"failed ({type(exc).__name__}: {exc})") from exc
    missing = [key for key in REQUIRED_KEYS if key not in record]
    if missing:
        raise CheckpointError(f"{path}: checkpoint lacks {', '.join(missing)}")
    try:
        record["config"] = GANConfig.from_dict(record["config"])
    except (ConfigError, TypeError) as exc:
        raise CheckpointError(f"{path}: invalid config in checkpoint ({exc})") from exc
    return record


def load_generator(path: str | os.PathLike[str], device: torch.device | str = "cpu",
                   which: str = "ema") -> tuple[Generator, dict]:
    """A generator of a checkpoint, in eval mode, plus the record (for its config and preview noise):
    ``which`` "ema" is the one people see (the EMA generator; the trained G when the run has none),
    "raw" the trained G."""
    if which not in ("ema", "raw"):
        raise ValueError(f"which must be 'ema' or 'raw', got {which!r}")
    record = load_checkpoint(path)
    generator = make_generator(record["config"])
    averaged = record.get("ema") if which == "ema" else None
    if averaged is not None:
        load_state(generator, averaged["generator"], path, "EMA generator")
    else:
        load_state(generator, record["generator"], path, "generator")
    return generator.to(device).eval(), record


def load_state(module: torch.nn.Module | torch.optim.Optimizer, state: Any, path: str | os.PathLike[str],
               what: str) -> None:
    """load_state_dict with the file and the part named when shapes or keys disagree with the config."""
    try:
        module.load_state_dict(state)
    except MISFIT as exc:
        first = " ".join(str(exc).split())[:240]
        raise CheckpointError(f"{path}: {what} weights do not match the stored config ({first})") from exc


# --- random number generator states, stored as tensors and plain data -----------------------------

def capture_rng() -> dict[str, Any]:
    _, keys, pos, has_gauss, cached = np.random.get_state()
    py_version, py_state, py_gauss = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": list(torch.cuda.get_rng_state_all()) if torch.cuda.is_available() else [],
        "numpy": {"keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
        "python": {"version": py_version, "state": list(py_state), "gauss_next": py_gauss},
    }


def restore_rng(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    n = state["numpy"]
    np.random.set_state(("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"],
                         n["cached_gaussian"]))
    p = state["python"]
    random.setstate((p["version"], tuple(p["state"]), p["gauss_next"]))
