"""Direction sliders: move z along the generator's principal directions (GANSpace) in standard deviations,
or along raw coordinates z[i]; a linear class slider; truncation. The images follow the training weights
in a nested fragment, and the directions are recomputed (and aligned to the previous ones) as they change."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from gan_core.images import gif_bytes, make_grid, png_bytes, upscale
from gan_core.latent.directions import DEFAULT_LAYER, LAYERS, SIGMA_RANGE, move, raw_directions, sweep_directions
from gan_core.latent.sampling import Z_HIGH, Z_LOW, truncate
from gan_core.latent.store import npy_bytes
from gan_core.runs.reader import RunReader
from ganlab.explore.latent_state import base_z, on_take_lab_z, reset_sliders, slider_generation
from ganlab.state import keys
from ganlab.state.models import class_rows, direction_cache, judge_probabilities, private_generator, weights_version
from ganlab.state.resources import fast_png, one_thread, timed
from ganlab.state.source import run_reader

PRINCIPAL, RAW = "Principal directions", "Raw z[i]"
SWEEP_STEPS = 9
MAX_SLIDERS = 12
DIGIT_SCALE = 8


def directions_ui(name: str, reader: RunReader, images_every: float | None) -> None:
    z_dim = reader.config.z_dim
    base = base_z(z_dim)
    controls, images = st.columns([2, 3])
    with controls:
        c = st.columns([3, 2])
        mode = c[0].radio("Sliders move along", [PRINCIPAL, RAW], key=keys.LT_MODE, horizontal=True,
                          on_change=reset_sliders,
                          help="principal directions: the main ways G's first layer varies (PCA of its "
                               "activations, mapped back to z), in standard deviations; raw: single z[i]")
        layer = c[1].selectbox("Layer", list(LAYERS), index=list(LAYERS).index(DEFAULT_LAYER), key=keys.LT_LAYER,
                               disabled=mode == RAW, help="the layer of G whose activations the PCA uses")
        c = st.columns(3)
        k = c[0].number_input("Sliders", 1, MAX_SLIDERS, 6, key=keys.LT_K)
        c[1].button("Take the lab's z", key=keys.LT_TAKE_LAB, on_click=on_take_lab_z, width="stretch",
                    help="start from the digit of the latent lab above")
        c[2].button("Sliders to 0", key=keys.LT_ZERO, on_click=reset_sliders, width="stretch")
        st.caption(f"Base: {st.session_state.get(keys.LT_BASE_NOTE, 'the latent lab’s z')}.")
        gen = slider_generation()
        span = SIGMA_RANGE if mode == PRINCIPAL else 1.0
        unit = "σ" if mode == PRINCIPAL else ""
        sigmas = []
        cols = st.columns(2)
        for i in range(int(k)):
            label = f"PC {i + 1}" if mode == PRINCIPAL else f"z[{i}] offset"
            with cols[i % 2]:
                sigmas.append(st.slider(f"{label} {unit}".strip(), -span, span, 0.0, 0.1, key=keys.lt_slider(i, gen)))
        c = st.columns([1, 2])
        digit = c[0].selectbox("Class slider", list(range(10)), key=keys.LT_CLASS_DIGIT,
                               help="moves z along the mean z the judge reads as this digit minus the mean of all")
        amount = c[1].slider("toward that class", -2.0, 2.0, 0.0, 0.1, key=keys.lt_class_amount(gen))
        psi = st.slider("Truncation ψ (1 = off)", 0.0, 1.0, 1.0, 0.05, key=keys.lt_psi(gen),
                        help="scales z toward the centre of the prior's box on every image here")
    args = (name, base, mode, layer, tuple(sigmas), int(digit), float(amount), float(psi))
    with images:
        if images_every is None:
            direction_images(*args)  # a slider change reruns the section anyway
        else:  # following training: the images refresh on their own, the widgets stay put
            st.fragment(timed(direction_images), run_every=images_every)(*args)


def direction_images(name: str, base: np.ndarray, mode: str, layer: str, sigmas: tuple[float, ...], digit: int,
                     amount: float, psi: float) -> None:
    """The big digit with the judge's probabilities, and one sweep row per slider: one generator batch."""
    reader = run_reader(name)
    if reader is None:
        return
    z_dim = reader.config.z_dim
    if mode == PRINCIPAL:
        with one_thread():  # private_generator takes no lock; nothing in here may (the lock is not reentrant)
            basis = direction_cache().get(name, weights_version(reader), lambda: private_generator(reader), layer)
        vectors, explained = basis.vectors[:len(sigmas)], basis.explained[:len(sigmas)]
    else:
        vectors, explained = raw_directions(z_dim, range(len(sigmas))), None
    z = move(base, vectors, sigmas)
    if amount:
        z = (z + amount * torch.from_numpy(class_rows(name, reader)[digit])).clamp(Z_LOW, Z_HIGH)
    z = truncate(z, psi)
    st.session_state[keys.LT_SHOWN] = z.tolist()
    span = SIGMA_RANGE if mode == PRINCIPAL else 1.0
    rows = truncate(sweep_directions(z, vectors, SWEEP_STEPS, span), psi)
    with one_thread():
        images = reader.sample(torch.cat([z[None], rows]))
    if images is None:
        return
    digit_col, sweep_col = st.columns([1, 2])
    digit_col.image(fast_png(upscale(make_grid(images[:1], pad=0), DIGIT_SCALE)),
                    caption="G(z) for the direction sliders", output_format="PNG")
    probs = judge_probabilities(reader.config.dataset, images[0])
    best = int(probs.argmax())
    digit_col.markdown(f"Judge: **{best}** ({probs[best]:.0%})  \n"
                       + " · ".join(f"{c}: {p:.0%}" for c, p in enumerate(probs)))
    what = "principal direction" if mode == PRINCIPAL else "coordinate"
    shares = "" if explained is None else " (variance shares " + ", ".join(f"{e:.1%}" for e in explained[:4]) + " …)"
    sweep_png = make_grid(images[1:], ncols=SWEEP_STEPS, scale=2)
    sweep_col.image(fast_png(sweep_png), output_format="PNG",
                    caption=f"row i: {what} i from -{span:g} to +{span:g}{' σ' if mode == PRINCIPAL else ''}{shares}")
    c = sweep_col.columns(3)
    c[0].download_button("z (.npy)", npy_bytes(z.numpy()), "z.npy", key=keys.LT_DL_Z)
    c[1].download_button("sweep (.png)", png_bytes(sweep_png), "sweep.png", key=keys.LT_DL_SWEEP)
    c[2].download_button("row 1 (.gif)", gif_bytes(images[1:1 + SWEEP_STEPS]), "direction.gif", key=keys.LT_DL_GIF)
