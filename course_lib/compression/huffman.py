"""Huffman coding of small-alphabet symbol streams (quantized weight indices, index differences).

A code is described by its table of code lengths alone (one length per symbol, 0 = unused):
the codes themselves are *canonical* (Deflate's convention), so a file only stores the lengths.
Encoding and decoding are vectorised with numpy except for one tight loop that follows the
variable-length codes through the bit stream.
"""
import heapq

import numpy as np

MAX_LENGTH = 57  # a code must fit, with up to 7 bits of byte offset, in one 64-bit window
CHUNK_BITS = 1 << 20  # bits decoded per vectorised block (bounds the temporary arrays)


def _check_counts(counts):
    counts = np.asarray(counts)
    if counts.ndim != 1 or counts.size == 0 or not np.issubdtype(counts.dtype, np.integer):
        raise TypeError(f"counts must be a non-empty 1-D array of integer counts, got {counts.dtype} "
                        f"of shape {counts.shape}")
    if (counts < 0).any():
        raise ValueError("counts must be non-negative")
    return counts.astype(np.int64)


def _check_lengths(lengths):
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or lengths.size == 0 or not np.issubdtype(lengths.dtype, np.integer):
        raise TypeError(f"lengths must be a non-empty 1-D integer array, got {lengths.dtype} of shape {lengths.shape}")
    if (lengths < 0).any() or (lengths > MAX_LENGTH).any():
        raise ValueError(f"lengths must lie in [0, {MAX_LENGTH}]")
    used = lengths[lengths > 0]
    if used.size == 0:
        raise ValueError("lengths must give at least one symbol a non-zero length")
    if used.size == 1 and used[0] != 1:
        raise ValueError("a one-symbol code must give its symbol length 1")
    # A Huffman code over >= 2 symbols is complete: sum 2^-l = 1 exactly (Kraft equality).
    if used.size > 1 and sum(1 << (MAX_LENGTH - int(l)) for l in used) != 1 << MAX_LENGTH:  # exact ints
        raise ValueError("lengths do not describe a complete prefix code (Kraft sum != 1)")
    return lengths.astype(np.int64)


def code_lengths(counts):
    """Huffman code length of every symbol from its count, shape (n_symbols,), int64.

    Unused symbols (count 0) get length 0. Ties are broken deterministically: equal weights merge
    in order of creation (the leaves by symbol first). A stream of one distinct symbol gets the
    one-symbol code: that symbol has length 1, and its stream takes no bits at all (the decoder
    just repeats the symbol), so the average length is 0 = H.
    """
    counts = _check_counts(counts)
    used = np.flatnonzero(counts)
    lengths = np.zeros(counts.size, dtype=np.int64)
    if used.size == 1:
        lengths[used] = 1
    if used.size <= 1:
        return lengths
    heap = [(int(counts[s]), order, [int(s)]) for order, s in enumerate(used)]
    heapq.heapify(heap)
    order = len(heap)
    while len(heap) > 1:
        w1, _, syms1 = heapq.heappop(heap)
        w2, _, syms2 = heapq.heappop(heap)
        lengths[syms1 + syms2] += 1  # every leaf under the new node moves one level deeper
        heapq.heappush(heap, (w1 + w2, order, syms1 + syms2))
        order += 1
    if lengths.max() > MAX_LENGTH:
        raise ValueError(f"counts are too skewed: a code would exceed {MAX_LENGTH} bits")
    return lengths


def canonical_codes(lengths):
    """Canonical code of every symbol (int64, read as the low ``lengths[s]`` bits), 0 if unused.

    Symbols are sorted by (length, symbol); each code is the previous one plus one, shifted left
    when the length grows -- so the lengths alone determine the code.
    """
    lengths = _check_lengths(lengths)
    codes = np.zeros(lengths.size, dtype=np.int64)
    code, prev_len = 0, 0
    for s in sorted(np.flatnonzero(lengths), key=lambda s: (lengths[s], s)):
        code <<= int(lengths[s]) - prev_len
        codes[s], prev_len = code, int(lengths[s])
        code += 1
    return codes


def _check_symbols(symbols, lengths):
    symbols = np.asarray(symbols)
    if symbols.ndim != 1 or not (np.issubdtype(symbols.dtype, np.integer) or symbols.size == 0):
        raise TypeError(f"symbols must be a 1-D integer array, got {symbols.dtype} of shape {symbols.shape}")
    symbols = symbols.astype(np.int64)
    if symbols.size and (symbols.min() < 0 or symbols.max() >= lengths.size):
        raise ValueError(f"symbols must lie in [0, {lengths.size}) (the length table's size)")
    if symbols.size and (lengths[symbols] == 0).any():
        raise ValueError("symbols contain a symbol whose code length is 0 (not in the code)")
    return symbols


