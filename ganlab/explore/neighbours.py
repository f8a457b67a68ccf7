"""Nearest real digits: the training digits closest to what G draws, and whether G sits closer to its
training set than unseen real digits do (a sign of copying). The search is ``gan_core.neighbours``: one
matrix product over the cached index, within the lab's time budget."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import streamlit as st
import torch

from gan_core import CheckpointError
from gan_core.data import DataError
from gan_core.images import make_grid
from gan_core.quality.judge import JUDGE_DIR
from gan_core.quality.neighbours import COPYING, SPACES, NeighbourIndex, memorisation, nearest_distances
from gan_core.runs.reader import RunReader
from ganlab.charts.trust import distance_spec, distance_table
from ganlab.state import keys
from ganlab.state.models import dataset, feature_net, features_words, held_out
from ganlab.state.resources import checkpoints_root, fast_png, one_thread
from ganlab.state.source import run_reader
from ganlab.widgets.generator import shown_grid, which

NEAREST = 5


@st.cache_resource(show_spinner="Indexing the training digits for the nearest-digit search (once per dataset)…")
def neighbour_index(dataset_name: str) -> NeighbourIndex:
    net = copy.deepcopy(feature_net(dataset_name)).eval()  # private: queries switch its mode
    with one_thread():
        return NeighbourIndex.build(net, dataset(dataset_name).images, checkpoints_root() / JUDGE_DIR)


def index_or_none(dataset_name: str) -> NeighbourIndex | None:
    try:
        return neighbour_index(dataset_name)
    except (DataError, OSError) as exc:
        st.caption(f"Nearest real digits are unavailable: the training digits could not be loaded ({exc}).")
        return None


def space_words(dataset_name: str) -> dict[str, str]:
    """Each search space for a caption: the judge's features, or without labels the pixel PCA's."""
    return {"features": features_words(dataset_name), "pixels": "pixels"}


def nearest_ui(dataset_name: str, digit: np.ndarray) -> None:
    """The 5 nearest training digits of ``digit`` in judge (or pixel PCA) features and in pixels, with
    distances."""
    index = index_or_none(dataset_name)
    if index is None:
        return
    with one_thread():
        found = {space: index.query(digit[None], NEAREST, space) for space in SPACES}
    for space, nearest in found.items():
        pictures = index.images[nearest.indices[0]].numpy()
        distances = ", ".join(f"{d:.2f}" for d in nearest.distances[0])
        st.image(fast_png(make_grid(pictures, ncols=NEAREST, scale=2)), output_format="PNG",
                 caption=f"{len(pictures)} nearest training digits in {space_words(dataset_name)[space]} · "
                         f"distances {distances}")


@st.cache_resource(max_entries=4, show_spinner="Measuring the grid's distances to the training digits…")
def _grid_distances(run: str, version: int, kind: str, dataset_name: str,
                    _reader: RunReader) -> tuple[dict[str, dict[str, Any]], np.ndarray, str] | None:
    """Per space, the grid's memorisation check; the grid's images; which generator drew them."""
    del run, version, kind  # cache key
    images, label = shown_grid(_reader)
    if images is None:
        return None
    index, held = neighbour_index(dataset_name), held_out(dataset_name).images
    held_distances = _held_out_distances(dataset_name)
    with one_thread():
        return {space: memorisation(index, torch.from_numpy(images), held, space, held_distances[space])
                for space in SPACES}, images, label


@st.cache_resource(show_spinner=False)
def _held_out_distances(dataset_name: str) -> dict[str, np.ndarray]:
    """The held-out real digits' distances to their nearest training digit: once per dataset, not per grid."""
    index, held = neighbour_index(dataset_name), held_out(dataset_name).images
    with one_thread():
        return {space: nearest_distances(index, held, space) for space in SPACES}


def copying_ui(reader: RunReader) -> None:
    """For the fixed grid: nearest-training-digit distances of generated digits against held-out real ones."""
    st.subheader("Is G copying its training digits?")
    if index_or_none(reader.config.dataset) is None:
        return
    snap = reader.snapshot()
    found = _grid_distances(f"{snap.run}:{id(reader)}", snap.weights_version, which(), reader.config.dataset, reader)
    if found is None:
        return
    by_space, images, label = found
    words = space_words(reader.config.dataset)
    left, right = st.columns([3, 2])
    left.vega_lite_chart(distance_table(by_space["features"]), distance_spec(words["features"]),
                         width="stretch")
    with right:
        for space, result in by_space.items():
            st.markdown(f"**{words[space].capitalize()}**: median distance {result['generated_median']:.2f} "
                        f"for the grid, {result['held_out_median']:.2f} for {len(result['held_out'])} held-out real "
                        f"digits.")
            sentence = result["verdict"][0].upper() + result["verdict"][1:]
            (st.warning if result["ratio"] < COPYING else st.caption)(f"{sentence}.")
    st.caption(f"The fixed grid's {len(by_space['features']['generated'])} digits ({label}) against real digits "
               "G never trained on: each one's distance to its nearest training digit.")
    cell_ui(reader.config.dataset, images)


def cell_ui(dataset_name: str, images: np.ndarray) -> None:
    """One cell of the fixed grid (row by row, as on the Train page) and its nearest training digits."""
    digit_col, nearest_col = st.columns([1, 4])
    cell = int(digit_col.number_input("Grid cell", min_value=0, max_value=len(images) - 1, step=1, key=keys.NN_CELL,
                                      help="0 is the top-left digit of the Train page's grid, 99 the bottom-right"))
    digit_col.image(fast_png(make_grid(images[cell][None], pad=0, scale=4)), output_format="PNG",
                    caption=f"grid cell {cell}")
    with nearest_col:
        nearest_ui(dataset_name, images[cell])


def copying_region(name: str | None) -> None:
    """The copying check of run ``name``'s fixed grid, once it has weights (the lab above says when). A
    fragment: picking a grid cell reruns this section only."""
    st.fragment(_copying)(name)


def _copying(name: str | None) -> None:
    try:
        reader = run_reader(name)
    except CheckpointError:
        return
    if reader is None or not reader.has_weights():
        return
    copying_ui(reader)
