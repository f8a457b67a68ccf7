import numpy as np
import pytest
import torch

from gan_core.config import GANConfig
from gan_core.gan.model import Dropout, sample_z
from gan_core.gan.nets import build_models
from gan_core.gan.spectral import SNLinear
from gan_core.gan.state import GANState
from gan_core.runs.record import from_record, to_record

from helpers import state_tensors


def test_generator_shapes_range_and_layers():
    config = GANConfig()
    G, D = build_models(config)
    z = sample_z(7, config.z_dim)
    images = G.eval()(z)
    assert images.shape == (7, 784)
    assert images.min() >= 0 and images.max() <= 1
    widths = [m.out_features for m in G.modules() if isinstance(m, torch.nn.Linear)]
    assert widths == [256, 512, 1024, 784]
    assert [m.num_features for m in G.modules() if isinstance(m, torch.nn.BatchNorm1d)] == [256, 512, 1024]
    assert [m.keep for m in G.modules() if isinstance(m, Dropout)] == [0.5]


def test_discriminator_returns_logits_not_probabilities():
    config = GANConfig()
    _, D = build_models(config)
    widths = [m.out_features for m in D.modules() if isinstance(m, torch.nn.Linear)]
    assert widths == [1024, 512, 256, 1]
    assert not any(isinstance(m, (torch.nn.BatchNorm1d, torch.nn.Sigmoid)) for m in D.modules())
    with torch.no_grad():
        D.net[-1].bias.fill_(5.0)  # a logit beyond (0, 1) proves there is no sigmoid at the end
        out = D(torch.rand(3, 28, 28))
    assert out.shape == (3,)
    assert (out > 1).all()


def test_init_is_truncated_normal_with_seed_std():
    torch.manual_seed(0)
    G, D = build_models(GANConfig())
    for module in (G, D):
        for m in module.modules():
            if isinstance(m, torch.nn.Linear):
                assert m.weight.abs().max() <= 0.04 + 1e-6  # cut at two standard deviations
                assert 0.013 < m.weight.std() < 0.02
                assert m.bias.abs().max() <= 0.04 + 1e-6
            if isinstance(m, torch.nn.BatchNorm1d):
                assert torch.equal(m.weight, torch.ones_like(m.weight))
                assert torch.equal(m.bias, torch.zeros_like(m.bias))


def test_latent_prior_is_uniform_minus_one_to_one():
    z = sample_z(20000, 100)
    assert z.min() >= -1 and z.max() <= 1
    assert abs(float(z.mean())) < 0.01
    assert abs(float(z.var()) - 1 / 3) < 0.01


def test_eval_mode_generator_is_deterministic_and_batch_independent():
    G, _ = build_models(GANConfig())
    G.eval()
    z = sample_z(10, 100)
    with torch.no_grad():
        alone, in_batch = G(z[:1]), G(z)[:1]
        assert torch.equal(G(z), G(z))
        # Running statistics, not batch statistics: an image does not depend on its batch-mates
        # (up to the rounding of a differently blocked matmul)...
        torch.testing.assert_close(alone, in_batch, rtol=0, atol=1e-6)
        # ...whereas in train mode (batch statistics) it does.
        G.train()
        assert not torch.allclose(G(z)[:2], G(z[:2]), atol=1e-3)


def test_d_step_changes_only_d_and_g_step_changes_only_g():
    state = GANState.fresh(GANConfig(batch_size=16, device="cpu"))
    real = torch.rand(16, 784)
    g0, d0 = state_tensors(state.generator), state_tensors(state.discriminator)
    state.d_step(real)
    g1, d1 = state_tensors(state.generator), state_tensors(state.discriminator)
    assert all(not torch.equal(d0[k], d1[k]) for k in d0)  # every D tensor moved
    assert all(torch.equal(g0[k], g1[k]) for k in g0 if "running" not in k and "num_batches" not in k)

    state.g_step(16)
    g2, d2 = state_tensors(state.generator), state_tensors(state.discriminator)
    assert all(torch.equal(d1[k], d2[k]) for k in d1)
    changed = [k for k in g1 if k.endswith("weight") and not torch.equal(g1[k], g2[k])]
    assert len(changed) == len([k for k in g1 if k.endswith("weight")])
    assert all(p.requires_grad for p in state.discriminator.parameters())  # D is unfrozen afterwards


