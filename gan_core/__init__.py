"""gan_core: the seed tutorial's MLP GAN on MNIST, a resumable background trainer and a CLI.

A pure library: no Streamlit, no I/O on import. Start with ``GANConfig`` and ``Trainer``.
"""

from .checkpoint import CheckpointError, load_checkpoint, load_generator
from .config import ConfigError, GANConfig
from .data import DataError, TrainingData, load_training_data
from .model import Discriminator, Generator, sample_z
from .runs import RunError, RunInfo, RunPaths, delete_run, list_runs
from .trainer import Trainer
from .view import Snapshot, Status, TrainerView

__all__ = [
    "CheckpointError", "ConfigError", "DataError", "Discriminator", "GANConfig", "Generator", "RunError",
    "RunInfo", "RunPaths", "Snapshot", "Status", "Trainer", "TrainerView", "TrainingData", "delete_run",
    "list_runs", "load_checkpoint", "load_generator", "load_training_data", "sample_z",
]
