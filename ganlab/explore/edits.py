""""Toward 0 … 9": move the shown z toward a digit by gradient steps on the judge (gan_core.steering),
show the path as a strip with the judge's probability at each point, and adopt the result."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from gan_core.images import gif_bytes, make_grid
from gan_core.latent.steering import MAX_PIXEL_CHANGE, PULL, RESTARTS, SHIFTS, STEP_SIZE, STEPS, TARGET_P, toward_digit
from gan_core.runs.reader import RunReader
from ganlab.explore.latent_state import adopt_after_rerun, shown_z
from ganlab.state import keys
from ganlab.state.models import private_generator, private_judge, referee
from ganlab.state.refresh import region
from ganlab.state.resources import fast_png, one_thread

STRIP_FRAMES = 10


def edits_ui(name: str, reader: RunReader) -> None:
    st.caption(f"Each button climbs the judge's log-probability of the digit (averaged over the image and its "
               f"{len(SHIFTS) - 1} one-pixel shifts) from the z shown above: at most {STEPS} steps of "
               f"{STEP_SIZE} in z, each pulled {PULL:.0%} back toward the start, stopping when the judge gives "
               f"{TARGET_P:.2%} or before the image changes by more than {MAX_PIXEL_CHANGE:.0%} (mean |pixel "
               f"change|); short of that, {RESTARTS} more tries from jittered starts, and the judge keeps the "
               "best. A second network, which never steers, scores the result.")
    cols = st.columns(10)
    asked = [d for d in range(10) if cols[d].button(f"→ {d}", key=keys.lt_toward(d), width="stretch",
                                                      help=f"move the digit toward a {d}")]
    if asked:
        run_edit(name, reader, asked[0])
    last = st.session_state.get(keys.LT_EDIT)
    if last is not None:
        show_edit(*last)


def show_edit(digit: int, images: np.ndarray, probs: np.ndarray, verdict: float) -> None:
    with region():
        frames = np.linspace(0, len(images) - 1, min(STRIP_FRAMES, len(images))).round().astype(int)
        st.image(fast_png(make_grid(images[frames], ncols=len(frames), scale=3)), output_format="PNG",
                 caption=f"path toward {digit}: judge p({digit}) " + " → ".join(f"{probs[i]:.0%}" for i in frames))
        st.markdown(f"Referee (never steers): p({digit}) = **{verdict:.0%}** for the final image; "
                    f"{len(images) - 1} steps. The final z is now the sliders' base.")
        st.download_button("path (.gif)", gif_bytes(images), f"toward_{digit}.gif", key=keys.LT_DL_PATH)


def run_edit(name: str, reader: RunReader, digit: int) -> None:
    z = shown_z(reader.config.z_dim)
    generator = private_generator(reader)
    if generator is None:
        return
    st.button("Cancel", key=keys.LT_CANCEL_EDIT, help="stops the edit (any click does)")
    bar = st.progress(0.0, text=f"toward {digit}…")
    steps_done = [0]

    def progress() -> bool:
        # A Streamlit call per step: a click elsewhere (e.g. another button) interrupts the edit here.
        steps_done[0] += 1
        bar.progress(min(steps_done[0] / (2 * STEPS), 1.0), text=f"toward {digit}: step {steps_done[0]}")
        return False

    judge_net, second = private_judge(reader.config.dataset), referee(reader.config.dataset)
    with one_thread():
        edit = toward_digit(generator, judge_net, z[None], digit, should_stop=progress)
        images = reader.sample(torch.from_numpy(edit.path[:, 0]))
        verdict = float(second.probabilities(images[-1:])[0, digit])
    bar.empty()
    st.session_state[keys.LT_EDIT] = (digit, images, edit.judge_p[:, 0], verdict)
    adopt_after_rerun(edit.final[0], f"“toward {digit}” from the previous z")
