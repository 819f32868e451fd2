import heapq

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from course_lib.compression import huffman

one_symbol = st.builds(lambda s, n: [s] * n, st.integers(0, 40), st.integers(1, 300))
uniform = st.lists(st.integers(0, 40), min_size=1, max_size=400)
# geometric-like: symbol j drawn with weight ~ 2^-j, the shape of quantized weights and gaps
skewed = st.lists(st.integers(0, 2 ** 12 - 1).map(lambda u: min(12 - u.bit_length(), 40)), min_size=1, max_size=400)
streams = st.one_of(one_symbol, uniform, skewed)


def huffman_cost(counts):
    """Bits of an optimal prefix code, independently: the sum of all merged weights."""
    heap = [int(c) for c in counts if c > 0]
    heapq.heapify(heap)
    total = 0
    while len(heap) > 1:
        merged = heapq.heappop(heap) + heapq.heappop(heap)
        total += merged
        heapq.heappush(heap, merged)
    return total


def roundtrip(symbols):
    symbols = np.array(symbols, dtype=np.int64)
    counts = np.bincount(symbols, minlength=41)
    lengths = huffman.code_lengths(counts)
    data = huffman.encode(symbols, lengths)
    return symbols, counts, lengths, data


@settings(max_examples=200, deadline=None)
@given(streams)
def test_encode_decode_is_identity(symbols):
    symbols, _, lengths, data = roundtrip(symbols)
    assert np.array_equal(huffman.decode(data, lengths, symbols.size), symbols)


@settings(max_examples=200, deadline=None)
@given(streams)
def test_average_length_within_one_bit_of_entropy(symbols):
    symbols, counts, lengths, data = roundtrip(symbols)
    h = huffman.entropy_bits(counts)
    avg = huffman.average_length(counts, lengths)
    assert h - 1e-9 <= avg < h + 1
    # the stream really has that many bits, plus less than one byte of padding
    assert 8 * len(data) - 8 < avg * symbols.size <= 8 * len(data) + 1e-9


@settings(max_examples=200, deadline=None)
@given(streams)
def test_code_is_complete_and_optimal(symbols):
    _, counts, lengths, _ = roundtrip(symbols)
    used = counts > 0
    assert (lengths[~used] == 0).all() and (lengths[used] > 0).all()
    if used.sum() > 1:  # Kraft equality, and as cheap as an optimal code
        assert sum(2.0 ** -lengths[used]) == 1.0
        assert (counts * lengths).sum() == huffman_cost(counts)


def test_fibonacci_counts_give_the_deepest_tree():
    fib = huffman.code_lengths(np.array([1, 1, 2, 3, 5, 8, 13, 21]))
    assert fib.tolist() == [7, 7, 6, 5, 4, 3, 2, 1]


def test_uniform_counts_give_equal_lengths():
    lengths = huffman.code_lengths(np.full(16, 9))
    assert lengths.tolist() == [4] * 16


def test_one_symbol_stream_costs_no_bits():
    lengths = huffman.code_lengths(np.array([0, 0, 12]))
    assert huffman.encode(np.full(12, 2), lengths) == b""
    assert huffman.decode(b"", lengths, 12).tolist() == [2] * 12


def test_codes_are_prefix_free_and_canonical():
    lengths = huffman.code_lengths(np.array([10, 1, 3, 3, 7, 2]))
    codes = huffman.canonical_codes(lengths)
    words = [format(int(c), f"0{int(l)}b") for c, l in zip(codes, lengths)]
    assert all(not b.startswith(a) for a in words for b in words if a is not b)


def test_long_stream_spanning_several_chunks():
    rng = np.random.default_rng(0)
    symbols = np.minimum(rng.geometric(0.2, size=300_000) - 1, 31)
    lengths = huffman.code_lengths(np.bincount(symbols, minlength=32))
    assert np.array_equal(huffman.decode(huffman.encode(symbols, lengths), lengths, symbols.size), symbols)


def test_truncated_or_overlong_streams_are_rejected():
    symbols, _, lengths, data = roundtrip([0, 1, 2, 3, 4, 5, 6, 7] * 8)
    with pytest.raises(ValueError, match="truncated"):
        huffman.decode(data[:-2], lengths, symbols.size)
    with pytest.raises(ValueError, match="padding"):
        huffman.decode(data + b"\x00\x00", lengths, symbols.size)


def test_bad_arguments_name_the_argument():
    with pytest.raises(TypeError, match="counts"):
        huffman.code_lengths(np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match="counts"):
        huffman.code_lengths(np.array([3, -1]))
    with pytest.raises(ValueError, match="lengths"):
        huffman.encode([0], np.array([1, 1, 1]))  # Kraft sum 3/2
    with pytest.raises(ValueError, match="symbols"):
        huffman.encode([5], np.array([1, 1]))
    with pytest.raises(ValueError, match="n must"):
        huffman.decode(b"", np.array([1, 1]), -1)
    with pytest.raises(TypeError, match="data"):
        huffman.decode("0101", np.array([1, 1]), 1)
