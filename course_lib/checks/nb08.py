"""Checks for the exercises of notebook 08 (Deep Compression)."""
import numpy as np
import torch

from . import exercise, expect, passed
from ..compression import codec, huffman, quantize, sparse


@exercise
def check_relative_indices(fn):
    """``fn(row, bits) -> (values, diffs)``: relative indices with filler zeros, as in
    :func:`course_lib.compression.sparse.encode_relative`."""
    rng = np.random.default_rng(8)
    cases = [(np.array([0, 3.4, 0, 0, 0.9] + [0] * 10 + [1.7]), 3), (np.zeros(12), 2),
             (np.r_[np.zeros(70), 2.5, np.zeros(5), -1.0], 4)]
    cases += [(rng.normal(size=200) * (rng.random(200) < 0.05), b) for b in (2, 3, 5)]
    for row, bits in cases:
        want_v, want_d = sparse.encode_relative(row, bits)
        got_v, got_d = fn(row.copy(), bits)
        got_v, got_d = np.asarray(got_v, dtype=float), np.asarray(got_d)
        expect(got_d.shape == want_d.shape,
               f"for a row with {int((row != 0).sum())} non-zeros and bits={bits} you stored {got_d.size} "
               f"entries, expected {want_d.size} (non-zeros + filler zeros)")
        expect(np.array_equal(got_d, want_d), f"relative indices differ for bits={bits}: got {got_d.tolist()}, "
                                              f"expected {want_d.tolist()}")
        expect(np.array_equal(got_v, want_v), f"stored values differ for bits={bits}: fillers must store 0")
    passed("relative indices with filler zeros are right")


@exercise
def check_code_lengths(fn):
    """``fn(counts) -> lengths``: a Huffman code length table (any optimal tie-breaking)."""
    rng = np.random.default_rng(8)
    cases = [np.array([5, 9, 12, 13, 16, 45]), np.array([1, 1, 1, 1]), np.array([100, 1, 1, 0, 3]),
             rng.integers(1, 1000, size=20)]
    for counts in cases:
        got = np.asarray(fn(counts.copy()))
        expect(got.shape == counts.shape, f"expected one length per symbol ({counts.size}), got shape {got.shape}")
        expect((got[counts == 0] == 0).all() and (got[counts > 0] > 0).all(),
               "used symbols need a length > 0 and unused symbols length 0")
        kraft = sum(2.0 ** -int(l) for l in got[counts > 0])
        expect(kraft == 1.0, f"the lengths {got.tolist()} are not a complete prefix code (Kraft sum {kraft})")
        best = int((counts * huffman.code_lengths(counts)).sum())
        cost = int((counts * got).sum())
        expect(cost == best, f"for counts {counts.tolist()} your code takes {cost} bits, a Huffman code {best}")
    passed("Huffman code lengths are optimal")


@exercise
def check_linear_init(fn):
    """``fn(values, k) -> centroids``: the paper's linear initialisation."""
    g = torch.Generator().manual_seed(8)
    for k in (2, 5, 16):
        values = torch.randn(500, generator=g) * 0.1
        got = torch.as_tensor(fn(values.clone(), k)).float()
        want = quantize.init_centroids(values, k, "linear")
        expect(got.shape == (k,), f"expected {k} centroids, got shape {tuple(got.shape)}")
        expect(torch.allclose(got, want, atol=1e-6), f"k={k}: centroids must be evenly spaced from "
                                                     f"min={values.min():.4f} to max={values.max():.4f}")
    passed("linear initialisation is right")


def _filler_bits(shared, index_bits):
    """Reference: bits of the Huffman-coded streams spent on filler entries (weight symbol 0)."""
    w_sym, d_sym = codec.layer_streams(shared, index_bits)
    w_len = huffman.code_lengths(np.bincount(w_sym, minlength=shared.codebook.numel()))
    d_len = huffman.code_lengths(np.bincount(d_sym, minlength=1 << index_bits))
    filler = w_sym == 0
    return int(w_len[0] * filler.sum() + d_len[d_sym[filler]].sum())


@exercise
def check_filler_bits(fn):
    """``fn(shared, index_bits) -> bits``: what the filler zeros of one layer cost in its file."""
    g = torch.Generator().manual_seed(8)
    cases = []
    for rows, cols, density, bits in ((40, 300, 0.03, 5), (20, 500, 0.01, 4), (30, 100, 0.2, 3)):
        indices = torch.randint(1, 8, (rows, cols), generator=g) * (torch.rand(rows, cols, generator=g) < density)
        cases.append((quantize.SharedWeights(torch.linspace(-1, 1, 8), indices, 3), bits))
    for shared, bits in cases:
        copy = quantize.SharedWeights(shared.codebook.clone(), shared.indices.clone(), shared.bits)
        want = _filler_bits(shared, bits)
        got = fn(copy, bits)
        expect(want > 0, "internal: every test layer needs filler zeros")
        expect(isinstance(got, (int, np.integer)) and int(got) == want,
               f"a {tuple(shared.indices.shape)} layer with {int((shared.indices > 0).sum())} non-zeros and "
               f"{bits}-bit relative indices spends {want} bits on filler zeros, you said {got!r} "
               f"(count both the weight-index and the relative-index code of every filler)")
    passed("filler zeros are costed right")
