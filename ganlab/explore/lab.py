"""The latent lab: one current z, one big digit, one set of sliders, one sweep grid and one interpolation
strip; the tools below it (toward a digit, find the z of a digit, saved latents) act on that z and hand their
result back to it. The lab opens on a digit the referee reads, with sliders along G's principal directions.

One fragment, never nested: a slider or a tool reruns the lab only, and while a run trains (and "Follow
training" is on) the fragment reruns on its own with the newest weights. A timed rerun never interrupts a
running edit or search: Streamlit does not let a fragment's timer preempt a script run.

On data without labels (a folder of pictures without class sub-folders) there is no judge nor referee: the
lab starts from seeded latents, its sliders follow G's principal directions or raw coordinates, its nearest
real images are searched in a pixel PCA, and the tools that need a classifier say why they are absent."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from gan_core import CheckpointError
from gan_core.gan.model import CLASSES, seeded_z
from gan_core.images import gif_bytes, make_grid, png_bytes, upscale
from gan_core.latent.directions import DEFAULT_LAYER, move
from gan_core.latent.labels import across
from gan_core.latent.sampling import truncate
from gan_core.latent.store import npy_bytes
from gan_core.runs.reader import RunReader
from ganlab.explore.directions import PRINCIPAL, RAW, SliderDirections, modes, slider_directions
from ganlab.explore.lab_batch import lab_batch
from ganlab.explore.latent_state import (
    ANY_DIGIT,
    adopt,
    apply_pending,
    base_z,
    has_base,
    on_label,
    reset_sliders,
    slider_generation,
    start_choice,
)
from ganlab.explore.neighbours import nearest_ui
from ganlab.explore.tools import tools_ui
from ganlab.state import keys
from ganlab.state.labels import lab_label, labels_of
from ganlab.state.models import (
    class_label,
    class_names,
    generator_layers,
    labelled,
    readable_start,
    referee_probabilities,
)
from ganlab.state.refresh import follow_status, live_period, redraw_when_reshaped, slowdown
from ganlab.state.resources import fast_png, one_thread, timed
from ganlab.state.source import is_demo_name, live_trainer, run_reader
from ganlab.widgets.generator import shown_images

LAB_FOLLOW_SECONDS = 5.0  # the lab's period while it follows the training weights
SWEEP_STEPS = 9  # columns of the sweep grid: -span ... span
STRIP_STEPS = 10  # images in the interpolation strip
MAX_SLIDERS = 12
DEFAULT_SLIDERS = 6
DIGIT_SCALE = 10  # 28 px -> 280 px, nearest neighbour


def on_start() -> None:
    """"Start from" changed: the lab starts again from the first readable latent of that choice."""
    st.session_state[keys.LAB_START_INDEX] = 0
    st.session_state.pop(keys.LAB_BASE, None)


def on_another() -> None:
    st.session_state[keys.LAB_START_INDEX] = int(st.session_state.get(keys.LAB_START_INDEX, 0)) + 1
    st.session_state.pop(keys.LAB_BASE, None)


def lab_ui(name: str | None, status: str | None) -> None:
    """The lab of run ``name``; ``status`` is the trainer's status this page was drawn for."""
    live = live_trainer(name) is not None
    period = live_period(status) if live else None
    head, toggle = st.columns([4, 1])
    head.subheader("Latent lab")
    follow = toggle.toggle("Follow training", value=True, key=keys.LAB_FOLLOW,
                           help=f"while training, redraw with the newest weights every {LAB_FOLLOW_SECONDS:g} s "
                                "(slower while several sessions watch)")
    try:
        reader = run_reader(name)
    except CheckpointError as exc:
        st.error(f"Run **{name}** is damaged, so its generator cannot be explored: {exc}")
        return
    # A run that has just started has no weights yet: poll until they exist, then redraw the page.
    waiting = reader is not None and period is not None and not reader.has_weights()
    every = period if waiting else LAB_FOLLOW_SECONDS * slowdown(period) if period is not None and follow else None
    st.fragment(timed(latent_lab), run_every=every)(name, status, period, waiting)


