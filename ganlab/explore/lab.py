"""The latent lab: sliders over chosen latent dimensions, the big digit, a sweep grid and an interpolation
strip. A slider change reruns only this fragment; the images (a nested fragment) follow the training
weights on their own, so the widgets stay put while a run trains."""

from __future__ import annotations

import secrets

import streamlit as st
import torch

from gan_core import CheckpointError
from gan_core.gan.model import seeded_z
from gan_core.images import make_grid, upscale
from gan_core.latent.sampling import with_values
from ganlab.explore.lab_batch import lab_batch
from ganlab.explore.neighbours import nearest_ui
from ganlab.state import keys
from ganlab.state.refresh import follow_status, live_period, slowdown
from ganlab.state.resources import fast_png, one_thread, timed
from ganlab.state.sliders import forget_lab_sliders
from ganlab.state.source import is_demo_name, live_trainer, run_reader
from ganlab.widgets.generator import shown_images

LAB_FOLLOW_SECONDS = 5.0  # the images' period while they follow the training weights
SWEEP_STEPS = 9  # columns of the sweep grid: -1 ... 1
STRIP_STEPS = 10  # images in the interpolation strip
MAX_SLIDERS = 16
DIGIT_SCALE = 10  # 28 px -> 280 px, nearest neighbour


def on_lab_random() -> None:
    st.session_state[keys.LAB_SEED] = secrets.randbelow(1_000_000)  # not torch's global RNG
    st.session_state[keys.LAB_BASE] = "seed"
    forget_lab_sliders()


def on_lab_zero() -> None:
    st.session_state[keys.LAB_BASE] = "zero"
    forget_lab_sliders()


def on_lab_reseed() -> None:
    st.session_state[keys.LAB_BASE] = "seed"
    forget_lab_sliders()


def on_lab_k() -> None:
    """K changed: keep the chosen dims, drop from the end or add the next unused ones."""
    k, dims = int(st.session_state[keys.LAB_K]), list(st.session_state.get(keys.LAB_DIMS, []))
    z_dim = int(st.session_state.get(keys.LAB_Z_DIM, 100))
    extra = [d for d in range(z_dim) if d not in dims]
    st.session_state[keys.LAB_DIMS] = (dims + extra)[:k] if k > len(dims) else dims[:k]


def on_lab_dims() -> None:
    st.session_state[keys.LAB_K] = max(1, len(st.session_state[keys.LAB_DIMS]))


def lab_ui(name: str | None, status: str | None) -> None:
    """The lab of run ``name``; ``status`` is the trainer's status this page was drawn for."""
    live = live_trainer(name) is not None
    period = live_period(status) if live else None
    head, toggle = st.columns([4, 1])
    head.subheader("Latent lab")
    follow = toggle.toggle("Follow training", value=True, key=keys.LAB_FOLLOW,
                           help=f"while training, refresh with the newest weights every {LAB_FOLLOW_SECONDS:g} s "
                                "(slower while several sessions watch)")
    try:
        reader = run_reader(name)
    except CheckpointError as exc:
        st.error(f"Run **{name}** is damaged, so its generator cannot be explored: {exc}")
        return
    # A run that has just started has no weights yet: poll until they exist, then redraw the page.
    waiting = reader is not None and period is not None and not reader.has_weights()
    images_every = LAB_FOLLOW_SECONDS * slowdown(period) if period is not None and follow else None
    st.fragment(timed(latent_lab), run_every=period if waiting else None)(name, status, period, images_every,
                                                                          waiting)


