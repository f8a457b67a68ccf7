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


TRAIN = "Train"  # the page with the trainer's buttons: the others carry the trainer bar instead


def has_trainer_buttons(page: st.Page) -> bool:  # type: ignore[valid-type]
    return page.title == TRAIN


def navigation() -> st.Page:  # type: ignore[valid-type]
    """The pages; returns the one to draw."""
    return st.navigation([
        st.Page(str(FOLDER / "train.py"), title=TRAIN, icon=":material/model_training:", default=True),
        st.Page(str(FOLDER / "explore.py"), title="Explore", icon=":material/explore:"),
        st.Page(str(FOLDER / "runs.py"), title="Runs", icon=":material/folder_open:"),
    ])
