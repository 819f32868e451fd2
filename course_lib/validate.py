"""Argument checks shared by the whole library, so every module fails with the same message,
and :func:`eval_mode`, the one way the library runs a model in inference mode."""
import contextlib

import torch.nn as nn


def int_in(value, name, low=None, high=None):
    """Return ``value`` if it is an int (bools are not ints here) in [``low``, ``high``] (a bound of
    None is open); else raise ``ValueError`` naming the argument ``name`` and the range."""
    if (not isinstance(value, int) or isinstance(value, bool)
            or (low is not None and value < low) or (high is not None and value > high)):
        if high is not None:
            wanted = f"an int in [{low}, {high}]" if low is not None else f"an int <= {high}"
        else:
            wanted = {None: "an int", 0: "a non-negative int", 1: "a positive int"}.get(low, f"an int >= {low}")
        raise ValueError(f"{name} must be {wanted}, got {value!r}")
    return value


def positive_int(value, name):
    """Return ``value`` if it is an int > 0 (bools are not ints here); else raise ``ValueError``
    naming the argument ``name``."""
    return int_in(value, name, low=1)


def fraction(value, name, zero=True):
    """Return ``value`` if it is a number in [0, 1) (in (0, 1) with ``zero=False``); else raise
    ``ValueError`` naming the argument ``name``."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not number or not (0 <= value < 1) or (value == 0 and not zero):
        raise ValueError(f"{name} must be a fraction in {'[' if zero else '('}0, 1), got {value!r}")
    return value


def ratios(values, name="ratios"):
    """Return ``values`` (a non-empty sequence of fractions in (0, 1)) sorted; else raise
    ``ValueError`` naming the argument ``name``."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or len(values) == 0:
        raise ValueError(f"{name} must be a non-empty sequence of fractions in (0, 1), got {values!r}")
    return sorted(fraction(r, f"every ratio in {name}", zero=False) for r in values)


def check_model(model):
    """Raise ``TypeError`` unless ``model`` is a ``torch.nn.Module``; return it."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return model


def check_shape(input_shape):
    """The shape of one sample, e.g. (1, 28, 28), as a tuple of positive ints; else ``ValueError``."""
    if (not isinstance(input_shape, (tuple, list)) or len(input_shape) == 0
            or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in input_shape)):
        raise ValueError(f"input_shape must be a tuple of positive ints for one sample, e.g. (1, 28, 28), "
                         f"got {input_shape!r}")
    return tuple(input_shape)


@contextlib.contextmanager
def eval_mode(model):
    """``with eval_mode(model):`` runs the block with every module of ``model`` in eval mode and
    afterwards gives each module back its own training flag, also when the block raises."""
    flags = [(m, m.training) for m in check_model(model).modules()]
    model.eval()
    try:
        yield model
    finally:
        for m, training in flags:
            m.training = training