def latent_lab(name: str | None, page_status: str | None, period: float | None, images_every: float | None,
               waiting: bool) -> None:
    follow_status(page_status, period)
    reader = run_reader(name) if name is not None else None
    if reader is None or not reader.has_weights():
        if reader is not None and period is not None:
            st.info("The latent lab opens as soon as the first weights are published…", icon="⏳")
        else:
            st.info("The latent lab opens once the run has weights: train it, or pick a saved run.")
        return
    if waiting:
        st.rerun(scope="app")  # the first weights exist: redraw with the images following training
    z_dim = reader.config.z_dim
    st.session_state[keys.LAB_Z_DIM] = z_dim
    # A demo names the seed of a digit both classifiers read (tools/export_demo); other runs start at 0.
    st.session_state.setdefault(keys.LAB_SEED, getattr(reader, "lab_seed", 0))
    st.session_state.setdefault(keys.LAB_BASE, "seed")
    dims = [d for d in st.session_state.get(keys.LAB_DIMS, list(range(8))) if d < z_dim] or list(range(min(8, z_dim)))
    st.session_state[keys.LAB_DIMS] = dims
    st.session_state[keys.LAB_K] = len(dims)

    controls_col, images_col = st.columns([2, 3])
    with controls_col:
        c = st.columns(2)
        c[0].number_input("Base seed", min_value=0, step=1, key=keys.LAB_SEED, on_change=on_lab_reseed)
        c[1].number_input("Sliders K", min_value=1, max_value=min(MAX_SLIDERS, z_dim), step=1, key=keys.LAB_K,
                          on_change=on_lab_k)
        c = st.columns(3)
        c[0].button("Random", key=keys.LAB_RANDOM, on_click=on_lab_random, width="stretch",
                    help="a new random base seed")
        c[1].button("Zero", key=keys.LAB_ZERO, on_click=on_lab_zero, width="stretch")
        c[2].button("Re-seed", key=keys.LAB_RESEED, on_click=on_lab_reseed, width="stretch",
                    help="back to the vector drawn from the base seed")
        st.multiselect("Latent dimensions (one slider and one sweep row each)", list(range(z_dim)), key=keys.LAB_DIMS,
                       max_selections=MAX_SLIDERS, on_change=on_lab_dims, format_func=lambda d: f"z[{d}]")
        base = torch.zeros(z_dim) if st.session_state[keys.LAB_BASE] == "zero" else \
            seeded_z(int(st.session_state[keys.LAB_SEED]), z_dim)[0]
        values = []
        slider_cols = st.columns(2)
        for i, dim in enumerate(dims):
            st.session_state.setdefault(keys.lab_slider(dim), round(float(base[dim]), 2))
            with slider_cols[i % 2]:
                values.append(st.slider(f"z[{dim}]", -1.0, 1.0, step=0.01, key=keys.lab_slider(dim), format="%.2f"))
        s = st.columns(2)
        seed_a = s[0].number_input("Strip from seed", min_value=0, step=1, value=1, key=keys.LAB_SEED_A)
        seed_b = s[1].number_input("to seed", min_value=0, step=1, value=2, key=keys.LAB_SEED_B)
    with images_col:
        st.fragment(lab_images, run_every=images_every)(
            name, with_values(base, dims, values), tuple(dims), int(seed_a), int(seed_b))


def lab_images(name: str, z: torch.Tensor, dims: tuple[int, ...], seed_a: int, seed_b: int) -> None:
    """The big digit, the sweep grid and the interpolation strip for the current values: one generator
    batch. While following training this fragment reruns alone, so the widgets beside it stay put."""
    try:
        reader = run_reader(name)
    except CheckpointError:
        return  # the lab's controls already said so
    if reader is None:
        return
    z_dim = reader.config.z_dim
    batch, layout = lab_batch(z, list(dims), SWEEP_STEPS, seeded_z(seed_a, z_dim)[0], seeded_z(seed_b, z_dim)[0],
                              STRIP_STEPS)
    with one_thread():
        images, label = shown_images(reader, batch)
    if images is None:
        st.info("Waiting for the first published weights…")
        return
    snap = reader.snapshot()
    source = ("live weights" if live_trainer(name) is not None else "demo, read-only" if is_demo_name(name)
              else "checkpoint")
    digit, sweep_images, strip = layout.split(images)
    digit_col, sweep_col = st.columns([1, 2])
    digit_col.image(fast_png(upscale(make_grid(digit[None], pad=0), DIGIT_SCALE)),
                    caption="G(z) for the current sliders", output_format="PNG")
    generator = label[0].upper() + label[1:]
    digit_col.caption(f"{generator} of **{name}**: {source}, epoch {snap.epoch}, step {snap.step:,}.")
    if dims:
        rows = ", ".join(f"z[{d}]" for d in dims)
        sweep_col.image(fast_png(make_grid(sweep_images, ncols=SWEEP_STEPS, scale=2)),
                        caption=f"sweep: the rows move {rows} in turn from -1 (left) to 1 (right); "
                                "the other entries stay at the current values", output_format="PNG")
    st.image(fast_png(make_grid(strip, ncols=STRIP_STEPS, scale=2)),
             caption=f"interpolation: seed {seed_a} → seed {seed_b}", output_format="PNG")
    st.markdown("**Nearest real digits** to G(z) above: is it a training digit copied?")
    nearest_ui(reader.config.dataset, digit)
