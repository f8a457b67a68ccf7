"""The dataset control of the sidebar: a named dataset, or the user's own pictures (``folder:PATH``) given
as a folder path or an uploaded .zip.

The config field ``dataset`` stays the one value the run is built from (``keys.field("dataset")``); the
three widgets here only write it, through their callbacks, and follow it when it changes elsewhere (a run
opened from the Runs page copies its config in). An upload is checked before it is kept
(``gan_core.data.archive.keep_upload``: every limit read from the archive's directory, nothing written
when it is refused), then kept under the data folder and named by its content hash.
"""

from __future__ import annotations

import streamlit as st

from gan_core.config import FOLDER_PREFIX, FieldSpec
from gan_core.data import DataError
from gan_core.data.archive import IMAGE_SUFFIXES, MAX_IMAGES, MAX_ZIP_BYTES, keep_upload
from ganlab.state import keys
from ganlab.state.resources import data_dir

OWN = "my images (folder or .zip)"


def follow_field(spec: FieldSpec) -> None:
    """Set the choice and path widgets from the field before they are drawn (a value set elsewhere)."""
    value = st.session_state.get(keys.field(spec.name), spec.default)
    if value in spec.choices:
        st.session_state[keys.DATASET_CHOICE] = value
    elif spec.opens(value) or value == FOLDER_PREFIX:
        st.session_state[keys.DATASET_CHOICE] = OWN
        st.session_state[keys.DATASET_PATH] = value.removeprefix(FOLDER_PREFIX)


def on_choice() -> None:
    choice = st.session_state[keys.DATASET_CHOICE]
    path = st.session_state.get(keys.DATASET_PATH, "")
    st.session_state[keys.field("dataset")] = FOLDER_PREFIX + path.strip() if choice == OWN else choice


def on_path() -> None:
    st.session_state[keys.field("dataset")] = FOLDER_PREFIX + st.session_state[keys.DATASET_PATH].strip()


def on_upload() -> None:
    """Check and keep the uploaded .zip, then point the dataset at it; a refusal is kept to show, in one line."""
    upload = st.session_state.get(keys.DATASET_UPLOAD)
    st.session_state[keys.DATASET_REFUSAL] = None
    if upload is None:
        return
    try:
        path = keep_upload(upload.getvalue(), upload.name, data_dir())
    except DataError as exc:
        st.session_state[keys.DATASET_REFUSAL] = f"{upload.name} refused: {exc}"
        return
    st.session_state[keys.DATASET_PATH] = str(path)
    on_path()


def dataset_control(spec: FieldSpec, help_text: str) -> None:
    """The dataset's widgets; the field's validation message goes in the slot the caller leaves under them."""
    follow_field(spec)
    st.selectbox(spec.label, [*spec.choices, OWN], key=keys.DATASET_CHOICE, on_change=on_choice, help=help_text)
    if st.session_state.get(keys.DATASET_CHOICE) != OWN:
        return
    st.text_input("Folder or .zip path", key=keys.DATASET_PATH, on_change=on_path,
                  help=f"{', '.join(s.lstrip('.').upper() for s in IMAGE_SUFFIXES)} files of any size, made "
                       f"28x28 grey like MNIST; labels from sub-folder names, if every picture is in one; "
                       f"at most {MAX_IMAGES:,} pictures")
    st.file_uploader("…or upload a .zip", type=["zip"], key=keys.DATASET_UPLOAD, on_change=on_upload,
                     help=f"at most {MAX_ZIP_BYTES // 2**20} MB; kept under the data folder, named by its content")
    refusal = st.session_state.get(keys.DATASET_REFUSAL)
    if refusal:
        st.error(refusal, icon="⚠️")
