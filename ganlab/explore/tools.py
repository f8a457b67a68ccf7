"""The lab's tools, as tabs under it: each acts on the lab's current z and hands its result back to it
(``latent_state.adopt``). They run inside the lab's fragment, so an adopted z redraws the lab at once."""

from __future__ import annotations

from collections.abc import Hashable

import streamlit as st

from gan_core.runs.reader import RunReader
from ganlab.explore.edits import edits_ui, label_edits_ui
from ganlab.explore.inversion import inversion_ui
from ganlab.explore.saved import saved_ui
from ganlab.state.source import is_demo_name

TABS = ("Toward a digit", "Find the z of a digit", "Saved latents")


def tools_ui(name: str, reader: RunReader, names: tuple[str, ...]) -> Hashable:
    """The tabs; returns their layout as drawn (what each shows varies with its input and result). ``names``:
    the data's classes; () without labels, where the edits, which need the judge, say why they are absent."""
    edits, inversion, saved = st.tabs(list(TABS))
    with edits:
        if names and reader.config.conditional:
            edit_shape = label_edits_ui(reader, names)
        elif names:
            edit_shape = edits_ui(name, reader, names)
        else:
            st.info("“Toward a class” climbs the judge's probability of a class, and the referee decides: two "
                    "classifiers that learn from labels. This run's pictures have none, so the edits are not "
                    "available; the sliders, the interpolation and the search for a z are.")
            edit_shape = "no labels"
    with inversion:
        inversion_shape = inversion_ui(name, reader, names)
    with saved:
        if is_demo_name(name):
            st.caption("The demo run is read-only: latents cannot be saved into it. Train a run of your own.")
            saved_shape = None
        else:
            saved_shape = saved_ui(name, reader)
    return edit_shape, inversion_shape, saved_shape
