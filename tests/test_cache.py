import pytest
import torch
import torch.nn as nn

from course_lib import cache, config


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "CACHE_DIR", tmp_path)
    monkeypatch.delenv("COURSE_CACHE", raising=False)
    return tmp_path


class Trainer:
    """A stand-in for training: moves the weights and counts its calls."""

    def __init__(self):
        self.calls = 0

    def __call__(self, model):
        self.calls += 1
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p))
        return [{"epoch": 1, "val_acc": 0.5}]


def build():
    return nn.Linear(3, 2)


def test_trains_once_then_loads_the_same_weights(cache_dir):
    fit = Trainer()
    first, history = cache.trained("net", {"lr": 0.1}, build, fit)
    second, again = cache.trained("net", {"lr": 0.1}, build, fit)
    assert fit.calls == 1 and history == again == [{"epoch": 1, "val_acc": 0.5}]
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values()))
    assert len(list(cache_dir.glob("net-*.pt"))) == 1


def test_recipe_and_environment_change_the_key(cache_dir, monkeypatch):
    fit = Trainer()
    cache.trained("net", {"lr": 0.1}, build, fit)
    cache.trained("net", {"lr": 0.2}, build, fit)
    assert fit.calls == 2
    base = cache.key({"lr": 0.1})
    monkeypatch.setenv("COURSE_SEED", "1")
    assert cache.key({"lr": 0.1}) != base
    monkeypatch.delenv("COURSE_SEED")
    monkeypatch.setenv("ATEN_CPU_CAPABILITY", "default")
    assert cache.key({"lr": 0.1}) != base
    monkeypatch.delenv("ATEN_CPU_CAPABILITY")
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(before + 1)
        assert cache.key({"lr": 0.1}) != base
    finally:
        torch.set_num_threads(before)
    assert cache.key({"lr": 0.1}) == base


def test_switched_off_trains_and_writes_nothing(cache_dir, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE", "0")
    fit = Trainer()
    cache.trained("net", {}, build, fit)
    cache.trained("net", {}, build, fit)
    assert fit.calls == 2 and not list(cache_dir.iterdir())


def test_unreadable_file_is_reported_and_rebuilt(cache_dir, capsys):
    fit = Trainer()
    cache.trained("net", {}, build, fit)
    (path,) = cache_dir.glob("net-*.pt")
    path.write_bytes(b"garbage")
    model, _ = cache.trained("net", {}, build, fit)
    assert fit.calls == 2 and "cannot be used" in capsys.readouterr().out
    loaded, _ = cache.trained("net", {}, build, fit)  # rebuilt and readable again
    assert fit.calls == 2 and torch.equal(loaded.weight, model.weight)


def test_a_model_the_recipe_does_not_describe_is_refused(cache_dir):
    fit = Trainer()
    cache.trained("net", {"lr": 0.1}, build, fit)
    (path,) = cache_dir.glob("net-*.pt")
    stored = path.read_bytes()
    with pytest.raises(ValueError, match="recipe must say what makes the model differ"):
        cache.trained("net", {"lr": 0.1}, lambda: nn.Linear(4, 2), fit)
    assert fit.calls == 1 and path.read_bytes() == stored  # the other caller's entry is kept


def test_bad_arguments(cache_dir):
    with pytest.raises(ValueError, match="name"):
        cache.trained("../x", {}, build, Trainer())
    with pytest.raises(TypeError, match="recipe must be a dict"):
        cache.trained("net", [1], build, Trainer())
    with pytest.raises(TypeError, match="JSON"):
        cache.key({"f": build})
    with pytest.raises(TypeError, match="callables"):
        cache.trained("net", {}, build, None)
