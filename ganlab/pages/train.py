"""Train: the buttons, the live panel (progress, curves, grid) and quality."""

import streamlit as st

from ganlab.controls import controls_ui
from ganlab.live import live_ui
from ganlab.pages import selection
from ganlab.stepper import stepper_ui

name, config = selection()
st.title("Train")
st.caption("The seed tutorial's MLP GAN on MNIST: train it and watch D and G compete.")
status = controls_ui(name, config)
stepper_ui(name)
live_ui(name, status)
