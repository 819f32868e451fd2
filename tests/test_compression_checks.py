"""The exercise checks of notebook 08 accept right answers and reject wrong ones with a message."""
import numpy as np
import pytest
import torch

from course_lib.checks import nb08
from course_lib.compression import codec, huffman, quantize, sparse


def test_checks_accept_the_library_answers(capsys):
    nb08.check_relative_indices(sparse.encode_relative)
    nb08.check_code_lengths(huffman.code_lengths)
    nb08.check_linear_init(lambda values, k: quantize.init_centroids(values, k, "linear"))
    nb08.check_filler_bits(filler_bits)
    assert capsys.readouterr().out.count("✓") == 4


def filler_bits(shared, bits, count_index_codes=True):
    """A right answer, written differently: per filler, its two code lengths from the codec's tables."""
    w_sym, d_sym = codec.layer_streams(shared, bits)
    w_len = huffman.code_lengths(np.bincount(w_sym, minlength=shared.codebook.numel()))
    d_len = huffman.code_lengths(np.bincount(d_sym, minlength=2 ** bits))
    return sum(int(w_len[w]) + int(d_len[d]) * count_index_codes for w, d in zip(w_sym, d_sym) if w == 0)


def test_filler_cost_without_the_index_codes_is_rejected():
    with pytest.raises(AssertionError, match="filler zeros"):
        nb08.check_filler_bits(lambda shared, bits: filler_bits(shared, bits, count_index_codes=False))


def test_relative_indices_without_fillers_is_rejected():
    def no_fillers(row, bits):
        pos = np.flatnonzero(row)
        return row[pos], np.diff(pos, prepend=-1)

    with pytest.raises(AssertionError, match="filler"):
        nb08.check_relative_indices(no_fillers)


def test_suboptimal_code_lengths_are_rejected():
    def fixed_length(counts):
        return np.where(np.asarray(counts) > 0, int(np.ceil(np.log2(max(2, (np.asarray(counts) > 0).sum())))), 0)

    with pytest.raises(AssertionError, match="prefix code|Huffman"):
        nb08.check_code_lengths(fixed_length)


def test_quantile_init_is_not_linear():
    with pytest.raises(AssertionError, match="evenly spaced"):
        nb08.check_linear_init(lambda values, k: torch.quantile(values, torch.linspace(0, 1, k)))


def test_checks_do_not_let_the_answer_change_their_inputs():
    def mutating(row, bits):
        row[:] = 0  # a wrong answer that empties its input must not pass by comparing with itself
        return sparse.encode_relative(row, bits)

    with pytest.raises(AssertionError):
        nb08.check_relative_indices(mutating)
