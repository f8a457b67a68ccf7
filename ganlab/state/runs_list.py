"""The runs under the checkpoints root, listed once per change of any checkpoint."""

from __future__ import annotations

import streamlit as st

from gan_core import RunInfo, list_runs
from gan_core.runs.folder import CHECKPOINT_NAME
from ganlab.state.resources import checkpoints_root


@st.cache_data(max_entries=4, show_spinner=False)
def _cached_runs(root: str, fingerprint: tuple[tuple[str, int], ...]) -> list[RunInfo]:
    del fingerprint  # cache key: the list is reloaded only when some checkpoint changed
    return list_runs(root)


def all_runs() -> list[RunInfo]:
    root = checkpoints_root()
    if not root.is_dir():
        return []
    prints = []
    for folder in sorted(root.iterdir()):
        try:
            prints.append((folder.name, (folder / CHECKPOINT_NAME).stat().st_mtime_ns))
        except OSError:
            continue
    return _cached_runs(str(root), tuple(prints))
