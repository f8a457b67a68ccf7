"""The models the latent tools need, cached once per server: the judge and the referee of a dataset, its
held-out digits, principal directions per run and weights version, class directions, private generators.

``GANLAB_JUDGE_STEPS`` (default: each classifier's own) shortens the two classifiers' training for tests.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass

import numpy as np
import streamlit as st
import torch

from gan_core import GANConfig, parameter_counts
from gan_core.data import CLASS_NAMES, TrainingData, load_training_data
from gan_core.gan.model import seeded_z, with_label
from gan_core.gan.nets import make_generator
from gan_core.latent.directions import DirectionCache, layers
from gan_core.latent.starts import readable_latents
from gan_core.latent.steering import class_directions
from gan_core.quality.classifier import TRAIN_STEPS
from gan_core.quality.judge import JUDGE_DIR, Judge, load_or_train_judge
from gan_core.quality.referee import TRAIN_STEPS as REFEREE_STEPS
from gan_core.quality.referee import Referee, load_or_train_referee, splits
from gan_core.quality.shared import needs_label_free
from gan_core.quality.unlabeled import UnlabeledJudge, label_free_judge
from gan_core.runs.reader import RunReader
from gan_core.runs.snapshot import Status
from ganlab.state.labels import a_class, lab_label
from ganlab.state.resources import checkpoints_root, data_dir, one_thread

LIVE_DIRECTIONS_SECONDS = 10.0  # while a run trains, its directions are recomputed at most this often
UI_DIRECTION_SAMPLES = 10_000  # the bench measured 20,000; half keeps a recomputation under a second
UI_CLASS_SAMPLES = 5_000
UI_START_DRAWS = 2_048  # seeds looked at for a readable start before the lab settles for seed 0


def classifier_steps() -> int | None:
    """GANLAB_JUDGE_STEPS: the training steps of both classifiers, the lab's and the trainer's alike (tests
    shorten them); None, each one's own."""
    steps = os.environ.get("GANLAB_JUDGE_STEPS")
    return None if steps is None else int(steps)


def judge_steps(default: int = TRAIN_STEPS) -> int:
    """The classifiers' training steps: ``default`` (each one's own) unless GANLAB_JUDGE_STEPS says otherwise."""
    steps = classifier_steps()
    return default if steps is None else steps


@st.cache_resource(show_spinner=False)
def dataset(name: str) -> TrainingData:
    return load_training_data(name, data_dir())


def labelled(name: str) -> bool:
    """Whether dataset ``name`` has the labels the judge and the referee learn from (a folder of pictures
    without class sub-folders has none)."""
    return not needs_label_free(dataset(name))


def class_names(name: str) -> tuple[str, ...]:
    """Dataset ``name``'s classes in label order, as every label is shown: a torchvision set's own (without
    loading it), a folder's sub-folder names ("cat", "dog"); () for pictures without labels."""
    return CLASS_NAMES[name] if name in CLASS_NAMES else dataset(name).label_names


def class_label(names: tuple[str, ...], index: int) -> str:
    """Class ``index``'s name; a classifier has NUM_CLASSES outputs, so one beyond the data's classes (a
    folder of two) is named by its number."""
    return names[index] if 0 <= index < len(names) else str(index)


@st.cache_resource(show_spinner="Preparing the judge network (once per dataset)…")
def judge(name: str) -> Judge:
    # One thread (a 2-core machine with a training process is many times faster so); callers never hold
    # one_thread's lock when they call this: it is not reentrant.
    with one_thread():
        return load_or_train_judge(dataset(name), checkpoints_root() / JUDGE_DIR, name, steps=judge_steps())


@st.cache_resource(show_spinner="Preparing the referee network (once per dataset)…")
def referee(name: str) -> Referee:
    with one_thread():
        # Its own steps, as the trainer's: the offline digits' referee is then the bundled one, never retrained.
        return load_or_train_referee(dataset(name), checkpoints_root() / JUDGE_DIR, name,
                                     steps=judge_steps(REFEREE_STEPS))


@st.cache_resource(show_spinner=False)
def label_free(name: str) -> UnlabeledJudge:
    """The quality judge of data without labels (a pixel PCA, fitted in a fraction of a second)."""
    with one_thread():
        return label_free_judge(dataset(name))


def feature_net(name: str) -> torch.nn.Module:
    """The network whose ``features`` the nearest-image search uses: the judge's, or for data without labels
    the pixel PCA (``quality.unlabeled``). Shared: callers copy it before switching its mode."""
    return judge(name).net if labelled(name) else label_free(name).net()


def features_words(name: str) -> str:
    """What those features are, for a caption."""
    return "judge features" if labelled(name) else "pixel PCA features"


@dataclass(frozen=True)
class HeldOut:
    images: np.ndarray  # (n, 28, 28) real digits neither the GAN nor the judge trained on
    labels: np.ndarray


