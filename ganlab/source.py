"""Where the selected run's data comes from, decided in one place: the live trainer when it trains this
run here, else the run's checkpoint. Views receive a ``gan_core.reader.RunReader`` and never ask which."""

from __future__ import annotations

import streamlit as st

from gan_core import CheckpointError, ConfigError
from gan_core.reader import RunReader, SavedRun
from gan_core.runs import RunPaths
from gan_core.view import Status
from ganlab.control import AnyTrainer
from ganlab.resources import checkpoints_root, holder


def live_trainer(name: str | None) -> AnyTrainer | None:
    """The server's trainer when it trains (or trained) run ``name`` in this checkpoints root."""
    trainer = holder().trainer
    if trainer is None or name is None or trainer.paths.name != name:
        return None
    if trainer.paths.root.resolve() != checkpoints_root().resolve():
        return None
    return trainer


@st.cache_resource(max_entries=6, show_spinner=False)
def _saved_run(path: str, mtime_ns: int) -> SavedRun:
    """A checkpoint read once per (path, mtime): checkpoints are ~35 MB. Raises CheckpointError."""
    del mtime_ns  # part of the cache key only: a newer checkpoint is a new entry
    return SavedRun.open(path)


def saved_run(name: str) -> SavedRun | None:
    """Run ``name``'s checkpoint (None when it has none); raises CheckpointError when it is damaged."""
    paths = RunPaths.of(checkpoints_root(), name)
    try:
        stat = paths.checkpoint.stat()
    except FileNotFoundError:
        return None
    return _saved_run(str(paths.checkpoint), stat.st_mtime_ns)


def saved_run_or_none(name: str) -> SavedRun | None:
    """The checkpoint, or None when there is none or it is damaged (the pages say why elsewhere)."""
    try:
        return saved_run(name)
    except (CheckpointError, ConfigError):
        return None


def run_reader(name: str | None) -> RunReader | None:
    """The selected run: live while a trainer of it exists here (no checkpoint read on the refresh path),
    else its checkpoint. None when it was never trained; raises CheckpointError when damaged."""
    if name is None:
        return None
    trainer = live_trainer(name)
    if trainer is not None:
        return trainer
    return saved_run(name)


def is_live(name: str | None) -> bool:
    """True while the server's trainer trains run ``name``: the pages then refresh on a timer."""
    trainer = live_trainer(name)
    return trainer is not None and trainer.is_alive() and trainer.snapshot().status == Status.RUNNING
