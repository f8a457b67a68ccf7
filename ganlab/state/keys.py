"""Every session-state key of the app, in one place: widgets and callbacks must agree on these names."""

from __future__ import annotations

# --- session -----------------------------------------------------------------------------------------
INITIALISED = "_initialised"  # the session's first fill is complete (set last: a cut-short fill is made again)
WATCHER_ID = "_watcher_id"  # this session's id in the shared refresh budget
FLASH = "flash"  # (kind, text): a message from a button callback, shown once
ASK_EXISTING = "ask_existing"  # run name whose Train hit an existing checkpoint: ask continue or rename

SELECTION = "_selection"  # (run name, config) from this run of the sidebar (ganlab.pages)

# --- what the pages show --------------------------------------------------------------------------------
SHOW_DEMO = "show_demo"  # the pages show the read-only demo run instead of the sidebar's run
RAW_G = "view_raw_g"  # images come from the raw G instead of the EMA generator

# --- sidebar: the run name, the preset box and one key per config field ---------------------------------
RUN = "cfg_run"
PRESET = "cfg_preset"
RETRY_DOWNLOAD = "retry_download"  # the sidebar's "try the MNIST download again" button


def field(name: str) -> str:
    """The widget key of config field ``name``."""
    return f"cfg_{name}"


# --- Train page: the run's buttons, step by step, live edits -----------------------------------------------
BTN_TRAIN, BTN_PAUSE, BTN_RESUME, BTN_STOP = "btn_train", "btn_pause", "btn_resume", "btn_stop"
BTN_SHOW_TRAINER = "btn_show_trainer"  # show the run the server trains in the background
BTN_ASK_RESUME, BTN_ASK_RENAME, BTN_ASK_CANCEL = "btn_ask_resume", "btn_ask_rename", "btn_ask_cancel"
BTN_LEAVE_DEMO = "btn_leave_demo"
# The trainer bar of the pages without the Train page's buttons (ganlab.widgets.follow)
BAR_SHOW, BAR_PAUSE, BAR_RESUME, BAR_STOP = "bar_show", "bar_pause", "bar_resume", "bar_stop"


def step_button(kind: str) -> str:
    """The button of one hand-made step kind (gan_core.gan.stepping.STEP_KINDS)."""
    return f"btn_step_{kind}"


def edit_box(name: str) -> str:
    """The number box of one live-editable field."""
    return f"edit_{name}"


def edit_shown(name: str) -> str:
    """The value in force that ``edit_box(name)`` last showed: the box follows it unless being edited."""
    return f"{edit_box(name)}_shown"


# --- latent lab ---------------------------------------------------------------------------------------
LAB_SEED = "lab_seed"  # base vector: seeded_z(seed)
LAB_BASE = "lab_base"  # "seed" or "zero"
LAB_K = "lab_k"  # how many sliders
LAB_DIMS = "lab_dims"  # which latent dimensions they move
LAB_Z_DIM = "lab_z_dim"
LAB_FOLLOW = "lab_follow"  # follow the training weights
LAB_SEED_A, LAB_SEED_B = "lab_seed_a", "lab_seed_b"  # ends of the interpolation strip
LAB_SLIDER_PREFIX = "lab_z_"
NN_CELL = "nn_cell"  # the fixed grid's cell whose nearest training digits are shown
LAB_RANDOM, LAB_ZERO, LAB_RESEED = "lab_random", "lab_zero", "lab_reseed"  # buttons


def lab_slider(dim: int) -> str:
    return f"{LAB_SLIDER_PREFIX}{dim}"


