"""Every session-state key of the app, in one place: widgets and callbacks must agree on these names."""

from __future__ import annotations

# --- session -----------------------------------------------------------------------------------------
INITIALISED = "_initialised"  # the sidebar was filled once for this session
WATCHER_ID = "_watcher_id"  # this session's id in the shared refresh budget
FLASH = "flash"  # (kind, text): a message from a button callback, shown once
ASK_EXISTING = "ask_existing"  # run name whose Train hit an existing checkpoint: ask continue or rename

# --- sidebar: the run name, the preset box and one key per config field ---------------------------------
RUN = "cfg_run"
PRESET = "cfg_preset"


def field(name: str) -> str:
    """The widget key of config field ``name``."""
    return f"cfg_{name}"


# --- latent lab ---------------------------------------------------------------------------------------
LAB_SEED = "lab_seed"  # base vector: seeded_z(seed)
LAB_BASE = "lab_base"  # "seed" or "zero"
LAB_K = "lab_k"  # how many sliders
LAB_DIMS = "lab_dims"  # which latent dimensions they move
LAB_Z_DIM = "lab_z_dim"
LAB_FOLLOW = "lab_follow"  # follow the training weights
LAB_SEED_A, LAB_SEED_B = "lab_seed_a", "lab_seed_b"  # ends of the interpolation strip
LAB_SLIDER_PREFIX = "lab_z_"


def lab_slider(dim: int) -> str:
    return f"{LAB_SLIDER_PREFIX}{dim}"


# --- timeline and runs --------------------------------------------------------------------------------
TL_EPOCH = "tl_epoch"  # the timeline's epoch slider
TL_PINNED = "tl_pinned"  # the user moved it off the newest epoch: stop following
BROWSER_PICK = "browser_pick"