@st.cache_resource(show_spinner=False)
def held_out(name: str) -> HeldOut:
    _, _, images, labels = splits(dataset(name))
    return HeldOut(images.reshape(-1, 28, 28).numpy(), labels.numpy())


@st.cache_resource
def direction_cache() -> DirectionCache:
    return DirectionCache(min_interval=LIVE_DIRECTIONS_SECONDS, samples=UI_DIRECTION_SAMPLES)


def weights_version(reader: RunReader) -> int:
    return int(reader.snapshot().weights_version)


def private_generator(reader: RunReader) -> torch.nn.Module | None:
    """A fresh eval-mode copy of the run's generator: edits and inversion switch its gradients off and on,
    which must never touch the copy that the trainer publishes to every session. A conditional run's copy
    has the lab's label fixed (``gan.model.with_label``): the latent tools move z only, as on any run."""
    generator = reader.generator_copy()
    return None if generator is None else with_label(generator, lab_label(reader.config))


@st.cache_data(max_entries=64, show_spinner=False)
def pair_size(config: GANConfig) -> dict[str, int]:
    """G's and D's parameter counts for ``config`` (~0.1 s to build the pair: once per config)."""
    return parameter_counts(config)


@st.cache_resource(max_entries=8, show_spinner=False)
def generator_layers(config: GANConfig) -> tuple[str, ...]:
    """The layers of ``config``'s G whose activations the principal directions read (the MLP's h1..h3 and
    image, the DCGAN's h1, h2 and image)."""
    with torch.random.fork_rng(devices=[]):
        return layers(make_generator(config))


def private_judge(dataset_name: str) -> torch.nn.Module:
    """A private copy of the judge network, for the same reason."""
    return copy.deepcopy(judge(dataset_name).net).eval()


@st.cache_resource(max_entries=4, show_spinner="Finding the class directions…")
def _class_rows(name: str, version: int, dataset_name: str, _reader: RunReader) -> np.ndarray:
    generator, net = _reader.generator_copy(), judge(dataset_name).net
    with one_thread():  # never around a call that may take the lock itself (a cache miss): it is not reentrant
        return class_directions(generator, net, n=UI_CLASS_SAMPLES)


def class_rows(name: str, reader: RunReader) -> np.ndarray:
    """(10, z_dim): the mean z the judge reads as each digit minus the mean of all (per weights version)."""
    return _class_rows(name, weights_version(reader), reader.config.dataset, reader)


def judge_probabilities(dataset_name: str, image: np.ndarray) -> np.ndarray:
    net = judge(dataset_name).net  # outside no_grad: a cache miss trains the judge
    with torch.no_grad():
        return torch.softmax(net(torch.from_numpy(np.asarray(image, np.float32)).reshape(1, -1)), 1)[0].numpy()


def referee_probabilities(dataset_name: str, image: np.ndarray) -> np.ndarray:
    """The referee's (10,) probabilities of one image (the classifier that never steers an edit)."""
    return referee(dataset_name).probabilities(np.asarray(image, np.float32)[None])[0]


def readable_start(reader: RunReader, digit: int | None, index: int) -> tuple[np.ndarray, str]:
    """The ``index``-th seeded latent whose digit the referee reads (as ``digit``, or as any digit) with
    p >= 0.9 under the run's weights now, and where it came from in words; seed 0 when none is found."""
    second = referee(reader.config.dataset)  # outside one_thread: a cache miss trains the referee
    generator = private_generator(reader)
    z_dim = reader.config.z_dim
    with one_thread():
        found = readable_latents(generator, second, z_dim, digit, index + 1, max_draws=UI_START_DRAWS)
    if not len(found):
        wanted = "any digit" if digit is None else a_class(digit)
        return seeded_z(0, z_dim)[0].numpy(), (f"seed 0: none of {found.drawn:,} seeds draws {wanted} the referee "
                                                "reads with p ≥ 90% yet")
    last = len(found) - 1
    seed, digit, p = int(found.seeds[last]), int(found.digits[last]), found.referee_p[last]
    # Weights that still train move on under the z the lab keeps: the reading is then one of the past, dated.
    snap = reader.snapshot()
    when = f" at epoch {snap.epoch}" if snap.status in (Status.RUNNING, Status.PAUSED) else ""
    if reader.config.conditional:  # the digit control may ask this z for another class later: say when it was read
        return found.z[last], (f"seed {seed}, found when asked for {a_class(digit)}, which the referee read with "
                               f"p = {p:.0%}{when}")
    if when:
        return found.z[last], f"seed {seed}, {a_class(digit)} the referee read with p = {p:.0%}{when}"
    return found.z[last], f"seed {seed}, {a_class(digit)} the referee reads with p = {p:.0%}"
