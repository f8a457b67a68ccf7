"""Explore: the latent lab, its tools (directions, digit edits, inversion) and the timeline of the selected run."""

import streamlit as st

from ganlab.lab import lab_ui
from ganlab.latent_tools import latent_tools_ui
from ganlab.pages import selection
from ganlab.refresh import trainer_status
from ganlab.timeline import timeline_ui

name, _ = selection()
st.title("Explore")
st.caption(f"What the generator of **{name}** has learned." if name else "Pick a valid run name in the sidebar.")
status = trainer_status()
lab_ui(name, status)
latent_tools_ui(name, status)
timeline_ui(name, status)
