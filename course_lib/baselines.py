"""The course VGG-16: the trained network notebooks 03, 05 and 06 all start from.

It is built and trained here, in one place, so that every notebook asking for it uses the same
recipe and therefore, through :mod:`course_lib.cache`, gets the same weights, trained once per
machine. Quick profile: VGG-16 with BatchNorm at width 1/8 (8 ... 64 filters per conv), 32 x 32
MNIST digits, a 64-64 head; full profile: Li et al.'s CIFAR-10 setting, full width, a 512-512 head.
"""
import torch
import torch.nn as nn

from . import cache, config, data, stats, train
from .models.vgg import vgg16

# schedule: (optimizer, learning rate, epochs) phases, trained to a validation plateau
SETTINGS = {
    "quick": {"width": 0.125, "hidden": 64, "in_channels": 1, "dropout": 0.3, "data": "mnist subset, 32 px",
              "schedule": [("adam", 2e-3, 8), ("adam", 2e-4, 3)], "weight_decay": 0.0},
    "full": {"width": 1.0, "hidden": 512, "in_channels": 3, "dropout": 0.5, "data": "cifar10",
             "schedule": [("sgd", 0.05, 60), ("sgd", 0.005, 20), ("sgd", 0.0005, 10)], "weight_decay": 5e-4},
}
BATCH_SIZE = 128


def settings(profile=None):
    """The course VGG's settings for ``profile`` ("quick" or "full"; default :func:`config.profile`),
    plus ``"shape"``, one input (C, H, W)."""
    profile = config.profile() if profile is None else profile
    if profile not in SETTINGS:
        raise ValueError(f"profile must be one of {sorted(SETTINGS)}, got {profile!r}")
    return {**SETTINGS[profile], "profile": profile, "shape": (SETTINGS[profile]["in_channels"], 32, 32)}


def course_loaders(profile=None):
    """The course VGG's data: ``{"train", "val", "test": DataLoader}`` of 32 x 32 images, batches of 128."""
    if settings(profile)["profile"] == "full":
        return data.cifar10_loaders(batch_size=BATCH_SIZE)
    return data.mnist_loaders(batch_size=BATCH_SIZE, size=32)


def make_course_vgg(profile=None, seed=0):
    """An untrained course VGG-16 (10 classes), initialised from ``seed`` whatever ran before.

    ImageNet VGG initialises its 4096-wide linear layers with N(0, 0.01); in a 64-wide head that
    starves the gradient, so the head gets PyTorch's default initialisation instead.
    """
    s = settings(profile)
    with torch.random.fork_rng():  # the caller's random state is left as it was
        torch.manual_seed(config.seed_for(seed))
        model = vgg16(batch_norm=True, width=s["width"], input_size=32, in_channels=s["in_channels"],
                      num_classes=10, hidden=s["hidden"], dropout=s["dropout"])
        for m in model.classifier:
            if isinstance(m, nn.Linear):
                m.reset_parameters()
    return model.to(config.device())


def run_phases(model, loaders, phases, seed=0, weight_decay=0.0, loss=None, before_step=None):
    """Train ``model`` in place through ``phases`` [(optimizer, lr, epochs), ...] on
    ``loaders["train"]``, keeping the best ``loaders["val"]`` epoch of each phase; returns the
    validation accuracy per epoch (fractions, 3 decimals). ``loss`` and ``before_step`` go to
    every phase's :func:`course_lib.train.fit`.

    ``seed`` fixes dropout and the order of the training batches, so two runs with the same seed
    see the same batches whatever ran before them.
    """
    if not isinstance(phases, list) or not phases or not all(isinstance(p, tuple) and len(p) == 3 for p in phases):
        raise ValueError(f"phases must be a non-empty list of (optimizer, lr, epochs) tuples, got {phases!r}")
    data.reseed(loaders, seed)
    history = []
    for optimizer, lr, epochs in phases:
        history += train.fit(model, loaders["train"], loaders["val"], epochs=epochs, lr=lr,
                             optimizer=optimizer, weight_decay=weight_decay, loss=loss, before_step=before_step)
    return [round(row["val_acc"], 3) for row in history]


def recipe(profile=None):
    """Everything :func:`course_vgg` trains from, as the cache keys it (a JSON-serialisable dict):
    include it in the recipe of anything trained further from the baseline."""
    s = settings(profile)
    return {"net": "vgg16_bn", **{k: s[k] for k in ("width", "hidden", "in_channels", "dropout", "profile", "data",
                                                   "schedule", "weight_decay")},
            "batch_size": BATCH_SIZE, "seed": 0}


def course_vgg(loaders, profile=None):
    """``(model, curve)``: the trained course VGG-16 and its validation accuracy per epoch, loaded
    from ``data/cache/`` or trained there once (``loaders`` from :func:`course_loaders`)."""
    s = settings(profile)
    return cache.trained("course_vgg16", recipe(profile), lambda: make_course_vgg(s["profile"]),
                         lambda net: run_phases(net, loaders, s["schedule"], seed=0, weight_decay=s["weight_decay"]))


def report(model, loaders, curve):
    """Print the baseline's validation curve (``curve``, from :func:`course_vgg`), its validation
    and test accuracy and what the test split resolves; returns ``(validation accuracy, test
    correctness)``, the latter a (N,) bool tensor per test image for paired comparisons."""
    if not isinstance(loaders, dict) or not {"val", "test"} <= loaders.keys():
        raise TypeError(f"loaders must be a dict with 'val' and 'test' loaders, got {type(loaders).__name__}")
    val = train.evaluate(model, loaders["val"])["accuracy"]
    hits = stats.correct(model, loaders["test"])
    acc = float(hits.float().mean())
    print("validation accuracy per epoch:", curve)
    print(f"baseline accuracy: validation {100 * val:.1f} %, test {100 * acc:.1f} %; one accuracy near "
          f"{100 * acc:.0f} % on {len(hits)} test images: ±{100 * stats.resolution(len(hits), acc):.1f} pp (95 %)")
    return val, hits
