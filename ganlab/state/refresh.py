"""When the page refreshes on its own: while the server's trainer runs, on the shared budget; and, on every
page, a cheap look every few seconds at what the server's one trainer does (``followed``).

A rerun does not replace a container: the browser keeps a container's children and overwrites them by
position, and ``st.empty().container()`` is no exception (the server's message queue composes the empty
away when the container follows it in the same flush). So a container whose children differ in number or
kind between reruns shows the previous rerun's leftovers, shifted, until the run ends, and a fragment's run
may not end for a long while. Every region that refreshes is therefore drawn into fixed ``slots()``: the
same number of placeholders at every rerun, each holding one element, nothing, or a block of fixed shape.
"""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from gan_core.runs.snapshot import Status
from ganlab.state.resources import LIVE_REFRESH_SECONDS, holder, poll, watch


def region() -> DeltaGenerator:
    """A container in a placeholder. It does not clear what the previous rerun drew in its place (see above):
    draw the same shape into it at every rerun, or use ``slots``."""
    return st.empty().container()


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
