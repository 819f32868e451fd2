import json

import pytest
import torch
import torch.nn as nn
from torch.utils.data import TensorDataset

from course_lib import baselines, cache, config, data


def test_settings_per_profile():
    quick, full = baselines.settings("quick"), baselines.settings("full")
    assert quick["shape"] == (1, 32, 32) and full["shape"] == (3, 32, 32)
    assert quick["width"] == 0.125 and full["width"] == 1.0
    with pytest.raises(ValueError, match="profile"):
        baselines.settings("medium")


def test_the_untrained_network_depends_only_on_its_seed():
    torch.manual_seed(123)
    a = baselines.make_course_vgg("quick")
    state = torch.random.get_rng_state()
    torch.rand(7)  # whatever ran before does not change it
    b = baselines.make_course_vgg("quick")
    c = baselines.make_course_vgg("quick", seed=1)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    assert not torch.equal(a.features[0].weight, c.features[0].weight)
    torch.manual_seed(123)
    baselines.make_course_vgg("quick")
    assert torch.equal(torch.random.get_rng_state(), state), "the caller's random state must be left alone"
    assert [m.out_channels for m in a.features if isinstance(m, nn.Conv2d)][:3] == [8, 8, 16]
    assert a(torch.zeros(2, 1, 32, 32)).shape == (2, 10)


def test_the_recipe_is_a_cache_key_and_names_the_schedule():
    recipe = baselines.recipe("quick")
    json.dumps(recipe)
    assert recipe["schedule"] == baselines.SETTINGS["quick"]["schedule"]
    assert cache.key(recipe) != cache.key(baselines.recipe("full"))


def test_run_phases_trains_and_reports_one_accuracy_per_epoch():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(64, 1, 32, 32, generator=gen)
    y = torch.randint(0, 10, (64,), generator=gen)
    ds = TensorDataset(x, y)
    loaders = data.loaders({"train": ds, "val": ds}, batch_size=32)
    model = baselines.make_course_vgg("quick")
    before = model.features[0].weight.detach().clone()
    curve = baselines.run_phases(model, loaders, [("adam", 1e-3, 2), ("adam", 1e-4, 1)])
    assert len(curve) == 3 and all(0 <= v <= 1 for v in curve)
    assert not torch.equal(before, model.features[0].weight.to(before.device))
    for bad in ([], [("adam", 1e-3)], ("adam", 1e-3, 2)):
        with pytest.raises(ValueError, match="phases"):
            baselines.run_phases(model, loaders, bad)


def test_run_phases_passes_the_training_hooks_to_every_phase():
    gen = torch.Generator().manual_seed(0)
    ds = TensorDataset(torch.randn(32, 1, 32, 32, generator=gen), torch.randint(0, 10, (32,), generator=gen))
    loaders = data.loaders({"train": ds, "val": ds}, batch_size=16)
    model = baselines.make_course_vgg("quick")
    before = [p.detach().clone() for p in model.parameters()]
    calls = []
    baselines.run_phases(model, loaders, [("sgd", 1e-2, 1), ("adam", 1e-3, 1)],
                         loss=lambda m, logits, x, y: 0 * logits.sum(), before_step=lambda m: calls.append(1))
    assert len(calls) == 4  # two batches in each of the two phases
    assert all(torch.equal(p, q.to(p.device)) for p, q in zip(before, model.parameters()))


def test_course_vgg_is_trained_once_then_loaded(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "CACHE_DIR", tmp_path)
    monkeypatch.delenv("COURSE_CACHE", raising=False)
    monkeypatch.setitem(baselines.SETTINGS, "quick", {**baselines.SETTINGS["quick"], "schedule": [("adam", 1e-3, 1)]})
    gen = torch.Generator().manual_seed(0)
    ds = TensorDataset(torch.randn(32, 1, 32, 32, generator=gen), torch.randint(0, 10, (32,), generator=gen))
    loaders = data.loaders({"train": ds, "val": ds}, batch_size=16)
    first, curve = baselines.course_vgg(loaders, "quick")
    second, again = baselines.course_vgg(loaders, "quick")
    assert curve == again and len(curve) == 1
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values()))
    assert len(list(tmp_path.glob("course_vgg16-*.pt"))) == 1


def test_report_prints_and_returns_the_baselines_accuracies(capsys):
    gen = torch.Generator().manual_seed(1)
    ds = TensorDataset(torch.randn(20, 1, 32, 32, generator=gen), torch.randint(0, 10, (20,), generator=gen))
    loaders = data.loaders({"train": ds, "val": ds, "test": ds}, batch_size=8)
    model = baselines.make_course_vgg("quick")
    val, hits = baselines.report(model, loaders, [0.5, 0.6])
    assert hits.dtype == torch.bool and hits.shape == (20,) and val == float(hits.float().mean())
    out = capsys.readouterr().out
    assert "[0.5, 0.6]" in out and "on 20 test images" in out
    with pytest.raises(TypeError, match="'val' and 'test'"):
        baselines.report(model, {"val": loaders["val"]}, [])
