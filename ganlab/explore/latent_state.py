"""The latent lab's one current z in the session: a base z (a readable start, or a tool's result) that the
sliders move from. Every tool reads the z shown now (``shown_z``) and hands its result back with ``adopt``:
the result becomes the base, and the sliders start again at 0."""

from __future__ import annotations

import numpy as np
import streamlit as st
from streamlit.errors import StreamlitAPIException

from ganlab.state import keys
from ganlab.state.sliders import forget_keys

ANY_DIGIT = "any readable digit"


def has_base(name: str, z_dim: int) -> bool:
    """Whether the lab holds a base z for run ``name`` (another run, or none yet: the lab starts again)."""
    base = st.session_state.get(keys.LAB_BASE)
    return st.session_state.get(keys.LAB_RUN) == name and base is not None and len(base) == z_dim


def base_z() -> np.ndarray:
    return np.asarray(st.session_state[keys.LAB_BASE], dtype=np.float32)


def slider_generation() -> int:
    return int(st.session_state.get(keys.LAB_GENERATION, 0))


def reset_sliders() -> None:
    """Every slider and the truncation back to their defaults: they are drawn again under new keys (a slider
    the browser shows keeps its value through a rerun otherwise)."""
    old = slider_generation()
    forget_keys(lambda key: key.startswith(keys.LAB_SLIDER_PREFIX) or key == keys.lab_psi(old))
    st.session_state[keys.LAB_GENERATION] = old + 1


def adopt(z: np.ndarray, note: str, name: str | None = None) -> None:
    """Make ``z`` the lab's base (of run ``name``, default: the run it holds now): every slider back to 0,
    truncation off. Call from a callback (before the widgets are drawn) or use ``adopt_after_rerun``."""
    z = np.asarray(z, dtype=np.float32).reshape(-1)
    if name is not None:
        st.session_state[keys.LAB_RUN] = name
    st.session_state[keys.LAB_BASE] = z.tolist()
    st.session_state[keys.LAB_BASE_NOTE] = note
    st.session_state[keys.LAB_SHOWN] = z.tolist()
    reset_sliders()


def adopt_after_rerun(z: np.ndarray, note: str) -> None:
    """``adopt`` from the script body after the sliders were drawn: a slider's browser-side value would come
    back with the rerun, so the change waits for the top of the next run (``apply_pending``)."""
    st.session_state[keys.LAB_PENDING] = (np.asarray(z, dtype=np.float32).reshape(-1).tolist(), note)
    try:
        st.rerun(scope="fragment")
    except StreamlitAPIException:  # a full run of the page drew the lab (not the lab's own rerun)
        st.rerun()


def apply_pending() -> None:
    """Call before any slider is drawn."""
    pending = st.session_state.pop(keys.LAB_PENDING, None)
    if pending is not None:
        adopt(*pending)


def on_label() -> None:
    """A conditional run's class changed: the z stays. Sliders moved away from the base hand their z over to
    the base first (the principal directions are the new class's, so the sliders start again at 0)."""
    shown, base = st.session_state.get(keys.LAB_SHOWN), st.session_state.get(keys.LAB_BASE)
    if shown is not None and shown != base:
        adopt(np.asarray(shown, np.float32), "the previous sliders' z")


def shown_z() -> np.ndarray:
    """The z of the big digit as last drawn (the base before the first drawing)."""
    shown = st.session_state.get(keys.LAB_SHOWN)
    return np.asarray(shown if shown is not None else st.session_state[keys.LAB_BASE], np.float32)


def start_choice() -> str | int:
    """"Start from": ANY_DIGIT or a digit."""
    return st.session_state.get(keys.LAB_START, ANY_DIGIT)