# --- timeline and runs --------------------------------------------------------------------------------
TL_EPOCH = "tl_epoch"  # the timeline's epoch slider
TL_PINNED = "tl_pinned"  # the user moved it off the newest epoch: stop following
TL_NEWEST = "_tl_newest"  # the newest epoch when the slider was last drawn
DL_GIF, DL_PNG, DL_CSV, DL_WEIGHTS = "dl_gif", "dl_png", "dl_csv", "dl_weights"  # the timeline's downloads
BROWSER_PICK = "browser_pick"
DELETE_ASK = "delete_ask"  # run name whose Delete was clicked: confirm or cancel
BTN_OPEN, BTN_OPEN_RESUME, BTN_DELETE = "btn_open", "btn_open_resume", "btn_delete"
BTN_DELETE_CONFIRM, BTN_DELETE_CANCEL = "btn_delete_confirm", "btn_delete_cancel"

# --- sweeps: the launcher's boxes and the comparison's picks ---------------------------------------------
SWEEP_PRESETS, SWEEP_SEEDS, SWEEP_EPOCHS = "sweep_presets", "sweep_seeds", "sweep_epochs"
SWEEP_SETS, SWEEP_NAME, BTN_SWEEP = "sweep_sets", "sweep_name", "btn_sweep"
COMPARE_SWEEP, COMPARE_RUNS = "compare_sweep", "compare_runs"


# --- latent tools: principal directions, digit edits, inversion, saved latents (ganlab/latent_*.py) -------
LT_OPEN = "lt_open"  # the tools are drawn (and their networks prepared) only once opened
LT_BASE = "lt_base"  # the z the direction sliders start from (list of floats), set by edits/inversion/loads
LT_PENDING = "lt_pending"  # (z, note) to adopt at the top of the next run, before the sliders are drawn
LT_BASE_NOTE = "lt_base_note"  # where that z came from, for the caption
LT_SHOWN = "lt_shown"  # the z of the big digit as last drawn (base + sliders + class slider, truncated)
LT_MODE = "lt_mode"  # "Principal directions" or "Raw z[i]"
LT_LAYER = "lt_layer"  # the layer of G whose PCA gives the directions
LT_K = "lt_k"  # how many direction sliders
LT_PSI = "lt_psi"  # truncation: 1 = untouched (+ _generation)
LT_CLASS_DIGIT, LT_CLASS_AMOUNT = "lt_class_digit", "lt_class_amount"  # the linear class slider (+ _generation)
LT_SLIDER_PREFIX = "lt_dir_"
LT_EDIT = "lt_edit"  # the last "toward d" path: (digit, images, judge probabilities)
LT_SOURCE = "lt_source"  # inversion source: held-out digit, drawing or upload
LT_HELD_LABEL, LT_HELD_INDEX = "lt_held_label", "lt_held_index"
LT_CANVAS, LT_UPLOAD = "lt_canvas", "lt_upload"
LT_FEATURES = "lt_features"  # inversion adds the judge-feature distance
LT_INVERSION = "lt_inversion"  # the last inversion: (target, Inversion)
LT_SAVE_NAME = "lt_save_name"
LT_COMBINE = ("lt_combine_a", "lt_combine_b", "lt_combine_c")
LT_SAVE, LT_COMBINE_BUTTON = "lt_save", "lt_combine"
LT_TAKE_LAB, LT_ZERO = "lt_take_lab", "lt_zero"
LT_INVERT, LT_CANCEL_INVERT, LT_USE_INVERTED = "lt_invert", "lt_cancel_invert", "lt_use_inverted"
LT_CANCEL_EDIT = "lt_cancel_edit"
LT_DL_Z, LT_DL_SWEEP, LT_DL_GIF, LT_DL_PATH = "lt_dl_z", "lt_dl_sweep", "lt_dl_gif", "lt_dl_path"  # downloads


def lt_toward(digit: int) -> str:
    """The "→ digit" button of the digit edits."""
    return f"lt_toward_{digit}"


LT_GENERATION = "lt_generation"  # bumped to draw the sliders afresh (at their defaults) under new keys


def lt_slider(k: int, generation: int) -> str:
    return f"{LT_SLIDER_PREFIX}{generation}_{k}"


def lt_class_amount(generation: int) -> str:
    return f"{LT_CLASS_AMOUNT}_{generation}"


def lt_psi(generation: int) -> str:
    return f"{LT_PSI}_{generation}"
