"""The latent tools under the latent lab on the Explore page: direction sliders, "toward a digit", finding
the z of a digit, and saved latents. One fragment: a slider or button reruns this section only."""

from __future__ import annotations

import streamlit as st

from gan_core import CheckpointError
from ganlab.explore.directions import directions_ui
from ganlab.explore.edits import edits_ui
from ganlab.explore.inversion import inversion_ui
from ganlab.explore.latent_state import apply_pending
from ganlab.explore.saved import saved_ui
from ganlab.state import keys
from ganlab.state.refresh import live_period, slowdown
from ganlab.state.resources import timed
from ganlab.state.source import is_demo_name, live_trainer, run_reader

FOLLOW_SECONDS = 5.0  # the images' period while they follow the training weights


def latent_tools_ui(name: str | None, status: str | None) -> None:
    try:
        reader = run_reader(name)
    except CheckpointError:
        return  # the lab above says why
    if name is None or reader is None or not reader.has_weights():
        return  # the lab above says when it opens
    st.subheader("Directions, digits and inversion")
    if not st.toggle("Open the latent tools", key=keys.LT_OPEN,
                     help="principal directions, “toward a digit”, finding the z of a digit, saved latents; "
                          "the first opening prepares the judge and referee networks"):
        return
    period = live_period(status) if live_trainer(name) is not None else None
    follow = st.session_state.get(keys.LAB_FOLLOW, True)
    images_every = FOLLOW_SECONDS * slowdown(period) if period is not None and follow else None
    st.fragment(timed(latent_tools))(name, images_every)


def latent_tools(name: str, images_every: float | None) -> None:
    reader = run_reader(name)
    if reader is None:
        return
    apply_pending()  # before any slider is drawn
    directions_ui(name, reader, images_every)
    edits, inversion, saved = st.tabs(["Toward a digit", "Find the z of a digit", "Saved latents"])
    with edits:
        edits_ui(name, reader)
    with inversion:
        inversion_ui(name, reader)
    with saved:
        if is_demo_name(name):
            st.caption("The demo run is read-only: latents cannot be saved into it. Train a run of your own.")
        else:
            saved_ui(name, reader)
