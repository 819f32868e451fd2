"""Profile (quick / full), paths under ``data/``, seeding and device, progress bars.

``COURSE_PROFILE=quick`` (default) runs offline on a CPU; ``COURSE_PROFILE=full`` runs the
paper-scale experiments with torchvision datasets and a GPU when one is available.
"""
import os
import random
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

PROFILES = ("quick", "full")
ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
CACHE_DIR = DATA_DIR / "cache"


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


def seed_everything(seed=0):
    """Seed python, numpy and torch and make torch use deterministic algorithms.

    Returns a ``torch.Generator`` seeded with ``seed`` (for DataLoader shuffling).
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    return torch.Generator().manual_seed(seed)


def progress_enabled():
    """Progress bars are on unless ``COURSE_PROGRESS`` is ``0``/``off`` (set by the test suite)."""
    return os.environ.get("COURSE_PROGRESS", "1").strip().lower() not in ("0", "off", "false", "no")


def progress(iterable=None, **kwargs):
    """The one progress bar of the course: ``tqdm.auto`` with ``disable`` passed explicitly.

    ``TQDM_DISABLE`` alone does not silence notebook bars, so every loop goes through here.
    """
    return tqdm(iterable, disable=not progress_enabled(), **kwargs)