def test_train_step_returns_finite_stats_with_bce_with_logits():
    state = GANState.fresh(GANConfig(batch_size=16, device="cpu"))
    stats = state.train_step(torch.rand(16, 784))
    d_loss, g_loss, d_real, d_fake, d_grad_norm, g_grad_norm = stats.tolist()
    assert d_grad_norm > 0 and g_grad_norm > 0  # both nets moved
    # At init D outputs logits near 0, so each BCE term is about log 2 (the seed's double sigmoid
    # would give about 0.97 per term instead).
    assert d_loss == pytest.approx(2 * 0.6931, abs=0.05)
    assert g_loss == pytest.approx(0.6931, abs=0.05)
    assert 0.45 < d_real < 0.55 and 0.45 < d_fake < 0.55


def test_spectral_norm_bounds_every_d_weight_and_keeps_the_seed_init():
    torch.manual_seed(0)
    _, D = build_models(GANConfig(spectral_norm=True))
    linears = [m for m in D.modules() if isinstance(m, SNLinear)]
    assert len(linears) == 4
    for m in linears:
        original = m.parametrizations.weight.original
        assert original.abs().max() <= 0.04 + 1e-6  # the truncated-normal init went to the stored weight
    with torch.no_grad():
        for _ in range(30):  # every forward runs one power iteration in each layer
            D(torch.rand(4, 784))
    for m in linears:
        assert torch.linalg.matrix_norm(m.weight.detach(), ord=2) == pytest.approx(1.0, abs=0.05)


def test_step_history_views_stay_fixed_while_it_grows():
    from gan_core.gan.history import HISTORY, StepHistory

    width = len(HISTORY)
    history = StepHistory()
    history.append(np.ones((3, width), np.float32))
    early = history.array()
    for i in range(600):  # past the first buffer, so it reallocates
        history.append(np.full((2, width), i, np.float32))
    assert len(history) == 1203 and history.array()[-1, 0] == 599
    assert early.shape == (3, width) and (early == 1).all()
    with pytest.raises(ValueError):
        early[0, 0] = 5  # readers cannot change what the trainer published


def test_bf16_autocast_trains_in_bf16_and_keeps_fp32_weights():
    fp32 = GANState.fresh(GANConfig(batch_size=32, device="cpu", seed=3))
    bf16 = GANState.fresh(GANConfig(batch_size=32, device="cpu", seed=3, precision="bf16"))
    real = torch.rand(32, 784)
    seen = []
    hook = bf16.discriminator.net[0].register_forward_hook(lambda m, i, o: seen.append(o.dtype))
    before = state_tensors(bf16.generator)
    stats = bf16.train_step(real)
    hook.remove()
    assert seen and all(dtype == torch.bfloat16 for dtype in seen)  # the matmuls ran in bf16
    assert stats.dtype == torch.float32 and torch.isfinite(stats).all()
    assert all(p.dtype == torch.float32 for p in bf16.generator.parameters())  # master weights stay fp32
    assert any(not torch.equal(before[k], v) for k, v in state_tensors(bf16.generator).items())
    # Same seed, same batch: close to the fp32 step, but not bit-identical (which is why it is opt-in).
    reference = fp32.train_step(real)
    assert torch.allclose(stats, reference, rtol=0.05, atol=0.05) and not torch.equal(stats, reference)


def test_compile_option_runs_the_same_step_through_torch_compile(monkeypatch):
    # Inductor draws dropout masks its own way unless told to fall back to eager's RNG; with the
    # fallback the compiled step must compute what the eager one does, so this checks the maths too.
    monkeypatch.setattr(torch._inductor.config, "fallback_random", True)
    # Scalar C++ kernels: the same inductor code path, and 20 of this test's 55 CPU-s on a cold cache (the
    # vectorised headers are what its ~30 kernel compiles spend their time parsing).
    monkeypatch.setattr(torch._inductor.config.cpp, "vec_isa_ok", False)
    torch._dynamo.reset()
    eager = GANState.fresh(GANConfig(batch_size=32, device="cpu", seed=4, precision="fp32"))
    compiled = GANState.fresh(GANConfig(batch_size=32, device="cpu", seed=4, compile=True, precision="fp32"))
    assert compiled.g_pass is not compiled.generator and eager.g_pass is eager.generator
    real = torch.rand(32, 784)
    torch.manual_seed(9)
    reference = [eager.train_step(real) for _ in range(2)]
    torch.manual_seed(9)
    stats = [compiled.train_step(real) for _ in range(2)]
    assert torch._dynamo.utils.counters["stats"]["unique_graphs"] >= 2  # G and D really were compiled
    for got, want in zip(stats, reference, strict=True):
        assert torch.allclose(got, want, rtol=1e-4, atol=1e-5)
    for name, value in state_tensors(compiled.generator).items():
        assert torch.allclose(value, state_tensors(eager.generator)[name], rtol=1e-4, atol=1e-6), name
    # The checkpoint holds the plain modules' weights, so it loads into an eager run and back.
    record = to_record(compiled)
    assert set(record["generator"]) == set(to_record(eager)["generator"])
    record["config"] = GANConfig.from_dict(record["config"])  # as gan_core.checkpoint.load_checkpoint does
    resumed = from_record(record, "mem.pt")
    assert resumed.config.compile and resumed.d_pass is not resumed.discriminator


