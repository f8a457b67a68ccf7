"""When the page refreshes on its own: while the server's trainer runs, on the shared budget; and, on every
page, a cheap look every few seconds at what the server's one trainer does (``followed``).

A rerun does not replace a container: the browser keeps a container's children and overwrites them by
position, and ``st.empty().container()`` is no exception (the server's message queue composes the empty
away when the container follows it in the same flush). So a container whose children differ in number or
kind between reruns shows the previous rerun's leftovers, shifted, until the run ends, and a fragment's run
may not end for a long while. Every region that refreshes is therefore drawn into fixed ``slots()``: the
same number of placeholders at every rerun, each holding one element, nothing, or a block of fixed shape.
A fragment whose layout follows the user's choices (the latent lab: its sliders, its tools' results) says
its shape instead, and a change redraws the page once (``redraw_when_reshaped``).
"""

from __future__ import annotations

from collections.abc import Hashable

import streamlit as st
from streamlit.delta_generator import DeltaGenerator
from streamlit.runtime.scriptrunner import get_script_run_ctx

from gan_core.runs.snapshot import Status
from ganlab.state.resources import LIVE_REFRESH_SECONDS, holder, poll, watch


def region() -> DeltaGenerator:
    """A container in a placeholder. It does not clear what the previous rerun drew in its place (see above):
    draw the same shape into it at every rerun, or use ``slots``."""
    return st.empty().container()


def redraw_when_reshaped(key: str, shape: Hashable) -> None:
    """For a fragment whose layout varies (how many sliders, which tool's result, which input): when ``shape``
    differs from the one it was last drawn with, rerun the whole page once. A fragment's own rerun leaves
    the elements it no longer draws on the page (they are only cleared when a whole run of the page ends), so
    a layout that changed in a fragment run is drawn again by a run of the page. Call at the fragment's end."""
    if st.session_state.get(key) == shape:
        return
    st.session_state[key] = shape
    ctx = get_script_run_ctx()
    if ctx is not None and ctx.fragment_ids_this_run:  # a run of the whole page clears its leftovers itself
        st.rerun(scope="app")


def followed() -> tuple[str, str] | None:
    """What every page follows of the server's trainer: (its run, its status) while it is alive, else None.
    A page drawn with one value and looking at another is out of date."""
    trainer = holder().alive()
    return None if trainer is None else (trainer.paths.name, trainer.snapshot().status)


def slots(n: int) -> list[DeltaGenerator]:
    """``n`` placeholders in a row, each replaced whole by what is drawn into it (an element, or nothing)."""
    return [st.empty() for _ in range(n)]


def trainer_status() -> str | None:
    """The server's trainer's status while it is alive, else None."""
    seen = followed()
    return None if seen is None else seen[1]


def live_period(status: str | None) -> float | None:
    """This session's refresh period while the trainer runs (it counts as a watcher), else None."""
    return watch() if status == Status.RUNNING else None


def slowdown(period: float | None) -> float:
    """How much slower than one lone page this session refreshes (several sessions share the budget)."""
    return period / LIVE_REFRESH_SECONDS if period else 1.0


def moved(now: float, drawn: float) -> bool:
    """Whether a shared budget's period ``now`` is far enough from the ``drawn`` one (sessions came or went)
    to draw the page's fragments again with it: not for every session that comes or goes."""
    return not 2 / 3 <= now / drawn <= 3 / 2


def follow_status(page_status: str | None, period: float | None) -> None:
    """Rerun the whole page when the trainer's status, or the sessions' shared refresh period, changed:
    the buttons and every fragment's period must follow."""
    if trainer_status() != page_status:
        st.rerun(scope="app")
    if period is not None and moved(watch(), period):
        st.rerun(scope="app")  # sessions came or went


def look(seen: tuple[str, str] | None, period: float) -> None:
    """One idle page's look (a fragment every ``period`` s): rerun the whole page when the server's trainer
    is not what it was drawn with (``seen``): a Train, Pause, Resume or Stop on another page, or the run's
    end, so that every page's buttons and words follow the one trainer. Draws nothing."""
    if followed() != seen or moved(poll(), period):
        st.rerun(scope="app")


def follow_trainer(seen: tuple[str, str] | None) -> None:
    """Look at the server's trainer every few seconds from this page, on the pollers' shared budget."""
    period = poll()
    st.fragment(look, run_every=period)(seen, period)
