"""The fast development run (COURSE_FAST_DEV_RUN=1): the same code, shorter loops; and the
miniature datasets of tests/miniature.py loading through the full profile's real loaders."""
import subprocess
import sys

import pytest
import torch
import torch.nn as nn

import miniature
from course_lib import config, data, measure, train
from course_lib.pruning import latency_table, oracle_loss_change, recalibrate_bn


def batches(n, size=10):
    return [(torch.randn(size, 1, 8, 8), torch.arange(size) % 3) for _ in range(n)]


def net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 5, 3, padding=1), nn.BatchNorm2d(5), nn.ReLU(), nn.Flatten(), nn.Linear(320, 3))


def test_off_by_default_and_read_from_the_environment(monkeypatch):
    monkeypatch.delenv("COURSE_FAST_DEV_RUN", raising=False)
    assert not config.fast_dev_run()
    for value, on in (("1", True), ("yes", True), ("0", False), ("off", False)):
        monkeypatch.setenv("COURSE_FAST_DEV_RUN", value)
        assert config.fast_dev_run() is on


def test_limit_passes_everything_through_when_off(monkeypatch):
    monkeypatch.delenv("COURSE_FAST_DEV_RUN", raising=False)
    loader = batches(5)
    assert config.limit(loader) is loader


def test_limit_cuts_the_batches_and_their_size(monkeypatch):
    monkeypatch.setenv("COURSE_FAST_DEV_RUN", "1")
    loader = batches(5)
    cut = list(config.limit(loader))
    assert len(cut) == config.FAST_DEV_BATCHES
    for (x, y), (x0, y0) in zip(cut, loader):
        assert torch.equal(x, x0[:config.FAST_DEV_BATCH_SIZE]) and torch.equal(y, y0[:config.FAST_DEV_BATCH_SIZE])


def test_training_evaluation_and_recalibration_read_two_small_batches(monkeypatch):
    monkeypatch.setenv("COURSE_FAST_DEV_RUN", "1")
    seen = []
    loader = [(x, y) for x, y in batches(6)]

    class Counting(list):
        def __iter__(self):
            for batch in list.__iter__(self):
                seen.append(len(batch[0]))
                yield batch

    history = train.fit(net(), Counting(loader), Counting(loader), epochs=5)
    assert len(history) == 1  # one epoch
    assert train.evaluate(net(), Counting(loader))["correct"].numel() == 2 * config.FAST_DEV_BATCH_SIZE
    recalibrate_bn(net(), Counting(loader))
    assert len(seen) <= 4 * config.FAST_DEV_BATCHES  # no loader read past its second batch


def test_oracle_visits_a_few_units_and_they_equal_the_full_run(monkeypatch):
    model, loader = net(), batches(2, size=4)
    monkeypatch.delenv("COURSE_FAST_DEV_RUN", raising=False)
    full = oracle_loss_change(model, ["0"], loader)["0"]
    monkeypatch.setenv("COURSE_FAST_DEV_RUN", "1")
    fast = oracle_loss_change(model, ["0"], loader)["0"]
    k = config.FAST_DEV_UNITS
    assert fast.shape == full.shape and torch.allclose(fast[:k], full[:k]) and not fast[k:].any()


def test_latency_is_timed_once_on_a_small_batch(monkeypatch):
    monkeypatch.setenv("COURSE_FAST_DEV_RUN", "1")
    result = measure.latency(net(), (1, 8, 8), batch_size=64, repeats=50)
    assert result["batch_size"] == config.FAST_DEV_BATCH_SIZE
    assert result["median_ms"] == result["q1_ms"] == result["q3_ms"]  # one timed call
    assert latency_table({"a": net()}, (1, 8, 8), batch_sizes=(1,)).shape == (1, 1)


def test_data_dir_follows_the_environment(tmp_path):
    code = "from course_lib import config; print(config.DATA_DIR, config.CACHE_DIR)"
    out = subprocess.run([sys.executable, "-c", code], env={"COURSE_DATA_DIR": str(tmp_path), "PATH": ""},
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == [str(tmp_path), str(tmp_path / "cache")]


@pytest.fixture
def full_profile(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_PROFILE", "full")
    monkeypatch.setattr(config, "DATA_DIR", tmp_path)
    return tmp_path


def test_miniature_mnist_loads_through_torchvision(full_profile):
    miniature.mnist(full_profile / "mnist")
    loaders = data.mnist_loaders(batch_size=16)
    assert {k: len(v.dataset) for k, v in loaders.items()} == {
        "train": miniature.TRAIN - 5000, "val": 5000, "test": miniature.TEST}
    x, y = next(iter(loaders["test"]))
    assert x.shape == (16, 1, 28, 28) and y.dtype == torch.int64


def test_miniature_cifar10_loads_only_with_its_checksums(full_profile, monkeypatch):
    md5 = miniature.cifar10(full_profile / "cifar10")
    import torchvision.datasets as tvd

    with pytest.raises(data.MissingDataError, match="CIFAR-10"):  # torchvision's own md5 check refuses it
        data.cifar10_loaders(batch_size=16)
    for name in ("train_list", "test_list", "meta"):
        monkeypatch.setattr(tvd.CIFAR10, name, getattr(tvd.CIFAR10, name))  # restored after the test
    exec(miniature.cifar10_md5_patch(md5), {})
    loaders = data.cifar10_loaders(batch_size=16)
    assert {k: len(v.dataset) for k, v in loaders.items()} == {
        "train": miniature.TRAIN - 5000, "val": 5000, "test": miniature.TEST}
    assert next(iter(loaders["test"]))[0].shape == (16, 3, 32, 32)


def test_miniature_oxford_pets_give_the_default_cats_vs_dogs_splits(full_profile):
    miniature.oxford_pets(full_profile / "oxford-iiit-pet")
    loaders = data.cats_vs_dogs_loaders(batch_size=8)
    assert {k: len(v.dataset) for k, v in loaders.items()} == {"train": 2000, "val": 200, "test": 800}
    x, y = next(iter(loaders["test"]))
    assert x.shape == (8, 3, 224, 224) and set(y.tolist()) <= {0, 1}


@pytest.mark.full_profile  # two VGG-16s and a 553 MB file: with the other full-profile tests
def test_random_vgg16_weights_load_as_imagenet_weights(monkeypatch, tmp_path):
    from course_lib.models.vgg import imagenet_vgg16

    miniature.vgg16_imagenet_weights(tmp_path)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    torch.manual_seed(0)
    expected = __import__("torchvision").models.vgg16().state_dict()
    loaded = imagenet_vgg16().state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in expected.items())
