"""Sliders that start again: their values are dropped from the session, so each is drawn afresh at its
default (the latent lab's sliders when a new z is adopted, the whole lab when another run is opened)."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from ganlab.state import keys


def forget_keys(match: Callable[[str], bool]) -> None:
    """Drop every session value whose key ``match``es."""
    for name in [k for k in st.session_state if match(str(k))]:
        del st.session_state[name]


def forget_lab_sliders() -> None:
    """The latent lab starts again at its first view (a readable start, sliders at 0): another run was opened."""
    forget_keys(lambda key: key in (keys.LAB_RUN, keys.LAB_BASE, keys.LAB_BASE_NOTE, keys.LAB_SHOWN,
                                    keys.LAB_START_INDEX))
