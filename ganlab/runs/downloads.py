"""The Runs page's exports of a run: its EMA generator as ONNX and as safetensors (``gan_core.runs.export``,
the files of ``python -m gan_core export``, each with its model card inside).

The files are built only when a button is clicked (Streamlit's deferred download: ``data`` is a function,
run on the click, off the page script), never on a rerun: an ONNX export takes about a second.
"""

from __future__ import annotations

from functools import partial

import streamlit as st

from gan_core.runs.api import Run
from gan_core.runs.demo import DemoError
from gan_core.runs.export import FORMATS, export
from gan_core.runs.reader import SavedRun
from ganlab.state import keys
from ganlab.state.resources import checkpoints_root, demo_dir
from ganlab.state.source import demo_run, is_demo_name, saved_run_or_none

BUTTON_KEYS = {"onnx": keys.DL_ONNX, "safetensors": keys.DL_SAFETENSORS}
LABELS = {"onnx": "Generator (ONNX)", "safetensors": "Generator (safetensors)"}


def export_bytes(run: Run, file_format: str) -> bytes:
    """The exported file of ``run``; runs on the click, outside the script (no ``st`` here)."""
    return export(run, file_format)[0]


def downloads_ui(name: str) -> None:
    """Two download buttons for run ``name`` (the demo included); the files are made on the click, from the
    app's cached reader of the run (a click never reads the ~35 MB checkpoint again)."""
    try:
        reader: SavedRun | None = demo_run() if is_demo_name(name) else saved_run_or_none(name)
    except DemoError:  # a refused demo: its row in the table says so
        return
    if reader is None:
        return
    run = Run(reader, demo_dir() if is_demo_name(name) else checkpoints_root() / name)
    cols = st.columns(len(FORMATS))
    for col, file_format in zip(cols, FORMATS, strict=True):
        col.download_button(LABELS[file_format], data=partial(export_bytes, run, file_format),
                            file_name=f"{name}-generator.{file_format}", mime="application/octet-stream",
                            key=BUTTON_KEYS[file_format], on_click="ignore", width="stretch",
                            help="the EMA generator in eval mode, dynamic batch, with its model card inside "
                                 "(config, dataset, epochs, FID, z prior); made when clicked")
