"""Where the selected run's data comes from, decided in one place: the live trainer when it trains this
run here, else the run's checkpoint, or the shipped demo run (``DEMO_RUN``). Views receive a
``gan_core.reader.RunReader`` and never ask which."""

from __future__ import annotations

import streamlit as st

from gan_core import CheckpointError, ConfigError
from gan_core.runs.demo import MANIFEST, WEIGHTS, DemoError, DemoRun, is_demo, open_demo
from gan_core.runs.folder import RunPaths
from gan_core.runs.reader import RunReader, SavedRun
from ganlab.state.holder import AnyTrainer
from ganlab.state.resources import checkpoints_root, demo_dir, holder

# The demo's name on the pages: not a valid run name, so no run folder can ever be mistaken for it.
DEMO_RUN = "demo (read-only)"


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


@st.cache_resource(max_entries=2, show_spinner=False)
def _demo_run(folder: str, prints: tuple[tuple[int, int], ...]) -> DemoRun:
    del prints  # cache key: a replaced file is read (and checked) again
    return open_demo(folder, DEMO_RUN)


def demo_exists() -> bool:
    """Whether a demo is shipped here (complete or not: an incomplete one is refused, not ignored)."""
    return is_demo(demo_dir())


def demo_run() -> DemoRun | None:
    """The shipped demo run, None when there is none; raises DemoError when it is damaged or swapped."""
    folder = demo_dir()
    if not demo_exists():
        return None
    prints = []
    for path in (folder / MANIFEST, folder / WEIGHTS):
        try:
            stat = path.stat()
        except OSError as exc:
            raise DemoError(f"{path}: no demo file") from exc
        prints.append((stat.st_mtime_ns, stat.st_size))
    return _demo_run(str(folder), tuple(prints))


def demo_problem() -> str | None:
    """Why the shipped demo is refused; None when it opens or none is shipped."""
    try:
        demo_run()
    except DemoError as exc:
        return str(exc)
    return None


def is_demo_name(name: str | None) -> bool:
    """Whether the pages' run ``name`` is the shipped demo (``gan_core.runs.demo.is_demo`` asks it of a folder)."""
    return name == DEMO_RUN


def run_reader(name: str | None) -> RunReader | None:
    """The selected run: live while a trainer of it exists here (no checkpoint read on the refresh path),
    else its checkpoint, or the demo run. None when it was never trained; raises CheckpointError (the
    demo: DemoError, one of them) when damaged."""
    if name is None:
        return None
    if is_demo_name(name):
        return demo_run()
    trainer = live_trainer(name)
    if trainer is not None:
        return trainer
    return saved_run(name)
