"""Named latents saved in a run's folder, and latent arithmetic on them.

    checkpoints/<run>/latents/<name>.npy    float32 (1, z_dim), plain .npy (read without pickle)
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np

from ..atomic import atomic_write_bytes
from ..runs.folder import RunPaths
from .sampling import Z_HIGH, Z_LOW

LATENTS_FOLDER = "latents"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,47}$")


class LatentStoreError(ValueError):
    """A name is invalid, a saved latent is missing or damaged, or shapes do not fit; for a person."""


def latents_folder(paths: RunPaths) -> Path:
    return paths.folder / LATENTS_FOLDER


def validate_latent_name(name: str) -> str:
    if not NAME_PATTERN.match(name or ""):
        raise LatentStoreError(f"latent name {name!r}: use 1-48 letters, digits, '-' or '_', starting with a "
                               "letter or digit")
    return name


def npy_bytes(z: np.ndarray) -> bytes:
    """A latent as a float32 (1, z_dim) .npy file's contents (for saving and for downloads)."""
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(z, dtype=np.float32).reshape(1, -1), allow_pickle=False)
    return buffer.getvalue()


def read_latent(data: bytes, z_dim: int | None = None) -> np.ndarray:
    """float32 (n, z_dim) from .npy bytes; refuses pickles, wrong shapes and values off the prior's box."""
    try:
        z = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise LatentStoreError(f"not a .npy array of latents ({exc})") from exc
    if z.ndim == 1:
        z = z[None]
    if z.ndim != 2 or not np.issubdtype(z.dtype, np.floating) or not len(z):
        raise LatentStoreError(f"latents must be a float array (n, z_dim), got {z.dtype} {z.shape}")
    if z_dim is not None and z.shape[1] != z_dim:
        raise LatentStoreError(f"latents have {z.shape[1]} dimensions, the generator takes {z_dim}")
    if not np.isfinite(z).all() or z.min() < Z_LOW - 1e-6 or z.max() > Z_HIGH + 1e-6:
        raise LatentStoreError(f"latents must lie in the prior's box [{Z_LOW:g}, {Z_HIGH:g}]")
    return z.astype(np.float32)


def save_latent(paths: RunPaths, name: str, z: np.ndarray) -> Path:
    path = latents_folder(paths) / f"{validate_latent_name(name)}.npy"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, npy_bytes(z))
    return path


def list_latents(paths: RunPaths) -> list[str]:
    """Names of the run's saved latents, sorted."""
    folder = latents_folder(paths)
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.npy") if NAME_PATTERN.match(p.stem))


def load_latent(paths: RunPaths, name: str, z_dim: int | None = None) -> np.ndarray:
    """float32 (1, z_dim)."""
    path = latents_folder(paths) / f"{validate_latent_name(name)}.npy"
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise LatentStoreError(f"no saved latent named {name!r} in run '{paths.name}'") from exc
    return read_latent(data, z_dim)[:1]


def combine(a: np.ndarray, b: np.ndarray | None = None, c: np.ndarray | None = None) -> np.ndarray:
    """a - b + c (any of b, c may be None), clipped to the prior's box; float32 (1, z_dim)."""
    result = np.asarray(a, dtype=np.float32).reshape(1, -1).copy()
    for term, sign in ((b, -1.0), (c, 1.0)):
        if term is not None:
            term = np.asarray(term, dtype=np.float32).reshape(1, -1)
            if term.shape != result.shape:
                raise LatentStoreError(f"cannot combine latents of shapes {result.shape} and {term.shape}")
            result += sign * term
    return np.clip(result, Z_LOW, Z_HIGH)
