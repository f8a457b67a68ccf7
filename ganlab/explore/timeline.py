"""The timeline: every finished epoch's fixed-noise grid, following the newest epoch unless the user moved
the slider off it; downloads of the GIF, the grid, losses.csv and the weights."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import streamlit as st
from PIL import Image

from gan_core.images import upscale
from gan_core.runs.folder import RunPaths
from ganlab.explore.frames import frame_paths, timeline_gif
from ganlab.state import keys
from ganlab.state.refresh import follow_status, live_period, slowdown
from ganlab.state.resources import checkpoints_root, timed
from ganlab.state.source import is_demo_name
from ganlab.widgets.generator import RAW, which

TIMELINE_REFRESH_SECONDS = 10.0  # new epoch grids appear this often while training


@st.cache_data(max_entries=4, show_spinner=False)
def _cached_gif(folder: str, fingerprint: tuple[tuple[int, int], ...]) -> bytes:
    del fingerprint
    paths = RunPaths(Path(folder).parent, Path(folder).name)
    return timeline_gif(frame_paths(paths), scale=2)


def _png_to_array(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("L"))


def on_epoch_moved() -> None:
    """The user moved the slider: stay there, unless they moved it back to the newest epoch."""
    st.session_state[keys.TL_PINNED] = st.session_state[keys.TL_EPOCH] != st.session_state.get(keys.TL_NEWEST)


def timeline_ui(name: str | None, status: str | None) -> None:
    period = live_period(status)
    every = TIMELINE_REFRESH_SECONDS * slowdown(period) if period is not None else None
    st.subheader("Timeline")
    st.fragment(timed(timeline), run_every=every)(name, status, period)


def timeline(name: str | None, page_status: str | None, period: float | None) -> None:
    follow_status(page_status, period)
    if name is None:
        return
    if is_demo_name(name):
        st.caption("The demo run ships no per-epoch grids: its latest grid is on the Train page.")
        return
    paths = RunPaths.of(checkpoints_root(), name)
    frames = frame_paths(paths)
    if not frames:
        st.caption("Each finished epoch adds a grid of the fixed noise here.")
        return
    epochs = [epoch for epoch, _ in frames]
    st.session_state[keys.TL_NEWEST] = epochs[-1]
    if not st.session_state.get(keys.TL_PINNED) or st.session_state.get(keys.TL_EPOCH) not in epochs:
        st.session_state[keys.TL_EPOCH] = epochs[-1]
        st.session_state[keys.TL_PINNED] = False
    if len(epochs) > 1:
        epoch = st.select_slider("Epoch", options=epochs, key=keys.TL_EPOCH, on_change=on_epoch_moved,
                                 help="follows the newest epoch until you move it")
    else:
        epoch = epochs[0]
    picture = paths.sample(epoch).read_bytes()
    left, right = st.columns([2, 1])
    left.image(upscale(_png_to_array(picture), 2), caption=f"{name}: epoch {epoch}", output_format="PNG")
    if which() == RAW:
        left.caption("The epoch grids are drawn when each epoch ends, by the EMA generator: the raw G of past "
                     "epochs is not kept.")
    with right:
        prints = tuple((e, p.stat().st_mtime_ns) for e, p in frames)
        st.download_button("Timeline GIF", data=lambda: _cached_gif(str(paths.folder), prints),
                           file_name=f"{name}_timeline.gif", mime="image/gif", icon=":material/animation:",
                           key=keys.DL_GIF, on_click="ignore", width="stretch")
        st.download_button("This grid (PNG)", data=picture, file_name=f"{name}_epoch_{epoch:04d}.png",
                           mime="image/png", key=keys.DL_PNG, on_click="ignore", width="stretch")
        if paths.losses_csv.is_file():
            st.download_button("losses.csv", data=paths.losses_csv.read_bytes(), file_name=f"{name}_losses.csv",
                               mime="text/csv", key=keys.DL_CSV, on_click="ignore", width="stretch")
        if paths.checkpoint.is_file():
            st.download_button("Weights (checkpoint.pt)", data=lambda: paths.checkpoint.read_bytes(),
                               file_name=f"{name}_checkpoint.pt", mime="application/octet-stream",
                               key=keys.DL_WEIGHTS, on_click="ignore", width="stretch",
                               help="the whole resumable checkpoint; gan_core.load_generator reads it")