def test_sn_linear_is_torchs_spectral_norm_without_the_weight_sized_division():
    """Same init draws, same state-dict keys, same outputs, gradients and power iterations (to rounding)."""
    from torch.nn.utils import parametrizations

    torch.manual_seed(3)
    ours = SNLinear(torch.nn.Linear(50, 30))
    torch.manual_seed(3)
    theirs = parametrizations.spectral_norm(torch.nn.Linear(50, 30))
    assert ours.state_dict().keys() == theirs.state_dict().keys()
    for key, value in theirs.state_dict().items():
        assert torch.equal(value, ours.state_dict()[key]), key
    x = torch.randn(8, 50)
    for _ in range(3):  # training forwards: one power iteration each, then backward
        for module in (ours, theirs):
            module.zero_grad()
            module(x).square().sum().backward()
        torch.testing.assert_close(ours(x), theirs(x))  # (each call iterates once more, both alike)
        for (name, a), b in zip(ours.named_parameters(), theirs.parameters(), strict=True):
            torch.testing.assert_close(a.grad, b.grad, msg=name)
    ours.eval()
    theirs.eval()
    torch.testing.assert_close(ours.weight, theirs.weight)
    before = ours.state_dict()["parametrizations.weight.0._u"].clone()
    torch.testing.assert_close(ours(x), theirs(x))
    assert torch.equal(before, ours.state_dict()["parametrizations.weight.0._u"])  # eval: no iteration
    theirs.load_state_dict(ours.state_dict())  # checkpoints of either kind load into the other


def test_auto_precision_is_resolved_and_stored_and_old_bf16_configs_still_load(monkeypatch):
    from gan_core.gan import precision

    monkeypatch.setattr(precision, "cpu_flags", lambda: {"avx2"})
    assert precision.resolve_precision("auto", "cpu")[0] == "fp32"
    state = GANState.fresh(GANConfig(device="cpu"))
    assert state.config.precision == "fp32"  # the run stores what auto chose, and keeps it when continued
    monkeypatch.setattr(precision, "cpu_flags", lambda: {"avx2", "avx512_bf16"})
    assert precision.resolve_precision("auto", "cpu")[0] == "bf16"  # native, and its quality was checked
    assert GANState.fresh(GANConfig(device="cpu")).config.precision == "bf16"
    monkeypatch.setattr(precision, "BF16_QUALITY_CHECKED", frozenset())
    chosen, why = precision.resolve_precision("auto", "cpu")
    assert chosen == "fp32" and "not checked" in why  # native, but no quality check recorded
    assert precision.resolve_precision("fp32", "cpu")[0] == "fp32"
    stored = {**GANConfig().to_dict(), "bf16": True}
    del stored["precision"]
    assert GANConfig.from_dict(stored).precision == "bf16"
    assert GANConfig.from_dict({"bf16": False}).precision == "fp32"


def test_dropout_keeps_its_share_scales_by_one_over_keep_and_is_the_identity_in_eval():
    torch.manual_seed(0)
    x = torch.ones(200, 1000)
    for keep in (0.5, 0.8):
        drop = Dropout(keep)
        y = drop(x)
        assert torch.unique(y).tolist() == pytest.approx([0.0, 1.0 / keep])
        assert (y > 0).float().mean().item() == pytest.approx(keep, abs=0.005)
        x.requires_grad_(True)
        drop(x).sum().backward()  # the gradient passes through kept units only, scaled alike
        assert torch.unique(x.grad).tolist() == pytest.approx([0.0, 1.0 / keep])
        x = x.detach()
        assert torch.equal(drop.eval()(x), x)