def encode(symbols, lengths):
    """Bit stream (bytes, most significant bit first, zero-padded to whole bytes) of ``symbols``,
    a 1-D integer array, coded with the canonical code of ``lengths``."""
    lengths = _check_lengths(lengths)
    symbols = _check_symbols(symbols, lengths)
    if (lengths > 0).sum() == 1:  # the one-symbol code: nothing to write
        return b""
    sym_len = lengths[symbols]
    sym_code = canonical_codes(lengths)[symbols]
    start = np.cumsum(sym_len) - sym_len
    bits = np.zeros(int(sym_len.sum()), dtype=np.uint8)
    for j in range(int(lengths.max())):  # write bit j of every code that is longer than j
        sel = np.flatnonzero(sym_len > j)
        bits[start[sel] + j] = (sym_code[sel] >> (sym_len[sel] - 1 - j)) & 1
    return np.packbits(bits).tobytes()


def _windows(padded, positions, width):
    """The ``width`` bits starting at each bit position of ``padded`` (uint8, 8 zero bytes appended)."""
    byte = positions >> 3
    word = np.zeros(positions.size, dtype=np.uint64)
    for j in range(8):  # big-endian 64-bit word starting at the byte that holds the position
        word |= padded[byte + j].astype(np.uint64) << np.uint64(56 - 8 * j)
    word <<= (positions & 7).astype(np.uint64)
    return word >> np.uint64(64 - width)


def decode(data, lengths, n):
    """The ``n`` symbols (int64 array of shape (n,)) that :func:`encode` wrote into ``data``.

    Raises ``ValueError`` when ``data`` holds fewer than ``n`` symbols, or more than the zero
    padding after them (a stream that does not match its table).
    """
    lengths = _check_lengths(lengths)
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise ValueError(f"n must be a non-negative int, got {n!r}")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    order = sorted(np.flatnonzero(lengths), key=lambda s: (lengths[s], s))
    if len(order) == 1:
        if len(data):
            raise ValueError("data must be empty for a one-symbol code")
        return np.full(n, order[0], dtype=np.int64)
    width, codes = int(lengths.max()), canonical_codes(lengths)
    # Left-aligned to `width` bits the canonical codes increase, so the code starting at a bit
    # position is the last one whose left-aligned value is <= the `width`-bit window there.
    left = np.array([codes[s] << (width - lengths[s]) for s in order], dtype=np.uint64)
    sym_sorted, len_sorted = np.array(order, dtype=np.int64), lengths[order]
    padded = np.concatenate([np.frombuffer(bytes(data), dtype=np.uint8), np.zeros(8, dtype=np.uint8)])
    total_bits, pos, pieces, found = 8 * len(data), 0, [], 0
    while found < n and pos < total_bits:
        c0, c1 = pos, min(pos + CHUNK_BITS, total_bits)
        which = np.searchsorted(left, _windows(padded, np.arange(c0, c1, dtype=np.int64), width), "right") - 1
        step = len_sorted[which].tolist()
        starts, p, m, todo = [], 0, c1 - c0, n - found
        while p < m and len(starts) < todo:  # follow the codes: the one sequential part
            starts.append(p)
            p += step[p]
        pieces.append(sym_sorted[which[starts]])
        found, pos = found + len(starts), c0 + p
    if found < n or pos > total_bits:
        raise ValueError(f"data is truncated: it holds fewer than n={n} symbols")
    if total_bits - pos >= 8:
        raise ValueError("data holds more than zero padding after the last symbol")
    return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int64)


def entropy_bits(counts):
    """Empirical entropy H = -sum p log2 p of the symbol distribution given by ``counts`` (bits/symbol)."""
    counts = _check_counts(counts)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum())


def average_length(counts, lengths):
    """Bits per symbol that :func:`encode` writes for a stream with ``counts`` and code ``lengths``
    (0 for the one-symbol code, whose stream is empty)."""
    counts, lengths = _check_counts(counts), _check_lengths(lengths)
    if lengths.shape != counts.shape:
        raise ValueError(f"lengths must have the shape of counts {counts.shape}, got {lengths.shape}")
    if (lengths > 0).sum() == 1:
        return 0.0
    return float((counts * lengths).sum() / counts.sum())
