"""Find the z of a digit (gan_core.inversion): a held-out real digit, one drawn with the mouse, or an
uploaded picture (gan_core.images makes it MNIST-like or says why not); then hand the z to the lab."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st
from PIL import Image

from gan_core.images import DigitImageError, digit_from_bytes, digit_from_picture, make_grid, upscale
from gan_core.latent.inversion import STARTS, STEPS, invert
from gan_core.runs.reader import RunReader
from ganlab.explore.latent_state import adopt
from ganlab.state import keys
from ganlab.state.models import class_label, held_out, judge_probabilities, private_generator, private_judge
from ganlab.state.refresh import region
from ganlab.state.resources import fast_png, one_thread

HELD, DRAW, UPLOAD = "Held-out real digit", "Draw", "Upload"
CANVAS_SIDE = 224  # px; a stroke of 18 px becomes ~2 px at MNIST's 20-px box, like MNIST's pen
FEATURE_WEIGHT = 0.02


def inversion_ui(name: str, reader: RunReader, names: tuple[str, ...]) -> tuple[str, bool, bool]:
    """The source, the search and its result; returns the layout as drawn (source, a target, a result).
    ``names``: the data's classes; () without labels, where the search uses pixels only and no judge reads."""
    source = st.radio("Digit", [HELD, DRAW, UPLOAD], key=keys.LT_SOURCE, horizontal=True)
    target = None
    left, right = st.columns([1, 2])
    with left, region():  # the content changes with the source: the lab redraws when it does
        if source == HELD:
            target = held_digit(reader.config.dataset, names)
        elif source == DRAW:
            target = drawn_digit()
        else:
            target = uploaded_digit()
    with right, region():
        if target is not None:
            features = bool(names) and st.checkbox(
                "also match the judge's features", key=keys.LT_FEATURES,
                help=f"adds {FEATURE_WEIGHT} x the distance between the judge's features of the two images to the "
                     "pixel error")
            c = st.columns(2)
            if c[0].button("Find z", key=keys.LT_INVERT, type="primary", width="stretch"):
                run_inversion(reader, target, features)
            c[1].button("Cancel", key=keys.LT_CANCEL_INVERT, width="stretch",
                        help="stops a running search (any click does)")
        show_inversion(reader, names)
    return source, target is not None, st.session_state.get(keys.LT_INVERSION) is not None


def held_digit(dataset_name: str, names: tuple[str, ...]) -> np.ndarray:
    digits = held_out(dataset_name)
    c = st.columns(2)
    label = c[0].selectbox("Label", ["any", *range(len(names))], key=keys.LT_HELD_LABEL,
                           format_func=lambda d: d if d == "any" else names[d])
    pool = np.arange(len(digits.labels)) if label == "any" else np.flatnonzero(digits.labels == label)
    index = c[1].number_input(f"Index (of {len(pool)})", 0, max(len(pool) - 1, 0), 0, key=keys.LT_HELD_INDEX)
    image = digits.images[pool[min(int(index), len(pool) - 1)]]
    st.image(fast_png(upscale(make_grid(image[None], pad=0), 4)), caption="held-out real digit (never trained on)",
             output_format="PNG")
    return image


def drawn_digit() -> np.ndarray | None:
    from streamlit_drawable_canvas import st_canvas  # imported here: it registers a component on import

    result = st_canvas(stroke_width=18, stroke_color="#FFFFFF", background_color="#000000", height=CANVAS_SIDE,
                       width=CANVAS_SIDE, drawing_mode="freedraw", return_image_data=True, key=keys.LT_CANVAS)
    data = result.image_data if result is not None and result.json_data is not None else None
    if data is None or not np.asarray(data)[..., :3].any():
        st.caption("Draw a digit with the mouse, white on black.")
        return None
    try:
        return digit_from_picture(Image.fromarray(np.asarray(data, dtype=np.uint8)))
    except DigitImageError as exc:
        st.warning(str(exc))
        return None


def uploaded_digit() -> np.ndarray | None:
    upload = st.file_uploader("A picture of one digit (PNG, JPEG, …; any size, at most 5 MB)", key=keys.LT_UPLOAD,
                              type=["png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff"])
    if upload is None:
        return None
    try:
        image = digit_from_bytes(upload.getvalue())
    except DigitImageError as exc:
        st.error(f"Cannot use {upload.name}: {exc}")
        return None
    st.image(fast_png(upscale(make_grid(image[None], pad=0), 4)), caption="as MNIST would have it",
             output_format="PNG")
    return image


def run_inversion(reader: RunReader, target: np.ndarray, features: bool) -> None:
    generator = private_generator(reader)
    if generator is None:
        return
    bar = st.progress(0.0, text="searching…")
    done = [0]

    def progress() -> bool:
        done[0] += 1  # a Streamlit call per step: Cancel (any click) interrupts the search here
        if done[0] % 10 == 0:
            bar.progress(min(done[0] / STEPS, 1.0), text=f"searching: step {done[0]} of {STEPS}")
        return False

    judge_net = private_judge(reader.config.dataset) if features else None
    with one_thread():
        result = invert(generator, target, judge_net=judge_net, feature_weight=FEATURE_WEIGHT if features else 0.0,
                        should_stop=progress)
    bar.empty()
    st.session_state[keys.LT_INVERSION] = (target, result)


def show_inversion(reader: RunReader, names: tuple[str, ...]) -> None:
    last = st.session_state.get(keys.LT_INVERSION)
    if last is None:
        st.caption(f"Find z optimises {STARTS} starts at once for {STEPS} Adam steps inside the prior's box.")
        return
    target, result = last
    pair = make_grid(np.stack([target, result.image]), ncols=2, scale=4)
    st.image(fast_png(pair), output_format="PNG", caption="target | reconstruction G(z)")
    readings = ""
    if names:  # the judge learns from labels: without them, the pixel error alone
        p_target, p_recon = (judge_probabilities(reader.config.dataset, image) for image in (target, result.image))
        readings = (f"Judge: target **{class_label(names, int(p_target.argmax()))}** ({p_target.max():.0%}), "
                    f"reconstruction **{class_label(names, int(p_recon.argmax()))}** ({p_recon.max():.0%}) · ")
    st.markdown(f"{readings}pixel MSE {result.mse:.4f}" + (" · cancelled" if result.cancelled else ""))
    if len(result.errors):
        st.line_chart(pd.DataFrame({"pixel MSE": result.errors}), height=140, x_label="step", y_label="MSE")
    st.button("Use this z in the lab", key=keys.LT_USE_INVERTED, on_click=adopt,
              args=(result.z[0], "the inverted digit"))
