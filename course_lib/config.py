"""Profile (quick / full), paths under ``data/``, seeding, threads and device, progress bars.

``COURSE_PROFILE=quick`` (default) runs offline on a CPU; ``COURSE_PROFILE=full`` runs the
paper-scale experiments with torchvision datasets and a GPU when one is available.

Two variables exist so that ``tools/nbrun.py --robust`` can show a notebook's checks hold on any
machine: ``COURSE_THREADS`` (default 2, the machine the time budgets are set for) and
``COURSE_SEED`` (default 0), an offset added to every training seed.

``COURSE_FAST_DEV_RUN=1`` is the fast development run (PyTorch Lightning's ``fast_dev_run``):
every loop takes its real code path but stops early (:func:`fast_dev_run`), so that the full
profile can be run end to end on a CPU in minutes. ``COURSE_DATA_DIR`` moves ``data/`` (the
datasets and the trained-model cache) elsewhere, e.g. to miniature datasets made by a test.
"""
import itertools
import os
import random
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from .validate import int_in

PROFILES = ("quick", "full")
ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("COURSE_DATA_DIR") or ROOT / "data")
CACHE_DIR = DATA_DIR / "cache"
FAST_DEV_BATCHES, FAST_DEV_BATCH_SIZE = 2, 4  # what every loop over data visits in the fast development run
FAST_DEV_UNITS = 2  # units per layer the per-unit loops (the oracle) visit in the fast development run


def profile():
    """The active profile, read from ``COURSE_PROFILE`` (default ``"quick"``)."""
    name = os.environ.get("COURSE_PROFILE", "quick").strip().lower()
    if name not in PROFILES:
        raise ValueError(f"COURSE_PROFILE must be one of {PROFILES}, got {name!r}")
    return name


def device():
    """``cpu`` in the quick profile; ``cuda`` in the full profile when a GPU is present."""
    if profile() == "full" and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def _env_int(name, default, smallest):
    raw = os.environ.get(name, str(default)).strip()
    if not raw.isdigit() or int(raw) < smallest:
        raise ValueError(f"{name} must be an int >= {smallest}, got {raw!r}")
    return int(raw)


def threads():
    """The CPU thread count of the course: ``COURSE_THREADS`` (default 2)."""
    return _env_int("COURSE_THREADS", 2, 1)


def set_threads():
    """Make torch use :func:`threads` threads; returns that count."""
    torch.set_num_threads(threads())
    return threads()


def seed_for(base=0):
    """The seed to use for ``base``: ``base + COURSE_SEED`` (the offset defaults to 0)."""
    return int_in(base, "seed", low=0) + _env_int("COURSE_SEED", 0, 0)


def generator(base=0):
    """A ``torch.Generator`` seeded with :func:`seed_for` ``(base)``."""
    return torch.Generator().manual_seed(seed_for(base))


def seed_everything(base=0):
    """Seed python, numpy and torch with :func:`seed_for` ``(base)`` and make torch use
    deterministic algorithms.

    Returns a ``torch.Generator`` seeded the same way (for DataLoader shuffling).
    """
    seed = seed_for(base)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    return generator(base)


def fast_dev_run():
    """True under ``COURSE_FAST_DEV_RUN=1``: the loops over data stop after
    ``FAST_DEV_BATCHES`` batches of at most ``FAST_DEV_BATCH_SIZE`` examples (:func:`limit`),
    training runs one epoch, latency is timed once and the oracle visits ``FAST_DEV_UNITS``
    units per layer. Which code runs does not change, only how long its loops run; the numbers
    it produces mean nothing."""
    return os.environ.get("COURSE_FAST_DEV_RUN", "0").strip().lower() in ("1", "on", "true", "yes")


def limit(loader):
    """The batches of ``loader`` (an iterable of tuples of tensors, e.g. ``(x, y)``), as they
    come; in the fast development run only the first ``FAST_DEV_BATCHES``, each cut to its first
    ``FAST_DEV_BATCH_SIZE`` examples. Every loop of the library over data goes through here."""
    if not fast_dev_run():
        return loader
    return (tuple(t[:FAST_DEV_BATCH_SIZE] for t in batch) for batch in itertools.islice(loader, FAST_DEV_BATCHES))


def progress_enabled():
    """Progress bars are on unless ``COURSE_PROGRESS`` is ``0``/``off`` (set by the test suite)."""
    return os.environ.get("COURSE_PROGRESS", "1").strip().lower() not in ("0", "off", "false", "no")


def progress(iterable=None, **kwargs):
    """The one progress bar of the course: ``tqdm.auto`` with ``disable`` passed explicitly.

    ``TQDM_DISABLE`` alone does not silence notebook bars, so every loop goes through here.
    """
    return tqdm(iterable, disable=not progress_enabled(), **kwargs)
