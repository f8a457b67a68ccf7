"""The demo run on the pages: what it is, that it is read-only, and why a shipped demo was refused."""

from __future__ import annotations

import streamlit as st

from gan_core.runs.demo import CONTINUE_REFUSED, DemoError
from ganlab.state import keys
from ganlab.state.source import demo_problem, demo_run, is_demo_name, saved_run_or_none


def open_demo_run() -> None:
    """Show the demo on every page; the sidebar keeps its run name and settings for the next Train."""
    st.session_state[keys.SHOW_DEMO] = True


def leave_demo() -> None:
    st.session_state.pop(keys.SHOW_DEMO, None)


def demo_banner_ui(name: str | None) -> None:
    """While the demo is shown: what it is and how to train a run of one's own. While the sidebar's run
    has nothing to show yet: why a shipped demo was refused."""
    if is_demo_name(name):
        try:
            run = demo_run()
        except DemoError:  # the panels below say why
            return
        if run is None:
            return
        sidebar_run = st.session_state.get(keys.RUN, "")
        command = run.manifest.get("command") or "the project's CLI"
        st.info(f"**The demo run** ({run.snapshot().epoch} epochs, trained by `{command}`): explore it here. "
                f"{CONTINUE_REFUSED[0].upper()}{CONTINUE_REFUSED[1:]}. **Train** starts a new run, "
                f"**{sidebar_run}**, with the sidebar's settings.", icon=":material/lock:")
        st.button("Show the sidebar's run instead", key=keys.BTN_LEAVE_DEMO, on_click=leave_demo)
        return
    problem = demo_problem()
    if problem is not None and (name is None or saved_run_or_none(name) is None):
        st.warning(f"The shipped demo run was refused, so there is nothing to explore until a run is trained: "
                   f"{problem}", icon="⚠️")
