"""Crash-safe file replacement: readers see the old file or the new one, never half of one."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

TEMP_SUFFIX = ".tmp"


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], None]) -> None:
    """Call ``write`` on a temp file in the same folder, fsync it, then ``os.replace`` it onto ``path``.

    The temp file lives beside the target so the rename never crosses file systems; on any error it
    is removed and the previous ``path`` (if any) is left untouched.
    """
    target = Path(path)
    temp = target.with_name(f".{target.name}.{os.getpid()}{TEMP_SUFFIX}")
    try:
        with open(temp, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    atomic_write(path, lambda handle: handle.write(data))


def remove_stale_temps(folder: str | os.PathLike[str]) -> int:
    """Delete temp files a killed writer left behind; returns how many went."""
    removed = 0
    for temp in Path(folder).glob(f".*{TEMP_SUFFIX}"):
        temp.unlink(missing_ok=True)
        removed += 1
    return removed


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; not every platform lets a folder be opened.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
