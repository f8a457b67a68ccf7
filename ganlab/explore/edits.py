""""Toward 0 … 9": move the lab's z toward a digit by gradient steps on the judge (gan_core.latent.steering),
show the path as a strip with the judge's probability at each point, and let the referee, which never steers,
decide: the result becomes the lab's z only when the referee reads the digit with p >= 90%. Otherwise the page
says the edit failed, keeps the z, and offers the best attempt to adopt by hand."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st
import torch

from gan_core.images import gif_bytes, make_grid
from gan_core.latent.labels import toward_label
from gan_core.latent.steering import (
    MAX_PIXEL_CHANGE,
    PULL,
    REACHED_P,
    RESTARTS,
    SHIFTS,
    STEP_SIZE,
    STEPS,
    EditPath,
    toward_digit,
)
from gan_core.runs.reader import RunReader
from ganlab.explore.latent_state import adopt, adopt_after_rerun, on_label, shown_z
from ganlab.state import keys
from ganlab.state.labels import a_class, lab_label
from ganlab.state.models import class_label, private_generator, private_judge, referee, referee_probabilities
from ganlab.state.refresh import region
from ganlab.state.resources import fast_png, one_thread

STRIP_FRAMES = 10


@dataclass(frozen=True)
class EditShown:
    """The last edit as the page shows it: the asked digit, the path's images, and the edit itself (one row:
    its path, the judge's probabilities along it and the referee's verdict on the final image)."""

    digit: int
    label: str  # the class's name: "3", or a folder's "cat"
    images: np.ndarray  # (steps + 1, 28, 28): the path
    edit: EditPath  # n = 1

    @property
    def reached(self) -> bool:
        return bool(self.edit.reached[0])


def edits_ui(name: str, reader: RunReader, names: tuple[str, ...]) -> bool | None:
    """The buttons, one per class of the data (``names``), and the last edit; returns its outcome as shown
    (None: no edit yet)."""
    st.caption(f"Each button climbs the judge's log-probability of the digit (averaged over the image and its "
               f"{len(SHIFTS) - 1} one-pixel shifts) from the lab's z: at most {STEPS} steps of {STEP_SIZE} in z, "
               f"each pulled {PULL:.0%} back toward the start, never changing the image by more than "
               f"{MAX_PIXEL_CHANGE:.0%} (mean |pixel change|). A second network, the referee, which never steers, "
               f"decides: short of its verdict, {RESTARTS} more tries from jittered starts at once, and the result "
               f"becomes the lab's z only when the referee reads the digit with p ≥ {REACHED_P:.0%}.")
    cols = st.columns(len(names))
    asked = [d for d, label in enumerate(names) if cols[d].button(f"→ {label}", key=keys.lt_toward(d), width="stretch",
                                                                   help=f"move the digit toward {a_class(label)}")]
    if asked:
        run_edit(reader, asked[0], names[asked[0]])
    last = st.session_state.get(keys.LT_EDIT)
    if last is not None:
        show_edit(last, names)
    return None if last is None else last.reached


def ask_label(label: int) -> None:
    """"→ d" on a conditional run: the lab's digit control moves to ``label`` (the z stays)."""
    st.session_state[keys.LAB_LABEL] = label
    on_label()


def label_edits_ui(reader: RunReader, names: tuple[str, ...]) -> bool:
    """"Toward a digit" on a conditional run: a label change (``latent.labels.toward_label``), the same z drawn
    as the asked-for class, read by the referee; no climb through z. Returns whether the reading is shown."""
    st.caption("This run is conditional: G draws the class it is asked for, so “toward a digit” needs no climb "
               "through z. Each button changes the label (as the digit control does): the same z, the style kept, "
               "the asked-for class.")
    cols = st.columns(len(names))
    for d, label in enumerate(names):
        cols[d].button(f"→ {label}", key=keys.lt_toward(d), width="stretch", on_click=ask_label, args=(d,),
                       help=f"the same z drawn as {a_class(label)}")
    asked, generator = lab_label(reader.config), reader.generator_copy()
    if asked is None or generator is None:
        return False
    image = toward_label(generator, torch.from_numpy(shown_z())[None], asked)[0].numpy()
    probs = referee_probabilities(reader.config.dataset, image)
    best = int(probs.argmax())
    st.markdown(f"Asked for **{class_label(names, asked)}**: the referee (never steers) reads "
                f"**{class_label(names, best)}** ({probs[best]:.0%}) in the EMA generator's drawing.")
    return True


def show_edit(shown: EditShown, names: tuple[str, ...]) -> None:
    d, row = shown.label, shown.edit
    referee_p, read_p = float(row.referee_p[0]), float(row.read_p[0])
    read_digit = class_label(names, int(row.read_digit[0]))
    with region():
        frames = np.linspace(0, len(shown.images) - 1, min(STRIP_FRAMES, len(shown.images))).round().astype(int)
        st.image(fast_png(make_grid(shown.images[frames], ncols=len(frames), scale=3)), output_format="PNG",
                 caption=f"path toward {d}: judge p({d}) " + " → ".join(f"{row.judge_p[i, 0]:.0%}" for i in frames))
        if shown.reached:
            st.success(f"Reached {d}: the referee (never steers) reads {d} with p = {referee_p:.0%} "
                       f"after {len(shown.images) - 1} steps. This is now the lab's z.")
        else:
            st.error(f"“Toward {d}” failed: the referee reads the result as {read_digit} ({read_p:.0%}), "
                     f"and {d} with only {referee_p:.0%} (it must be ≥ {REACHED_P:.0%}). The lab keeps its z.")
            st.button("Use the best attempt anyway", key=keys.LT_USE_EDIT, on_click=adopt,
                      args=(row.final[0], f"the best attempt toward {d} (the referee reads {read_digit})"))
        st.download_button("path (.gif)", gif_bytes(shown.images), f"toward_{d}.gif", key=keys.LT_DL_PATH)


def run_edit(reader: RunReader, digit: int, label: str) -> None:
    z = shown_z()
    generator = private_generator(reader)
    if generator is None:
        return
    judge_net, second = private_judge(reader.config.dataset), referee(reader.config.dataset)
    st.button("Cancel", key=keys.LT_CANCEL_EDIT, help="stops the edit (any click does)")
    bar = st.progress(0.0, text=f"toward {label}…")
    steps_done = [0]

    def progress() -> bool:
        # A Streamlit call per step: a click elsewhere (e.g. another button) interrupts the edit here.
        steps_done[0] += 1
        bar.progress(min(steps_done[0] / (2 * STEPS), 1.0), text=f"toward {label}: step {steps_done[0]}")
        return False

    with one_thread():
        edit = toward_digit(generator, judge_net, z[None], digit, referee=second, should_stop=progress)
        images = reader.sample(torch.from_numpy(edit.path[:, 0]))
    bar.empty()
    shown = EditShown(digit, label, images, edit)
    st.session_state[keys.LT_EDIT] = shown
    if shown.reached:
        adopt_after_rerun(edit.final[0], f"“toward {label}” from the previous z")
