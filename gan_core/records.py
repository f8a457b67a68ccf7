"""One safe reader (and writer) for the small tagged records the library caches: judge and referee weights,
a judge's unfinished training, the neighbour index's features; the run checkpoint reads through it too.

Each record is a dict with a ``format`` tag (and where it matters a ``version`` and the ``key`` of the data
it was made for), read with ``weights_only=True``: tensors and plain data, never code. A cache file that is
missing, unreadable or made for something else reads as None, so the caller rebuilds it.
"""

from __future__ import annotations

import logging
import os
import pickle
import warnings
import zipfile
from pathlib import Path
from typing import Any

import torch

from .atomic import atomic_write

log = logging.getLogger(__name__)

# What torch.load raises under weights_only=True for a file that holds code or objects (a hostile file) ...
REFUSED = pickle.UnpicklingError
# What a refusal says, whatever torch's own (long, version-specific) text was: it is never quoted.
REFUSED_TEXT = "refused: the file holds code or objects that are not plain data, and loading it could run them"
# ... and for a damaged or truncated one.
DAMAGED = (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile, KeyError, TypeError)
UNREADABLE = (REFUSED, *DAMAGED)
# What load_state_dict raises when stored weights do not fit the network they are loaded into.
MISFIT = (RuntimeError, KeyError, ValueError, TypeError, IndexError)


def read_record(path: str | os.PathLike[str]) -> Any:
    """Whatever ``path`` holds, read on the CPU without running code; raises REFUSED or DAMAGED.

    Torch warns about a pickle protocol it did not write ("Detected pickle protocol 4 ...") before it refuses
    a plain pickle: our files are all torch.save's, so that warning only ever comes with a refusal, which
    the caller reports in one line of its own (``REFUSED_TEXT``)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Detected pickle protocol", category=UserWarning)
        return torch.load(path, map_location="cpu", weights_only=True)


def load_tagged(path: str | os.PathLike[str] | None, format: str, *, key: str | None = None,
                version: int | None = None) -> dict[str, Any] | None:
    """The record at ``path`` when it is a dict tagged ``format`` (and ``version``, ``key`` where given),
    else None; an unreadable file is logged and read as None."""
    if path is None or not Path(path).is_file():
        return None
    try:
        record = read_record(path)
    except UNREADABLE as exc:
        log.warning("ignoring unreadable %s file %s (%s)", format, path, type(exc).__name__)
        return None
    if not isinstance(record, dict) or record.get("format") != format:
        return None
    if (version is not None and record.get("version") != version) or (key is not None and record.get("key") != key):
        return None
    return record


def save_record(path: str | os.PathLike[str], record: dict[str, Any]) -> None:
    """Write ``record`` to ``path`` atomically (readers see the old file or the new one), making its folder."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda handle: torch.save(record, handle))
