"""gan_core: the seed tutorial's MLP GAN on MNIST (and a DCGAN pair, conditional or not), a resumable
background trainer and a CLI.

A pure library: no Streamlit, no I/O on import. Start with ``GANConfig`` and ``Trainer``; to use a trained
run, ``open_run("checkpoints/NAME")`` (or ``open_run("demo")``, the shipped demo) and ``run.sample(16, seed=0)``.
"""

from .config import ConfigError, GANConfig
from .data import DataError, TrainingData, load_training_data
from .gan.model import Discriminator, Generator, generate, sample_z
from .gan.nets import make_discriminator, make_generator, parameter_counts
from .runs.api import Run, open_run
from .runs.checkpoint import CheckpointError, load_checkpoint, load_generator
from .runs.folder import RunError, RunInfo, RunPaths, delete_run, list_runs
from .runs.snapshot import Snapshot, Status, TrainerView
from .train.trainer import Trainer

__all__ = [
    "CheckpointError", "ConfigError", "DataError", "Discriminator", "GANConfig", "Generator", "RunError",
    "Run", "RunInfo", "RunPaths", "Snapshot", "Status", "Trainer", "TrainerView", "TrainingData", "delete_run",
    "generate", "list_runs", "load_checkpoint", "load_generator", "load_training_data", "make_discriminator",
    "make_generator", "open_run", "parameter_counts", "sample_z",
]
