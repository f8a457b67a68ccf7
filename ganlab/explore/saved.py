"""Named latents in the run's folder (gan_core.latent_store): save the shown z, combine a − b + c."""

from __future__ import annotations

import streamlit as st

from gan_core.latent.store import LatentStoreError, combine, list_latents, load_latent, save_latent
from gan_core.runs.folder import RunPaths
from gan_core.runs.reader import RunReader
from ganlab.explore.latent_state import adopt, shown_z
from ganlab.state import keys
from ganlab.state.resources import checkpoints_root

NONE = "—"


def saved_ui(name: str, reader: RunReader) -> bool:
    """Save and combine; returns the layout as drawn (whether latents are listed)."""
    paths = RunPaths.of(checkpoints_root(), name)
    c = st.columns([3, 1])
    label = c[0].text_input("Name", key=keys.LT_SAVE_NAME, placeholder="e.g. thin-seven")
    note = st.empty()  # the save's outcome, in a place of its own: it does not change the layout around it
    if c[1].button("Save z", key=keys.LT_SAVE, width="stretch", disabled=not label):
        try:
            save_latent(paths, label.strip(), shown_z())
            note.success(f"Saved as {label.strip()} in {paths.folder.name}/latents/.")
        except LatentStoreError as exc:
            note.error(str(exc))
    names = list_latents(paths)
    if not names:
        st.caption("No saved latents in this run yet.")
        return False
    c = st.columns(4)
    a = c[0].selectbox("a", names, key=keys.LT_COMBINE[0])
    b = c[1].selectbox("− b", [NONE, *names], key=keys.LT_COMBINE[1])
    d = c[2].selectbox("+ c", [NONE, *names], key=keys.LT_COMBINE[2])
    c[3].button("Use a − b + c", key=keys.LT_COMBINE_BUTTON, on_click=on_combine,
                args=(name, reader.config.z_dim, a, b, d),
                width="stretch", help="the result (clipped to the prior's box) becomes the lab's z")
    return True


def on_combine(name: str, z_dim: int, a: str, b: str, c: str) -> None:
    paths = RunPaths.of(checkpoints_root(), name)
    try:
        terms = [None if n == NONE else load_latent(paths, n, z_dim) for n in (a, b, c)]
        adopt(combine(*terms)[0], " ".join(p for p in (a, "" if b == NONE else f"− {b}", "" if c == NONE
                                                          else f"+ {c}") if p))
    except LatentStoreError as exc:
        st.session_state[keys.FLASH] = ("error", str(exc))
