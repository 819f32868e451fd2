"""Relative-index storage of a sparse layer (Han et al. 2016, Section 2 and Figure 2).

A layer is read as one flat stream in row-major (C) order. Each stored entry keeps its value and
the *difference* of its position to the previous stored entry (the first entry counts from a
virtual entry at position -1). A difference d in [1, 2^b] is stored in b bits as d - 1, so b bits
reach 2^b positions ahead (the paper's Figure 2: 3 bits reach 8). A longer jump is bridged with
*filler zeros*: stored entries of value 0 placed every 2^b positions. All-zero tails need no
entries -- the decoder knows the layer's size.
"""
import numpy as np


def _check_bits(bits):
    if not isinstance(bits, (int, np.integer)) or isinstance(bits, bool) or not 1 <= bits <= 16:
        raise ValueError(f"bits must be an int in [1, 16], got {bits!r}")
    return int(bits)


def encode_relative(dense, bits):
    """Sparse entries of ``dense`` (any shape, flattened in C order) with relative indices.

    Returns ``(values, diffs)``, two 1-D arrays of the same length (the stored entries, filler
    zeros included): ``values`` holds ``dense``'s non-zeros (0 for a filler, same dtype as
    ``dense``) and ``diffs`` int64 in [1, 2^bits], each entry's distance to the previous one.
    """
    bits = _check_bits(bits)
    flat = np.asarray(dense).ravel()
    if not (np.issubdtype(flat.dtype, np.integer) or np.issubdtype(flat.dtype, np.floating)):
        raise TypeError(f"dense must hold numbers, got dtype {flat.dtype}")
    span = 1 << bits
    pos = np.flatnonzero(flat)
    d = np.diff(pos, prepend=-1)
    fillers = (d - 1) // span  # jumps of exactly `span` bridged before each non-zero
    last = np.cumsum(fillers + 1) - 1  # where each non-zero lands among the stored entries
    diffs = np.full(int(last[-1]) + 1 if last.size else 0, span, dtype=np.int64)
    diffs[last] = d - fillers * span
    values = np.zeros(diffs.size, dtype=flat.dtype)
    values[last] = flat[pos]
    return values, diffs


def decode_relative(values, diffs, size):
    """The flat dense array of ``size`` elements that :func:`encode_relative` stored as
    ``(values, diffs)``; positions not stored are 0. Raises ``ValueError`` on inconsistent input."""
    values, diffs = np.asarray(values), np.asarray(diffs)
    if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or size < 0:
        raise ValueError(f"size must be a non-negative int, got {size!r}")
    if values.ndim != 1 or diffs.shape != values.shape:
        raise ValueError(f"values and diffs must be 1-D of equal length, got {values.shape} and {diffs.shape}")
    if diffs.size and (not np.issubdtype(diffs.dtype, np.integer) or diffs.min() < 1):
        raise ValueError("diffs must be integers >= 1")
    pos = np.cumsum(diffs) - 1
    if pos.size and pos[-1] >= size:
        raise ValueError(f"diffs reach position {int(pos[-1])}, beyond size={size}")
    dense = np.zeros(size, dtype=values.dtype)
    dense[pos] = values
    return dense


def filler_count(values, diffs):
    """Number of filler zeros among the stored entries (stored zeros; the data holds no others)."""
    values, diffs = np.asarray(values), np.asarray(diffs)
    if values.ndim != 1 or diffs.shape != values.shape:
        raise ValueError(f"values and diffs must be 1-D of equal length, got {values.shape} and {diffs.shape}")
    return int((values == 0).sum())
