"""One safe reader for the small tagged records the library caches: judge and referee weights, a judge's
unfinished training. Each is a dict with a ``format`` tag (and where it matters a ``version`` and the
``key`` of the data it was made for), read with ``weights_only=True``: tensors and plain data, never code.
A file that is missing, unreadable or made for something else reads as None, so the caller rebuilds it.
"""

from __future__ import annotations

import logging
import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

log = logging.getLogger(__name__)

# What torch.load raises for a damaged, truncated or hostile file under weights_only=True.
UNREADABLE = (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile, KeyError,
              TypeError)


def load_tagged(path: Path | None, format: str, *, key: str | None = None,
                version: int | None = None) -> dict[str, Any] | None:
    """The record at ``path`` when it is a dict tagged ``format`` (and ``version``, ``key`` where given),
    else None; an unreadable file is logged and read as None."""
    if path is None or not Path(path).is_file():
        return None
    try:
        record = torch.load(path, map_location="cpu", weights_only=True)
    except UNREADABLE as exc:
        log.warning("ignoring unreadable %s file %s (%s)", format, path, type(exc).__name__)
        return None
    if not isinstance(record, dict) or record.get("format") != format:
        return None
    if (version is not None and record.get("version") != version) or (key is not None and record.get("key") != key):
        return None
    return record
