import pytest
import torch

from course_lib import config, data


def test_profile_default_and_invalid(monkeypatch):
    monkeypatch.delenv("COURSE_PROFILE", raising=False)
    assert config.profile() == "quick"
    monkeypatch.setenv("COURSE_PROFILE", "FULL")
    assert config.profile() == "full"
    monkeypatch.setenv("COURSE_PROFILE", "fast")
    with pytest.raises(ValueError, match=r"COURSE_PROFILE must be one of \('quick', 'full'\), got 'fast'"):
        config.profile()


def test_quick_device_is_cpu(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "quick")
    assert config.device().type == "cpu"


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_seed_rejects_bad_seed(seed):
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        config.seed_everything(seed)


def test_seed_makes_torch_repeatable():
    config.seed_everything(3)
    a = torch.randn(5)
    config.seed_everything(3)
    assert torch.equal(a, torch.randn(5))


def test_progress_can_be_switched_off(monkeypatch):
    monkeypatch.setenv("COURSE_PROGRESS", "0")
    assert config.progress(range(3)).disable
    monkeypatch.setenv("COURSE_PROGRESS", "1")
    assert not config.progress(range(3)).disable


def test_mnist_subset_split_is_fixed_stratified_and_disjoint():
    parts = data.mnist_subset()
    sizes = {k: len(v[1]) for k, v in parts.items()}
    assert sizes == {"train": 3500, "val": 500, "test": 1000}
    for name, (x, y) in parts.items():
        assert x.shape[1:] == (1, 28, 28) and x.dtype == torch.float32
        assert torch.bincount(y, minlength=10).tolist() == [sizes[name] // 10] * 10
    # the same image never lands in two splits
    rows = {name: {tuple(img.flatten()[::7].tolist()) for img in x} for name, (x, _) in parts.items()}
    assert not rows["train"] & rows["test"] and not rows["train"] & rows["val"]
    again = data.mnist_subset()
    assert torch.equal(again["test"][0], parts["test"][0])


def test_mnist_subset_padding_keeps_the_digit_centered():
    x28 = data.mnist_subset(28)["val"][0]
    x32 = data.mnist_subset(32)["val"][0]
    assert x32.shape[1:] == (1, 32, 32)
    assert torch.equal(x32[:, :, 2:30, 2:30], x28)
    assert torch.allclose(x32[:, :, 0], torch.full_like(x32[:, :, 0], -data.MNIST_MEAN / data.MNIST_STD))


@pytest.mark.parametrize("size", [0, 27, 30.0, None])
def test_mnist_subset_rejects_bad_size(size):
    with pytest.raises(ValueError, match="size must be an int >= 28"):
        data.mnist_subset(size)


def test_loaders_reject_bad_batch_size():
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        data.mnist_loaders(batch_size=0)


def test_quick_loaders_shuffle_only_train(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "quick")
    loaders = data.mnist_loaders(batch_size=100)
    x, y = next(iter(loaders["test"]))
    assert torch.equal(y, data.mnist_subset()["test"][1][:100])
    assert len(loaders["train"].dataset) == 3500


def test_reseed_rewinds_the_training_order(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "quick")
    loaders = data.mnist_loaders(batch_size=100)
    first = next(iter(data.reseed(loaders, 3)["train"]))[1]
    for _ in loaders["train"]:  # an epoch moves the shuffling on ...
        pass
    assert not torch.equal(next(iter(loaders["train"]))[1], first)
    assert torch.equal(next(iter(data.reseed(loaders, 3)["train"]))[1], first)  # ... reseed rewinds it
    assert not torch.equal(next(iter(data.reseed(loaders, 4)["train"]))[1], first)


@pytest.mark.parametrize("bad", [None, [], {"train": [1, 2]}])
def test_reseed_rejects_what_is_not_a_dict_of_loaders(bad):
    with pytest.raises(TypeError, match="loaders must be a dict of DataLoaders"):
        data.reseed(bad)


def test_reseed_rejects_bad_seed():
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        data.reseed(data.mnist_loaders(batch_size=100), -1)


def test_full_profile_missing_data_gives_one_clear_message(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_PROFILE", "full")
    monkeypatch.setattr(config, "DATA_DIR", tmp_path)

    def offline(*args, **kwargs):
        raise OSError("network unreachable")

    import torchvision.datasets as tvd
    monkeypatch.setattr(tvd, "OxfordIIITPet", offline)
    monkeypatch.setattr(tvd, "MNIST", offline)
    with pytest.raises(data.MissingDataError, match=r"(?s)Oxford-IIIT Pet.*dogs-vs-cats.*\{cat,dog\}"):
        data.cats_vs_dogs_loaders()
    with pytest.raises(data.MissingDataError, match="MNIST dataset"):
        data.mnist_loaders()


def test_kaggle_folder_is_used_when_present(kaggle_folder):
    kaggle_folder(10, (300, 260))
    loaders = data.cats_vs_dogs_loaders(batch_size=4, per_class=(6, 2, 5))
    x, y = next(iter(loaders["test"]))
    assert x.shape == (4, 3, 224, 224)
    sizes = {name: len(loader.dataset) for name, loader in loaders.items()}
    assert sizes == {"train": 12, "val": 4, "test": 10}
    assert not set(loaders["train"].dataset.indices) & set(loaders["val"].dataset.indices)
    labels = [y for _, y in loaders["train"].dataset]
    assert labels.count(0) == labels.count(1) == 6  # cat = 0, dog = 1, balanced
    with pytest.raises(ValueError, match="class 0 has 10 images, fewer than the 11"):
        data.cats_vs_dogs_loaders(per_class=(10, 1, 5))
    with pytest.raises(ValueError, match="per_class must be a tuple of three positive ints"):
        data.cats_vs_dogs_loaders(per_class=(10, 0, 5))


def test_mnist_digits_relabels_in_the_given_order():
    task = data.mnist_digits([9, 4], size=32)
    full = data.mnist_subset(32)
    assert {name: len(y) for name, (x, y) in task.items()} == {"train": 700, "val": 100, "test": 200}
    x, y = task["test"]
    fx, fy = full["test"]
    assert torch.equal(x[y == 0], fx[fy == 9]) and torch.equal(x[y == 1], fx[fy == 4])
    for bad in ([4], [4, 4], [4, 10], "49", [4, 9.0]):
        with pytest.raises(ValueError, match="digits must be a list of at least two distinct digits"):
            data.mnist_digits(bad)


def test_mnist_digits_moves_training_images_to_the_test_split():
    plain, moved = data.mnist_digits([4, 9]), data.mnist_digits([4, 9], train_to_test=100)
    assert {name: len(y) for name, (x, y) in moved.items()} == {"train": 500, "val": 100, "test": 400}
    assert torch.equal(moved["val"][0], plain["val"][0])
    for label in (0, 1):  # each digit: its first 250 training images stay, its last 100 join its test images
        px, py = plain["train"]
        kept, gone = px[py == label][:250], px[py == label][250:]
        assert torch.equal(moved["train"][0][moved["train"][1] == label], kept)
        test_x = moved["test"][0][moved["test"][1] == label]
        assert torch.equal(test_x, torch.cat([plain["test"][0][plain["test"][1] == label], gone]))
    for bad in (-1, 350, 1.0, True):
        with pytest.raises(ValueError, match=r"train_to_test must be an int in \[0, 349\]"):
            data.mnist_digits([4, 9], train_to_test=bad)


def test_threads_default_and_override(monkeypatch):
    monkeypatch.delenv("COURSE_THREADS", raising=False)
    assert config.threads() == 2
    monkeypatch.setenv("COURSE_THREADS", "3")
    before = torch.get_num_threads()
    try:
        assert config.set_threads() == 3 and torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("name, value", [("COURSE_THREADS", "0"), ("COURSE_THREADS", "two"),
                                         ("COURSE_SEED", "-1"), ("COURSE_SEED", "1.5")])
def test_bad_environment_values_are_named(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=name):
        config.threads() if name == "COURSE_THREADS" else config.seed_for(0)


def test_course_seed_shifts_every_training_seed(monkeypatch):
    monkeypatch.setenv("COURSE_SEED", "1")
    assert config.seed_for(4) == 5
    config.seed_everything(0)
    shifted = torch.rand(3)
    monkeypatch.setenv("COURSE_SEED", "0")
    config.seed_everything(1)
    assert torch.equal(torch.rand(3), shifted)  # seed 0 shifted by 1 is seed 1
    assert torch.equal(torch.rand(2, generator=config.generator(1)), torch.rand(2, generator=torch.Generator().manual_seed(1)))


def test_mnist_arrays_are_read_once_and_read_only():
    images, labels = data.mnist_arrays()
    assert data.mnist_arrays()[0] is images and images.shape == (5000, 784) and labels.shape == (5000,)
    with pytest.raises(ValueError):
        images[0, 0] = 1
    first = data.mnist_subset()
    first["train"][0].zero_()  # a caller changing its tensors does not change the next caller's
    assert data.mnist_subset()["train"][0].abs().sum() > 0
