"""A run's per-epoch sample grids as a timeline: ordered frames and an animated GIF, no Streamlit."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from gan_core.images import encode_gif
from gan_core.runs.folder import RunPaths


def frame_paths(paths: RunPaths) -> list[tuple[int, Path]]:
    """(epoch, png path) for every sample grid on disk, ascending by epoch."""
    return [(epoch, paths.sample(epoch)) for epoch in paths.sample_epochs()]


def _labelled(path: Path, epoch: int, scale: int) -> Image.Image:
    picture = Image.open(path).convert("L")
    if scale > 1:
        picture = picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
    # A caption band under the grid, so a paused GIF still says which epoch it shows.
    canvas = Image.new("L", (picture.width, picture.height + 14), 0)
    canvas.paste(picture, (0, 0))
    ImageDraw.Draw(canvas).text((4, picture.height + 1), f"epoch {epoch}", fill=255)
    return canvas


def timeline_gif(frames: Sequence[tuple[int, Path]], *, frame_ms: int = 300, last_frame_ms: int = 1500,
                 scale: int = 1) -> bytes:
    """An animated, looping GIF of the grids; the final epoch lingers so the end result is readable."""
    if not frames:
        raise ValueError("no sample grids to animate")
    pictures = [np.asarray(_labelled(path, epoch, scale)) for epoch, path in frames]
    return encode_gif(pictures, frame_ms=frame_ms, last_frame_ms=last_frame_ms, optimize=False)