def latent_lab(name: str | None, page_status: str | None, period: float | None, waiting: bool) -> None:
    follow_status(page_status, period)
    reader = run_reader(name) if name is not None else None
    if name is None or reader is None or not reader.has_weights():
        if reader is not None and period is not None:
            st.info("The latent lab opens as soon as the first weights are published…", icon="⏳")
        else:
            st.info("The latent lab opens once the run has weights: train it, or pick a saved run.")
        return
    if waiting:
        st.rerun(scope="app")  # the first weights exist: redraw with the lab following training
    # The data's class names; () when it has no labels the judge and the referee could learn from.
    names = class_names(reader.config.dataset) if labelled(reader.config.dataset) else ()
    apply_pending()  # a tool's result, before any slider is drawn
    if not has_base(name, reader.config.z_dim):
        index = int(st.session_state.get(keys.LAB_START_INDEX, 0))
        if names:
            choice = start_choice()
            if reader.config.conditional and choice != ANY_DIGIT:
                st.session_state[keys.LAB_LABEL] = int(choice)  # a conditional G is asked for that class
            with st.spinner("Finding a digit the referee reads…"):
                z, note = readable_start(reader, None if choice == ANY_DIGIT else int(choice), index)
        else:
            z, note = seeded_z(index, reader.config.z_dim)[0].numpy(), f"seed {index}"
        adopt(z, note, name)
    controls, images = st.columns([2, 3])
    with controls:
        directions, values, psi, strip_seed = controls_ui(name, reader, names)
    z = move(base_z(), directions.vectors, values)
    st.session_state[keys.LAB_SHOWN] = truncate(z, psi).tolist()
    with images:
        digit = images_ui(name, reader, z, directions, psi, strip_seed, names)
    tools_shape = tools_ui(name, reader, names)
    if digit is not None:
        st.markdown("**Nearest real digits** to the lab's digit: is it a training digit copied?")
        nearest_ui(reader.config.dataset, digit)
    redraw_when_reshaped(keys.LAB_SHAPE, (st.session_state.get(keys.LAB_MODE), len(directions.labels),
                                          digit is not None, tools_shape))


def controls_ui(name: str, reader: RunReader,
                names: tuple[str, ...]) -> tuple[SliderDirections, list[float], float, int]:
    """Where the z starts, what the sliders move along, the sliders and the truncation; ``names``: the data's
    classes (() without labels: no referee picks the start, no class directions)."""
    z_dim = reader.config.z_dim
    c = st.columns([3, 2])
    if st.session_state.get(keys.LAB_START, ANY_DIGIT) not in (ANY_DIGIT, *range(len(names))):
        st.session_state.pop(keys.LAB_START)  # a class of another run's data
    if names:
        c[0].selectbox("Start from", [ANY_DIGIT, *range(len(names))], key=keys.LAB_START, on_change=on_start,
                       format_func=lambda d: d if d == ANY_DIGIT else f"a {names[d]}",
                       help="a seeded latent whose digit the referee reads with p ≥ 90%")
    else:
        c[0].caption("Starts from seeded latents: without labels no referee picks a readable one.")
    c[1].button("Another", key=keys.LAB_ANOTHER, on_click=on_another, width="stretch",
                help="the next readable latent of that choice" if names else "the next seed")
    if reader.config.conditional:
        digit_control(names)
    # Class directions on data with labels, for an unconditional run (a conditional one is asked for the class).
    allowed = modes(bool(names) and not reader.config.conditional)
    if st.session_state.get(keys.LAB_MODE, PRINCIPAL) not in allowed:
        st.session_state.pop(keys.LAB_MODE)  # class directions chosen on another run, which had them
    mode = st.radio("Sliders move along", allowed, key=keys.LAB_MODE, horizontal=True,
                    on_change=reset_sliders,
                    help="principal directions: the main ways G's first layer varies (PCA of its activations, "
                         "mapped back to z), in standard deviations; raw: single coordinates z[i]; class: the "
                         "mean z the judge reads as a digit minus the mean of all (with labels only)")
    layer, k, dims = DEFAULT_LAYER, DEFAULT_SLIDERS, []
    c = st.columns(2)
    if mode == PRINCIPAL:
        layers = generator_layers(reader.config)  # the MLP's h1..h3, the DCGAN's h1, h2 (and each one's image)
        if st.session_state.get(keys.LAB_LAYER, DEFAULT_LAYER) not in layers:
            st.session_state.pop(keys.LAB_LAYER)  # a layer of another run's architecture
        layer = c[0].selectbox("Layer", list(layers), index=list(layers).index(DEFAULT_LAYER), key=keys.LAB_LAYER,
                               help="the layer of G whose activations the PCA uses")
        k = int(c[1].number_input("Sliders", 1, MAX_SLIDERS, DEFAULT_SLIDERS, key=keys.LAB_K))
    elif mode == RAW:
        dims = st.multiselect("Coordinates", list(range(z_dim)), default=list(range(DEFAULT_SLIDERS)),
                              key=keys.LAB_DIMS, max_selections=MAX_SLIDERS, format_func=lambda d: f"z[{d}]",
                              on_change=reset_sliders)
    directions = slider_directions(name, reader, mode, layer, k, dims, names)
    generation = slider_generation()
    step = 0.1 if mode != RAW else 0.05
    values = []
    cols = st.columns(2)
    for i, label in enumerate(directions.labels):
        with cols[i % 2]:
            values.append(st.slider(f"{label} {directions.unit}".strip(), -directions.span, directions.span, 0.0,
                                    step, key=keys.lab_slider(i, generation)))
    psi = st.slider("Truncation ψ (1 = off)", 0.0, 1.0, 1.0, 0.05, key=keys.lab_psi(generation),
                    help="scales z toward the centre of the prior's box, on every image of the lab")
    c = st.columns([3, 2])
    c[0].caption(f"Base z: {st.session_state.get(keys.LAB_BASE_NOTE, '')}.")
    c[1].button("Sliders to 0", key=keys.LAB_ZERO, on_click=reset_sliders, width="stretch")
    strip_seed = int(st.number_input("Strip to seed", min_value=0, step=1, value=1, key=keys.LAB_STRIP_SEED,
                                     help="the interpolation strip runs from the current z to this seed's z"))
    return directions, values, float(psi), strip_seed


