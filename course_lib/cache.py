"""Trained baselines shared between notebooks: a cache under ``data/cache/`` keyed by the recipe.

A baseline such as the course VGG is trained once and loaded by every later run that asks for the
*same recipe*: the caller's description of the model, data and schedule, plus everything of this
machine that changes a training run bit for bit (torch version, the CPU's float path and the ISA
variables that restrict it, the thread count, ``COURSE_SEED``). Loading gives exactly the weights
training would have given. ``COURSE_CACHE=0`` bypasses the cache (train, write nothing).
"""
import hashlib
import json
import os

import torch

from . import config, measure

ISA_VARIABLES = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS")


def enabled():
    """The cache is used unless ``COURSE_CACHE`` is ``0``/``off``."""
    return os.environ.get("COURSE_CACHE", "1").strip().lower() not in ("0", "off", "false", "no")


def environment():
    """What of this machine changes a training run: ``{name: str}``."""
    return {"torch": torch.__version__, "cpu capability": torch.backends.cpu.get_cpu_capability(),
            **{name: os.environ.get(name, "") for name in ISA_VARIABLES},
            "threads": str(torch.get_num_threads()), "seed offset": str(config.seed_for(0))}


def key(recipe):
    """A 16-hex-digit key of ``recipe`` (a JSON-serialisable dict) and :func:`environment`."""
    if not isinstance(recipe, dict):
        raise TypeError(f"recipe must be a dict, got {type(recipe).__name__}")
    try:
        text = json.dumps({"recipe": recipe, "environment": environment()}, sort_keys=True)
    except TypeError as err:
        raise TypeError(f"recipe must be JSON-serialisable: {err}") from None
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def trained(name, recipe, build, fit):
    """``(model, history)``: ``build()`` loaded from the cache, or trained by ``fit(model)`` (which
    returns the history, a list of dicts of numbers) and then cached.

    ``name`` names the file (``data/cache/<name>-<key>.pt``); ``recipe`` must describe everything
    ``build`` and ``fit`` do. An unreadable file is reported and rebuilt, never trusted. A readable
    file of the same recipe whose weights do not fit ``build()``'s model is refused with a
    ``ValueError``: the recipe then misses what makes the model differ (retraining would overwrite
    another caller's entry). The global random state afterwards differs between the two paths:
    reseed before anything random.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name must be a simple identifier (it names a file), got {name!r}")
    if not callable(build) or not callable(fit):
        raise TypeError("build and fit must be callables: build() -> model, fit(model) -> history")
    path = config.CACHE_DIR / f"{name}-{key(recipe)}.pt"
    model = build()
    if enabled() and path.is_file():
        try:
            stored = measure.load_checkpoint(path)
            state, history = stored["state_dict"], stored["history"]
        except (measure.CheckpointError, KeyError) as err:
            print(f"cached {name} cannot be used ({type(err).__name__}); training it again")
        else:
            try:
                model.load_state_dict(state)
            except RuntimeError as err:
                raise ValueError(f"the cached {name} of this recipe does not fit the model build() returns; "
                                 f"the recipe must say what makes the model differ ({path.name}): {err}") from None
            return model, history
    history = fit(model)
    if enabled():
        measure.save_checkpoint({"state_dict": model.state_dict(), "history": history, "recipe": recipe}, path)
    return model, history
