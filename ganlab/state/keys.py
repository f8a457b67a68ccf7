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
# The dataset field's controls (ganlab.widgets.dataset): a named set or "my images", the folder or .zip path,
# the .zip upload, and the upload's refusal (one line) to show under them
DATASET_CHOICE, DATASET_PATH, DATASET_UPLOAD = "cfg_dataset_choice", "cfg_dataset_path", "cfg_dataset_upload"
DATASET_REFUSAL = "cfg_dataset_refusal"


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


# --- latent lab: one current z, its sliders and images ------------------------------------------------
LAB_FOLLOW = "lab_follow"  # follow the training weights
LAB_RUN = "lab_run"  # the run the lab's base z belongs to: another run starts the lab again
LAB_BASE = "lab_base"  # the base z (list of floats) the sliders move from, set by a start or a tool's result
LAB_BASE_NOTE = "lab_base_note"  # where that z came from, for the caption
LAB_PENDING = "lab_pending"  # (z, note) to adopt at the top of the next run, before the sliders are drawn
LAB_SHAPE = "_lab_shape"  # the lab's layout as last drawn (ganlab.state.refresh.redraw_when_reshaped)
LAB_SHOWN = "lab_shown"  # the z of the big digit as last drawn (base + sliders, truncated)
LAB_START = "lab_start"  # "Start from": ANY_DIGIT or a digit 0-9
LAB_LABEL = "lab_label"  # a conditional run's digit control: the label G is asked for (the same z, another class)
LAB_START_INDEX = "lab_start_index"  # which of the readable starts ("Another" moves on)
LAB_MODE = "lab_mode"  # the sliders move along principal directions, raw coordinates or class directions
LAB_LAYER = "lab_layer"  # the layer of G whose PCA gives the principal directions
LAB_K = "lab_k"  # how many sliders
LAB_DIMS = "lab_dims"  # the raw coordinates the sliders move
LAB_STRIP_SEED = "lab_strip_seed"  # the interpolation strip runs from the current z to this seed's z
LAB_ANOTHER, LAB_ZERO = "lab_another", "lab_zero"  # buttons: another readable start; sliders back to 0
LAB_GENERATION = "lab_generation"  # bumped to draw the sliders afresh (at their defaults) under new keys
LAB_SLIDER_PREFIX = "lab_dir_"
LAB_PSI = "lab_psi"  # truncation: 1 = untouched (+ _generation)
LAB_DL_Z, LAB_DL_SWEEP, LAB_DL_GIF = "lab_dl_z", "lab_dl_sweep", "lab_dl_gif"  # downloads
NN_CELL = "nn_cell"  # the fixed grid's cell whose nearest training digits are shown


def lab_slider(k: int, generation: int) -> str:
    return f"{LAB_SLIDER_PREFIX}{generation}_{k}"


def lab_psi(generation: int) -> str:
    return f"{LAB_PSI}_{generation}"


# --- timeline and runs --------------------------------------------------------------------------------
TL_EPOCH = "tl_epoch"  # the timeline's epoch slider
TL_PINNED = "tl_pinned"  # the user moved it off the newest epoch: stop following
TL_NEWEST = "_tl_newest"  # the newest epoch when the slider was last drawn
DL_GIF, DL_PNG, DL_CSV, DL_WEIGHTS = "dl_gif", "dl_png", "dl_csv", "dl_weights"  # the timeline's downloads
DL_ONNX, DL_SAFETENSORS = "dl_onnx", "dl_safetensors"  # the Runs page's exports of the picked run
BROWSER_PICK = "browser_pick"
DELETE_ASK = "delete_ask"  # run name whose Delete was clicked: confirm or cancel
BTN_OPEN, BTN_OPEN_RESUME, BTN_DELETE = "btn_open", "btn_open_resume", "btn_delete"
BTN_DELETE_CONFIRM, BTN_DELETE_CANCEL = "btn_delete_confirm", "btn_delete_cancel"

# --- sweeps: the launcher's boxes and the comparison's picks ---------------------------------------------
SWEEP_PRESETS, SWEEP_SEEDS, SWEEP_EPOCHS = "sweep_presets", "sweep_seeds", "sweep_epochs"
SWEEP_SETS, SWEEP_NAME, BTN_SWEEP = "sweep_sets", "sweep_name", "btn_sweep"
COMPARE_SWEEP, COMPARE_RUNS = "compare_sweep", "compare_runs"


# --- the lab's tools: digit edits, inversion, saved latents (ganlab/explore/) -------------------------------
LT_EDIT = "lt_edit"  # the last "toward d" edit: (digit, images, judge probabilities, Edit verdict)
LT_USE_EDIT = "lt_use_edit"  # adopt a failed edit's best attempt by hand
LT_SOURCE = "lt_source"  # inversion source: held-out digit, drawing or upload
LT_HELD_LABEL, LT_HELD_INDEX = "lt_held_label", "lt_held_index"
LT_CANVAS, LT_UPLOAD = "lt_canvas", "lt_upload"
LT_FEATURES = "lt_features"  # inversion adds the judge-feature distance
LT_INVERSION = "lt_inversion"  # the last inversion: (target, Inversion)
LT_SAVE_NAME = "lt_save_name"
LT_COMBINE = ("lt_combine_a", "lt_combine_b", "lt_combine_c")
LT_SAVE, LT_COMBINE_BUTTON = "lt_save", "lt_combine"
LT_INVERT, LT_CANCEL_INVERT, LT_USE_INVERTED = "lt_invert", "lt_cancel_invert", "lt_use_inverted"
LT_CANCEL_EDIT = "lt_cancel_edit"
LT_DL_PATH = "lt_dl_path"


def lt_toward(digit: int) -> str:
    """The "→ digit" button of the digit edits."""
    return f"lt_toward_{digit}"
