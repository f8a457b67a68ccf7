"""Runs: every saved run, to open or continue."""

import streamlit as st

from ganlab.pages import selection
from ganlab.runs_browser import run_browser_ui

name, _ = selection()
st.title("Runs")
run_browser_ui(name)