def digit_control(names: tuple[str, ...]) -> None:
    """A conditional run's class control: the same z drawn as another class (the style kept)."""
    classes = range(min(len(names), CLASSES) or CLASSES)
    if st.session_state.get(keys.LAB_LABEL, 0) not in classes:
        st.session_state.pop(keys.LAB_LABEL)  # a class of another run's data
    st.radio("Digit (the label G is asked for)", classes, key=keys.LAB_LABEL, horizontal=True, on_change=on_label,
             format_func=lambda d: class_label(names, d),
             help="this run is conditional: G draws the class it is given. Another class keeps the z, so the "
                  "style (slant, width, stroke) stays and the class changes")


def images_ui(name: str, reader: RunReader, z: torch.Tensor, directions: SliderDirections, psi: float,
              strip_seed: int, names: tuple[str, ...]) -> np.ndarray | None:
    """The big digit with the referee's reading (with labels), the sweep grid and the strip: one generator
    batch. Returns the big digit (None before the first published weights)."""
    z_dim = reader.config.z_dim
    batch, layout = lab_batch(z, directions.vectors, directions.span, SWEEP_STEPS, seeded_z(strip_seed, z_dim)[0],
                              STRIP_STEPS, psi)
    asked = lab_label(reader.config)
    labels = labels_of(asked, len(batch))
    if asked is not None:  # and the shown z once per class: the strip across every label
        strip_z, strip_labels = across(batch[0], CLASSES)
        batch, labels = torch.cat((batch, strip_z)), torch.cat((labels, strip_labels))
    with one_thread():
        images, label = shown_images(reader, batch, labels)
    if images is None:
        st.info("Waiting for the first published weights…")
        return None
    digit, sweep_images, strip = layout.split(images)
    snap = reader.snapshot()
    source = ("live weights" if live_trainer(name) is not None else "demo, read-only" if is_demo_name(name)
              else "checkpoint")
    digit_col, sweep_col = st.columns([1, 2])
    asked_for = "" if asked is None else f", {class_label(names, asked)}"
    digit_col.image(fast_png(upscale(make_grid(digit[None], pad=0), DIGIT_SCALE)),
                    caption=f"G(z{asked_for}) for the current sliders", output_format="PNG")
    if names:
        probs = referee_probabilities(reader.config.dataset, digit)
        best = int(probs.argmax())
        digit_col.markdown(f"Referee reads **{class_label(names, best)}** ({probs[best]:.0%})")
    else:
        digit_col.markdown("No referee reading: the referee learns from labels, and this data has none.")
    digit_col.caption(f"{label[0].upper() + label[1:]} of **{name}**: {source}, epoch {snap.epoch}, "
                      f"step {snap.step:,}.")
    sweep_png = make_grid(sweep_images, ncols=SWEEP_STEPS, scale=2)
    sweep_col.image(fast_png(sweep_png), caption=f"sweep: {directions.describe()}", output_format="PNG")
    st.image(fast_png(make_grid(strip, ncols=STRIP_STEPS, scale=2)),
             caption=f"interpolation: the current z → seed {strip_seed}", output_format="PNG")
    if asked is not None:
        strip = images[-CLASSES:][:len(names) or CLASSES]
        shown = " · ".join(class_label(names, d) for d in range(len(strip)))
        st.image(fast_png(make_grid(strip, ncols=len(strip), scale=2)), output_format="PNG",
                 caption=f"this z across all the labels: {shown}")
    c = st.columns(3)
    c[0].download_button("z (.npy)", npy_bytes(truncate(z, psi).numpy()), "z.npy", key=keys.LAB_DL_Z)
    c[1].download_button("sweep (.png)", png_bytes(sweep_png), "sweep.png", key=keys.LAB_DL_SWEEP)
    c[2].download_button("row 1 (.gif)", gif_bytes(sweep_images[:SWEEP_STEPS]), "direction.gif", key=keys.LAB_DL_GIF)
    return digit
