"""The latent tools' state in the session: the base z that the direction sliders start from, and how a
new z (from an edit, an inversion, a saved latent or the lab above) takes its place."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from gan_core.gan.model import seeded_z
from gan_core.latent.sampling import with_values
from ganlab.state import keys
from ganlab.state.sliders import forget_keys


def lab_z(z_dim: int) -> np.ndarray:
    """The z the latent lab above shows now: its base vector with its sliders' values."""
    base = torch.zeros(z_dim) if st.session_state.get(keys.LAB_BASE) == "zero" else \
        seeded_z(int(st.session_state.get(keys.LAB_SEED, 0)), z_dim)[0]
    dims = [d for d in st.session_state.get(keys.LAB_DIMS, []) if d < z_dim
            and keys.lab_slider(d) in st.session_state]
    values = [float(st.session_state[keys.lab_slider(d)]) for d in dims]
    return with_values(base, dims, values).numpy()


def base_z(z_dim: int) -> np.ndarray:
    """The base z of the direction sliders; the lab's z until something else is adopted."""
    base = st.session_state.get(keys.LT_BASE)
    if base is None or len(base) != z_dim:
        base = lab_z(z_dim).tolist()
        st.session_state[keys.LT_BASE] = base
        st.session_state[keys.LT_BASE_NOTE] = "the latent lab's z"
    return np.asarray(base, dtype=np.float32)


def slider_generation() -> int:
    return int(st.session_state.get(keys.LT_GENERATION, 0))


def reset_sliders() -> None:
    """Every direction slider, the class slider and the truncation back to their defaults: they are drawn
    again under new keys (a slider the browser shows keeps its value through a rerun otherwise)."""
    old = slider_generation()
    forget_keys(lambda key: key.startswith(keys.LT_SLIDER_PREFIX) or key in (keys.lt_class_amount(old),
                                                                            keys.lt_psi(old)))
    st.session_state[keys.LT_GENERATION] = old + 1


def adopt(z: np.ndarray, note: str) -> None:
    """Make ``z`` the sliders' base: every slider back to 0, truncation off. Call from a callback (before
    the widgets are drawn) or follow with a rerun."""
    st.session_state[keys.LT_BASE] = np.asarray(z, dtype=np.float32).reshape(-1).tolist()
    st.session_state[keys.LT_BASE_NOTE] = note
    reset_sliders()


def adopt_after_rerun(z: np.ndarray, note: str) -> None:
    """``adopt`` from the script body after the sliders were drawn: a slider's browser-side value would come
    back with the rerun, so the change waits for the top of the next run (``apply_pending``)."""
    st.session_state[keys.LT_PENDING] = (np.asarray(z, dtype=np.float32).reshape(-1).tolist(), note)
    st.rerun(scope="fragment")


def apply_pending() -> None:
    """Call before any slider is drawn."""
    pending = st.session_state.pop(keys.LT_PENDING, None)
    if pending is not None:
        adopt(*pending)


def on_take_lab_z() -> None:
    adopt(lab_z(int(st.session_state.get(keys.LAB_Z_DIM, 100))), "the latent lab's z")


def shown_z(z_dim: int) -> np.ndarray:
    """The z of the big digit as last drawn (the base before the first drawing)."""
    shown = st.session_state.get(keys.LT_SHOWN)
    return np.asarray(shown, np.float32) if shown is not None and len(shown) == z_dim else base_z(z_dim)
