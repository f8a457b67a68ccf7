"""Sliders that start again: their values are dropped from the session, so each is drawn afresh from its
base (the latent lab's sliders when a new run is opened or the base changes, the latent tools' on reset)."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from ganlab.state import keys


def forget_keys(match: Callable[[str], bool]) -> None:
    """Drop every session value whose key ``match``es."""
    for name in [k for k in st.session_state if match(str(k))]:
        del st.session_state[name]


def forget_lab_sliders() -> None:
    """Drop the latent lab's slider values so they start again from the base vector (Random, Zero, Re-seed,
    a new run)."""
    forget_keys(lambda key: key.startswith(keys.LAB_SLIDER_PREFIX))
