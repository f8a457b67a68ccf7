"""The app's pages (Streamlit runs each file as a page script) and what they share: the sidebar's choice."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from gan_core import GANConfig
from ganlab.state import keys
from ganlab.state.source import DEMO_RUN

FOLDER = Path(__file__).resolve().parent


def remember(name: str | None, config: GANConfig | None) -> None:
    st.session_state[keys.SELECTION] = (name, config)


def selection() -> tuple[str | None, GANConfig | None]:
    """The run name and config the sidebar holds now (both None while a value is invalid)."""
    return st.session_state.get(keys.SELECTION, (None, None))


def shown_run() -> str | None:
    """The run the pages show: the read-only demo while it is open, else the sidebar's run."""
    return DEMO_RUN if st.session_state.get(keys.SHOW_DEMO) else selection()[0]


def navigation() -> st.navigation:  # type: ignore[valid-type]
    return st.navigation([
        st.Page(str(FOLDER / "train.py"), title="Train", icon=":material/model_training:", default=True),
        st.Page(str(FOLDER / "explore.py"), title="Explore", icon=":material/explore:"),
        st.Page(str(FOLDER / "runs.py"), title="Runs", icon=":material/folder_open:"),
    ])
