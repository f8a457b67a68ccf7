"""Train / Pause / Resume / Stop, the messages of their callbacks, and the "name exists" question."""

from __future__ import annotations

import streamlit as st

from gan_core import GANConfig
from gan_core.runs.demo import CONTINUE_REFUSED
from ganlab.state import keys
from ganlab.state.holder import ButtonStates, button_states, next_free_name
from ganlab.state.resources import checkpoints_root, holder
from ganlab.state.source import is_demo_name, saved_run_or_none
from ganlab.state.sweeps import any_sweep_running
from ganlab.widgets.actions import (
    on_pause,
    on_rename_and_train,
    on_resume,
    on_show_trainer,
    on_stop,
    on_train,
)


def can_continue(name: str | None) -> bool:
    """The run has a checkpoint and the sidebar's epoch total goes beyond it."""
    saved = saved_run_or_none(name) if name is not None else None
    epochs = st.session_state[keys.field("epochs")]
    return saved is not None and isinstance(epochs, int) and epochs > saved.snapshot().epoch


def controls_ui(name: str | None, config: GANConfig | None) -> str | None:
    """The four buttons and messages; returns the status of the server's trainer while it is alive."""
    box = holder()
    trainer = box.trainer
    alive = box.alive() is not None
    status = trainer.snapshot().status if trainer is not None else None
    sweep = any_sweep_running()  # a sweep here uses every core: the app does not train beside it
    states: ButtonStates = button_states(status, alive, config_ok=config is not None and sweep is None,
                                         can_continue_run=can_continue(name) and sweep is None)
    cols = st.columns([1, 1, 1, 1, 3])
    cols[0].button("Train", key=keys.BTN_TRAIN, type="primary", on_click=on_train, disabled=not states.train,
                   icon=":material/play_arrow:", width="stretch", help="start a new run with the sidebar settings")
    cols[1].button("Pause", key=keys.BTN_PAUSE, on_click=on_pause, disabled=not states.pause,
                   icon=":material/pause:", width="stretch")
    cols[2].button("Resume", key=keys.BTN_RESUME, on_click=on_resume, disabled=not states.resume,
                   icon=":material/resume:", width="stretch",
                   help="un-pause the trainer, or continue the selected run from its latest checkpoint")
    cols[3].button("Stop", key=keys.BTN_STOP, on_click=on_stop, disabled=not states.stop,
                   icon=":material/stop:", width="stretch", help="checkpoint and end the trainer")
    with cols[4]:
        if trainer is not None and alive and name != trainer.paths.name:
            st.info(f"Training run **{trainer.paths.name}** in the background ({trainer.snapshot().status}).")
            st.button(f"Show '{trainer.paths.name}'", key=keys.BTN_SHOW_TRAINER, on_click=on_show_trainer)
        elif sweep is not None:
            st.info(f"Sweep **{sweep}** is running on this machine (Runs page): Train is disabled until it ends.")
        elif is_demo_name(name):
            st.caption(f"Resume is off: {CONTINUE_REFUSED}.")
        elif name is not None and not alive and not states.resume and saved_run_or_none(name) is not None:
            st.caption("Raise **Epochs** in the sidebar to train this run further.")

    if keys.FLASH in st.session_state:
        kind, text = st.session_state.pop(keys.FLASH)
        getattr(st, kind)(text)
    asked = st.session_state.get(keys.ASK_EXISTING)
    if asked is not None and asked == name:
        other = next_free_name(checkpoints_root(), asked)
        st.warning(f"A run named **{asked}** already exists; nothing was started or overwritten. "
                   f"Continue it from its checkpoint, or train under another name.")
        a, b, c = st.columns(3)
        a.button(f"Continue '{asked}'", key=keys.BTN_ASK_RESUME, on_click=on_resume, args=(asked,))
        b.button(f"Train as '{other}'", key=keys.BTN_ASK_RENAME, on_click=on_rename_and_train, args=(other,))
        c.button("Cancel", key=keys.BTN_ASK_CANCEL, on_click=lambda: st.session_state.pop(keys.ASK_EXISTING, None))
    return status if alive else None
