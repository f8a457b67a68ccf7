"""Which generator the images come from: the EMA generator (what every view shows) or, by one switch in the
sidebar, the raw G that training updates. Views of a single update (step by step, live edits) always show
the raw G: an average would hide the step."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from gan_core import GANConfig
from gan_core.gan.state import preview_noise
from gan_core.runs.reader import RunReader
from ganlab.state import keys
from ganlab.state.labels import preview_labels

EMA, RAW = "ema", "raw"


def generator_switch_ui() -> None:
    """The switch, in the sidebar; disabled while the demo (which ships no raw G) is shown."""
    demo = bool(st.session_state.get(keys.SHOW_DEMO))
    st.toggle("Show the raw G", key=keys.RAW_G, disabled=demo,
              help="Images come from the EMA generator (a moving average of G's weights, cleaner digits); "
                   "switch on to see the G that training updates instead. Step-by-step views always show it.")
    if demo:
        st.caption("The demo run ships only its EMA generator: there is no raw G to show.")


def which() -> str:
    """The generator the switch picks: "ema" or "raw"."""
    return RAW if st.session_state.get(keys.RAW_G) else EMA


def describe(config: GANConfig, picked: str) -> str:
    """The picked generator in words, for captions."""
    if config.ema_decay == 0:
        return "G (this run keeps no EMA generator)"
    return "EMA generator" if picked == EMA else "raw G"


def shown_images(reader: RunReader, z: torch.Tensor,
                 labels: torch.Tensor | None = None) -> tuple[np.ndarray | None, str]:
    """Images of ``z`` (and, for a conditional run, one label each: ``ganlab.state.labels``) from the
    generator the switch picks, and which one that was in words; the EMA generator where the run has no raw
    G (the demo). None before the first published weights."""
    picked = which()
    images = reader.sample(z, picked, labels)
    if images is None and picked == RAW:
        images = reader.sample(z, EMA, labels)
        return images, "EMA generator (this run ships no raw G)"
    return images, describe(reader.config, picked)


def shown_grid(reader: RunReader) -> tuple[np.ndarray | None, str]:
    """``shown_images`` of the run's fixed preview noise (100 latents): the Train page's grid and the copying
    check's; a conditional run's row r asks for class r, as in the epoch grids the trainer saves."""
    config = reader.config
    return shown_images(reader, preview_noise(config.seed, config.z_dim), preview_labels(config))


def shown_kind(reader: RunReader) -> str:
    """"raw" when the raw G is shown (and exists), else "ema": which of D's grid verdicts applies."""
    if which() == RAW and reader.has_weights(RAW):
        return RAW
    return EMA
