"""Runs: every saved run, to open or continue."""

import streamlit as st

from ganlab.pages import shown_run
from ganlab.runs.browser import run_browser_ui
from ganlab.runs.sweeps import compare_ui, launcher_ui

name = shown_run()
st.title("Runs")
run_browser_ui(name)
st.subheader("Sweeps")
launcher_ui()
st.subheader("Side by side")
compare_ui()
