"""D's verdict: per-image probabilities in eval mode, raw scores where there is no probability."""

import numpy as np
import pytest
import torch

from gan_core.gan.nets import make_discriminator
from gan_core.gan.state import GANState
from gan_core.quality import verdict as vd

from helpers import finish, tiny_config


def test_probability_per_image_matches_d_and_ignores_batch_mates():
    config = tiny_config()
    d = make_discriminator(config)
    images = torch.rand(6, 784)
    result = vd.verdict(d, images, config)
    assert result.probability and result.pack == 1 and result.reference == 0.5
    with torch.no_grad():
        expected = torch.sigmoid(d(images)).double().numpy()
    assert np.allclose(result.values, expected)
    alone = vd.verdict(d, images[:1], config).values
    assert np.allclose(alone, result.values[:1])
    assert ((result.values >= 0) & (result.values <= 1)).all()


def test_spectral_norm_power_iteration_is_not_advanced_by_looking():
    config = tiny_config(spectral_norm=True)
    d = make_discriminator(config)
    d.train()
    buffers = {k: v.clone() for k, v in d.state_dict().items()}
    vd.verdict(d, torch.rand(4, 784), config)
    assert d.training  # the caller's mode is restored
    for key, value in d.state_dict().items():
        assert torch.equal(value, buffers[key]), key
    d(torch.rand(4, 784))  # a training-mode pass does advance it: the check above can fail
    assert any(not torch.equal(v, buffers[k]) for k, v in d.state_dict().items() if k.endswith("_u"))


def test_packed_d_gives_each_image_its_packs_raw_score():
    config = tiny_config(pack=2)
    d = make_discriminator(config)
    images = torch.rand(5, 784)  # odd: the last pack is filled up from the start
    result = vd.verdict(d, images, config)
    assert not result.probability and result.pack == 2 and "packs of 2" in result.note
    with torch.no_grad():
        logits = d(torch.cat((images, images[:1]))).double().numpy()
    assert np.allclose(result.values, np.repeat(logits, 2)[:5])


def test_histogram_bins_real_and_fake_alike():
    config = tiny_config()
    d = make_discriminator(config)
    hist = vd.real_fake_histogram(d, torch.rand(30, 784), torch.zeros(20, 784), config, bins=10)
    assert hist["edges"][0] == 0.0 and hist["edges"][-1] == 1.0 and len(hist["edges"]) == 11
    assert sum(hist["real"]) == 30 and sum(hist["fake"]) == 20
    assert hist["probability"] and hist["reference"] == 0.5
    raw = vd.real_fake_histogram(d, torch.rand(30, 784), torch.zeros(20, 784), tiny_config(pack=2), bins=10)
    assert not raw["probability"] and raw["edges"][0] < raw["edges"][-1]


def test_live_verdicts_leave_the_run_untouched():
    state = GANState.fresh(tiny_config(spectral_norm=True))
    state.train_step(torch.rand(20, 784))
    before = {k: v.clone() for k, v in state.discriminator.state_dict().items()}
    real = torch.rand(50, 784)
    rng = torch.get_rng_state()
    live = vd.live_verdicts(state, real)
    assert torch.equal(torch.get_rng_state(), rng)
    assert all(torch.equal(v, before[k]) for k, v in state.discriminator.state_dict().items())
    assert state.generator.training and state.discriminator.training
    assert len(live["grid"]["values"]) == 100
    assert sum(live["histogram"]["real"]) == sum(live["histogram"]["fake"]) == 50


@pytest.mark.parametrize("loss,reference", [("hinge", 0.0), ("lsgan", 0.5)])
def test_losses_without_probability_give_raw_scores_and_their_own_reference(loss, reference):
    config = tiny_config(loss=loss)
    d = make_discriminator(config)
    images = torch.rand(4, 784)
    result = vd.verdict(d, images, config)
    assert not result.probability and result.reference == reference and "raw score" in result.note
    with torch.no_grad():
        assert np.allclose(result.values, d(images).double().numpy())


def test_live_verdicts_without_ema_leave_g_in_training_untouched():
    state = GANState.fresh(tiny_config(ema_decay=0.0))
    state.train_step(torch.rand(20, 784))
    real = torch.rand(30, 784)
    before = {k: v.clone() for k, v in state.generator.state_dict().items()}
    rng = torch.get_rng_state()
    vd.live_verdicts(state, real)
    assert torch.equal(torch.get_rng_state(), rng) and state.generator.training
    assert all(torch.equal(v, before[k]) for k, v in state.generator.state_dict().items())


def test_a_saved_run_gives_its_grid_verdicts_and_both_generators(tmp_path):
    from gan_core.runs.folder import RunPaths
    from gan_core.runs.reader import SavedRun
    from gan_core.train.trainer import Trainer

    from helpers import tiny_data

    trainer = Trainer(tiny_config(eval_every=0), "r", checkpoints=tmp_path, data=tiny_data())
    trainer.start()
    finish(trainer)
    saved = SavedRun.open(RunPaths.of(tmp_path, "r").checkpoint)
    assert saved.verdicts()["grid"]["values"] == trainer.verdicts()["grid"]["values"]
    z = torch.rand(3, trainer.config.z_dim)
    assert np.allclose(saved.sample(z), trainer.sample(z), atol=1e-6)
    assert np.allclose(saved.sample(z, which="raw"), trainer.sample(z, which="raw"), atol=1e-6)


def test_saved_and_live_verdicts_judge_the_raw_grid_too_and_a_saved_run_its_histogram(tmp_path):
    from gan_core.runs.folder import RunPaths
    from gan_core.runs.reader import SavedRun
    from gan_core.train.trainer import Trainer

    from helpers import tiny_data

    data = tiny_data()
    trainer = Trainer(tiny_config(eval_every=0), "r", checkpoints=tmp_path, data=data)
    trainer.start()
    finish(trainer)
    live, saved = trainer.verdicts(), SavedRun.open(RunPaths.of(tmp_path, "r").checkpoint)
    assert live["grid_raw"]["values"] != live["grid"]["values"]  # the EMA generator is not G
    assert saved.verdicts()["histogram"] is None  # no real digits given
    judged = saved.verdicts(data.images)
    assert judged["grid_raw"]["values"] == live["grid_raw"]["values"] and judged["histogram_fake"] == "raw"
    assert sum(judged["histogram"]["real"]) == len(data.images) and judged["histogram"] == live["histogram"]
