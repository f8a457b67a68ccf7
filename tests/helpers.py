"""Small builders shared by the core tests (kept out of conftest so imports stay explicit)."""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from gan_core.config import GANConfig
from gan_core.data import TrainingData, idx_bytes

# Four steps per epoch at batch 20: fast, yet every code path (epochs, flushes, checkpoints) runs. Quality
# metrics are off: a judge trained beside every tiny run would compete for the cores; the tests of metrics
# turn them on (eval_every=1). fp32 whatever ``auto`` picks on this CPU: the bit-level tests (exact resume)
# run in fp32, and bf16 is tested where a test names it. A checkpoint every epoch, as the tests of writes and
# crashes expect; the autosave spacing has its own test (test_core_trainer).
TINY = dict(batch_size=20, epochs=2, log_every=2, device="cpu", eval_every=0, precision="fp32",
            checkpoint_seconds=0.0)


def tiny_config(**changes: object) -> GANConfig:
    return GANConfig(**{**TINY, **changes})


def tiny_data(n: int = 80, seed: int = 0) -> TrainingData:
    rng = np.random.default_rng(seed)
    images = torch.from_numpy(rng.random((n, 784), dtype=np.float32))
    labels = torch.from_numpy(rng.integers(0, 10, n))
    return TrainingData(images, labels, "test", f"test: {n} random images")


def write_idx(path: Path, array: np.ndarray, *, gz: bool = False) -> Path:
    """Write an unsigned-byte IDX file as MNIST ships it."""
    payload = idx_bytes(array)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(payload) if gz else payload)
    return path


def write_mnist_idx(root: Path, n: int = 60, seed: int = 0, test_n: int = 20) -> Path:
    """A tiny torchvision-layout MNIST under ``root/MNIST/raw``: ``n`` training images and ``test_n`` test
    images (the held-out split; 0 = no test files); returns ``root``."""
    rng = np.random.default_rng(seed)
    raw = root / "MNIST" / "raw"
    write_idx(raw / "train-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)))
    write_idx(raw / "train-labels-idx1-ubyte", rng.integers(0, 10, n))
    if test_n:
        write_idx(raw / "t10k-images-idx3-ubyte", rng.integers(0, 256, (test_n, 28, 28)))
        write_idx(raw / "t10k-labels-idx1-ubyte", rng.integers(0, 10, test_n))
    return root


def wait_until(predicate: Callable[[], object], timeout: float = 20.0, interval: float = 0.01) -> bool:
    """Poll ``predicate`` until it is true (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def state_tensors(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def tiny_demo(folder: Path, **changes: object) -> Path:
    """A demo run as ``tools/export_demo`` ships one, from a tiny run (random images, 2 epochs, no judge):
    ``folder/demo.safetensors`` and ``folder/demo.json``; returns ``folder``."""
    from gan_core.runs.demo import export_demo
    from gan_core.runs.folder import RunPaths
    from gan_core.train.trainer import Trainer

    trainer = Trainer(tiny_config(**changes), "demo-source", checkpoints=folder / "_source", data=tiny_data())
    trainer.start()
    trainer.join(120)
    assert trainer.snapshot().status == "finished", trainer.snapshot().error
    export_demo(RunPaths.of(folder / "_source", "demo-source").checkpoint, folder,
                command="python -m gan_core train --run demo-source --epochs 2 (tiny test run)")
    return folder
