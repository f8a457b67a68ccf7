"""What the buttons do. Callbacks run before the page, so the page shows their effect at once; problems a
user can fix become a message (``flash``) instead of a traceback."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from gan_core import CheckpointError, ConfigError, GANConfig
from gan_core.data import DataError
from gan_core.runs.demo import CONTINUE_REFUSED
from gan_core.runs.folder import RunError, RunPaths
from gan_core.train.process import TrainerProcess
from ganlab.state import keys
from ganlab.state.holder import TrainerBusy
from ganlab.state.models import classifier_steps
from ganlab.state.resources import checkpoints_root, data_dir, holder
from ganlab.state.source import is_demo_name, saved_run
from ganlab.widgets.demo import leave_demo, open_demo_run
from ganlab.widgets.sidebar import open_run, read_config


def flash(kind: str, text: str) -> None:
    st.session_state[keys.FLASH] = (kind, text)


def act(fn: Callable[[], object]) -> None:
    try:
        fn()
    except (TrainerBusy, RunError, CheckpointError, ConfigError, DataError) as exc:
        flash("error", str(exc))


def on_train() -> None:
    """Start a new run with the sidebar's settings; an existing run name asks first."""
    name, config, error = read_config(st.session_state)
    if error is not None or name is None or config is None:
        flash("error", f"Nothing started: {error}")
        return
    leave_demo()  # the pages follow the new run (or the question about its name)
    if RunPaths.of(checkpoints_root(), name).checkpoint.exists():
        st.session_state[keys.ASK_EXISTING] = name  # never overwrite: ask to continue or rename
        return
    act(lambda: holder().start(lambda: TrainerProcess(config, name, checkpoints=checkpoints_root(),
                                                      data_dir=data_dir(), classifier_steps=classifier_steps())))


def continue_config(name: str) -> GANConfig:
    """The run's stored config with the sidebar's epochs and device: nothing else may change."""
    saved = saved_run(name)
    if saved is None:
        raise RunError(f"run '{name}' has no checkpoint to continue")
    return saved.config.replace(epochs=st.session_state[keys.field("epochs")],
                                device=st.session_state[keys.field("device")])


def on_resume(name: str | None = None) -> None:
    """Resume: un-pause the paused trainer, or continue the selected run from its latest checkpoint."""
    st.session_state.pop(keys.ASK_EXISTING, None)
    box = holder()
    alive = box.alive()
    if alive is not None:
        alive.unpause()
        return
    if is_demo_name(name) or (name is None and st.session_state.get(keys.SHOW_DEMO)):
        flash("error", f"Nothing started: {CONTINUE_REFUSED}.")
        return
    run = name or str(st.session_state[keys.RUN]).strip()
    act(lambda: box.start(lambda: TrainerProcess(continue_config(run), run, checkpoints=checkpoints_root(),
                                                 data_dir=data_dir(), continue_run=True,
                                                 classifier_steps=classifier_steps())))


def on_pause() -> None:
    trainer = holder().alive()
    if trainer is not None:
        trainer.pause()


def on_stop() -> None:
    trainer = holder().alive()
    if trainer is not None:
        trainer.stop()  # checkpoints, then the training process ends; Resume continues from here


def on_rename_and_train(new_name: str) -> None:
    st.session_state[keys.RUN] = new_name
    st.session_state.pop(keys.ASK_EXISTING, None)
    on_train()


def on_show_trainer() -> None:
    """Show the run the server trains, with the config it trains with (it may have no checkpoint yet)."""
    trainer = holder().trainer
    if trainer is not None:
        open_run(trainer.paths.name, trainer.config)


def on_open(name: str, resume: bool = False) -> None:
    if is_demo_name(name):
        open_demo_run()
    else:
        open_run(name)
    if resume:
        on_resume(name)
