"""The interactive GAN lab: ``streamlit run app.py``.

Train the seed tutorial's MLP GAN on MNIST, watch it learn, then explore its latent space. This file is
the entry point only: page settings, the session's first fill, the sidebar and the navigation between
the pages in ``ganlab/pages``. Training runs in a child process (``gan_core.process.TrainerProcess``).

Environment: ``GANLAB_CHECKPOINTS`` (default ``checkpoints``), ``GANLAB_DATA_DIR`` (default ``data``) and
``GANLAB_DEMO_DIR`` (the read-only demo run; default ``demo/`` beside this file); ``GANLAB_WARM_TRAINER=0``
starts no training process ahead of a click.
"""

import streamlit as st

from ganlab.pages import has_trainer_buttons, navigation, remember, shown_run
from ganlab.state.resources import warm_trainer
from ganlab.widgets.follow import follow_trainer_ui
from ganlab.widgets.sidebar import init_session, sidebar_ui

st.set_page_config(page_title="GAN lab · MNIST", page_icon="🧪", layout="wide")
page = navigation()
init_session()
remember(*sidebar_ui())
follow_trainer_ui(shown_run(), bar=not has_trainer_buttons(page))  # every page follows the one trainer
page.run()
warm_trainer()  # after the page: the first view is not delayed by it
