"""Explore: the latent lab (one z, its sliders and tools), the copying check and the timeline of the selected run."""

import streamlit as st

from ganlab.explore.lab import lab_ui
from ganlab.explore.neighbours import copying_region
from ganlab.explore.timeline import timeline_ui
from ganlab.pages import shown_run
from ganlab.state.refresh import trainer_status
from ganlab.widgets.demo import demo_banner_ui

name = shown_run()
st.title("Explore")
st.caption(f"What the generator of **{name}** has learned." if name else "Pick a valid run name in the sidebar.")
demo_banner_ui(name)
status = trainer_status()
lab_ui(name, status)
copying_region(name)
timeline_ui(name, status)
