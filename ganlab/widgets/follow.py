"""Every page follows the server's one trainer. A Train, Pause or Stop on one page (or the run's end) is seen
by every other open page within a few seconds (``ganlab.state.refresh.follow_trainer``), and the pages
without the Train page's buttons carry a bar that says which run trains, shows it, and pauses, resumes or
stops it."""

from __future__ import annotations

import streamlit as st

from gan_core.runs.snapshot import Status
from ganlab.state import keys
from ganlab.state.holder import button_states
from ganlab.state.refresh import follow_trainer, followed, region
from ganlab.state.resources import holder
from ganlab.widgets.actions import on_pause, on_resume, on_show_trainer, on_stop


def trainer_bar_ui(shown: str | None) -> None:
    """While the server's trainer is alive: its run and status, "Show" (unless this page shows that run),
    and Pause / Resume / Stop, enabled as on the Train page. Nothing otherwise."""
    with region():  # present or not, with or without "Show": one placeholder, replaced whole
        trainer = holder().alive()
        if trainer is None:
            return
        run, snap = trainer.paths.name, trainer.snapshot()
        states = button_states(snap.status, True, config_ok=False, can_continue_run=False)
        text, show, pause, resume, stop = st.columns([5, 2, 1, 1, 1], vertical_alignment="center")
        doing = "training" if snap.status == Status.RUNNING else snap.status  # a change reruns the page
        text.info(f"Run **{run}** is {doing} on this server.", icon=":material/model_training:")
        if shown != run:
            show.button(f"Show '{run}'", key=keys.BAR_SHOW, on_click=on_show_trainer, width="stretch")
        pause.button("Pause", key=keys.BAR_PAUSE, on_click=on_pause, disabled=not states.pause, width="stretch")
        resume.button("Resume", key=keys.BAR_RESUME, on_click=on_resume, disabled=not states.resume,
                      width="stretch")
        stop.button("Stop", key=keys.BAR_STOP, on_click=on_stop, disabled=not states.stop, width="stretch",
                    help="checkpoint and end the trainer")


def follow_trainer_ui(shown: str | None, *, bar: bool) -> None:
    """What every page draws of the server's trainer before its own content: the bar (``bar``: the page has
    no trainer buttons of its own) and the look every few seconds that reruns the page when the trainer is
    no longer what the page was drawn with."""
    seen = followed()  # first: whatever the page draws after this is at least as new
    if bar:
        trainer_bar_ui(shown)
    follow_trainer(seen)
