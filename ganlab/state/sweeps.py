"""Which sweep runs on this machine now: the drivers this server launched and any driver holding a sweep's
lock. Train (on the Train page) and the launcher (on the Runs page) both ask it: while a sweep uses every
core, the app does not train, and while the app trains, no sweep is launched."""

from __future__ import annotations

import subprocess

import streamlit as st

from gan_core.sweep.driver import sweep_running
from gan_core.sweep.plan import list_sweeps
from ganlab.state.resources import checkpoints_root


@st.cache_resource
def launched() -> dict[str, subprocess.Popen]:
    """The sweep drivers this server started, by sweep name (so they are waited for, never orphaned)."""
    return {}


def any_sweep_running() -> str | None:
    """The name of a sweep whose driver runs on this machine now, if any: one this server launched (alive
    from its first second, before Ray has started and the driver has locked the sweep), or any driver
    holding a sweep's lock."""
    for name, process in launched().items():
        if process.poll() is None:
            return name
    root = checkpoints_root()
    return next((name for name in list_sweeps(root) if sweep_running(root, name)), None)
