"""When the page refreshes on its own: only while the server's trainer runs, on the shared budget.

Streamlit leaves stale elements behind when a fragment's layout changes between reruns, so every region
whose content varies is drawn into a ``region()``: one placeholder whose whole content is replaced.
"""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from gan_core.runs.snapshot import Status
from ganlab.state.resources import LIVE_REFRESH_SECONDS, holder, watch


def region() -> DeltaGenerator:
    """A container that replaces, rather than appends to, what the previous rerun drew in its place."""
    return st.empty().container()


def trainer_status() -> str | None:
    """The server's trainer's status while it is alive, else None."""
    trainer = holder().alive()
    return None if trainer is None else trainer.snapshot().status


def live_period(status: str | None) -> float | None:
    """This session's refresh period while the trainer runs (it counts as a watcher), else None."""
    return watch() if status == Status.RUNNING else None


def slowdown(period: float | None) -> float:
    """How much slower than one lone page this session refreshes (several sessions share the budget)."""
    return period / LIVE_REFRESH_SECONDS if period else 1.0


def follow_status(page_status: str | None, period: float | None) -> None:
    """Rerun the whole page when the trainer's status, or the sessions' shared refresh period, changed:
    the buttons and every fragment's period must follow."""
    if trainer_status() != page_status:
        st.rerun(scope="app")
    if period is not None and not 2 / 3 <= watch() / period <= 3 / 2:
        st.rerun(scope="app")  # sessions came or went
