"""gan_core: the seed tutorial's MLP GAN on MNIST, a resumable background trainer and a CLI.

A pure library: no Streamlit, no I/O on import. Start with ``GANConfig`` and ``Trainer``.
"""

from .config import ConfigError, GANConfig
from .data import DataError, TrainingData, load_training_data
from .gan.model import Discriminator, Generator, sample_z
from .runs.checkpoint import CheckpointError, load_checkpoint, load_generator
from .runs.folder import RunError, RunInfo, RunPaths, delete_run, list_runs
from .runs.snapshot import Snapshot, Status, TrainerView
from .train.trainer import Trainer

__all__ = [
    "CheckpointError", "ConfigError", "DataError", "Discriminator", "GANConfig", "Generator", "RunError",
    "RunInfo", "RunPaths", "Snapshot", "Status", "Trainer", "TrainerView", "TrainingData", "delete_run",
    "list_runs", "load_checkpoint", "load_generator", "load_training_data", "sample_z",
]
