"""Argument checks shared by the whole library, so every module fails with the same message."""


def positive_int(value, name):
    """Return ``value`` if it is an int > 0 (bools are not ints here); else raise ``ValueError``
    naming the argument ``name``."""
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value
