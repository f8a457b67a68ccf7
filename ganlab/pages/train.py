"""Train: the buttons, the live panel (progress, curves, grid) and quality."""

import streamlit as st

from ganlab.pages import selection, shown_run
from ganlab.train.buttons import controls_ui
from ganlab.train.live import live_ui
from ganlab.train.stepper import stepper_ui
from ganlab.widgets.demo import demo_banner_ui

_, config = selection()
name = shown_run()
st.title("Train")
st.caption("The seed tutorial's GAN on MNIST (its MLP pair, or a DCGAN beside it): train it and watch D and G "
           "compete.")
demo_banner_ui(name)
status = controls_ui(name, config)
stepper_ui(name)
live_ui(name, status)
