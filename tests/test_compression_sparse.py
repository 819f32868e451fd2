import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from course_lib.compression import sparse


def sparse_arrays():
    """Mostly-zero int arrays (1-D or 2-D), with long zero runs and all-zero rows."""
    shapes = hnp.array_shapes(min_dims=1, max_dims=2, min_side=0, max_side=300)
    return shapes.flatmap(lambda shape: hnp.arrays(
        np.int64, shape, elements=st.sampled_from([0] * 30 + [1, 2, 7, -3]), fill=st.just(0)))


@st.composite
def very_sparse_matrices(draw):
    """(rows, cols) int matrices with a handful of non-zeros: long zero runs and all-zero rows."""
    rows, cols = draw(st.integers(1, 40)), draw(st.integers(1, 300))
    dense = np.zeros((rows, cols), dtype=np.int64)
    for pos in draw(st.lists(st.integers(0, rows * cols - 1), max_size=8)):
        dense.flat[pos] = draw(st.integers(1, 31))
    return dense


@settings(max_examples=200, deadline=None)
@given(st.one_of(sparse_arrays(), very_sparse_matrices()), st.integers(1, 8))
def test_encode_decode_is_identity(dense, bits):
    values, diffs = sparse.encode_relative(dense, bits)
    assert diffs.size == 0 or (diffs.min() >= 1 and diffs.max() <= 2 ** bits)
    back = sparse.decode_relative(values, diffs, dense.size).reshape(dense.shape)
    assert np.array_equal(back, dense)
    # stored entries = non-zeros + fillers; a filler for every full span of 2^bits a jump skips
    jumps = np.diff(np.flatnonzero(dense.ravel()), prepend=-1)
    assert (values != 0).sum() == (dense != 0).sum()
    assert sparse.filler_count(values, diffs) == ((jumps - 1) // 2 ** bits).sum()


def test_paper_figure_example_with_fillers():
    # 3-bit relative indices reach 8 positions; the jump from 4 to 15 needs one filler at 12
    row = np.zeros(16)
    row[[1, 4, 15]] = [3.4, 0.9, 1.7]
    values, diffs = sparse.encode_relative(row, 3)
    assert values.tolist() == [3.4, 0.9, 0.0, 1.7]
    assert diffs.tolist() == [2, 3, 8, 3]
    assert sparse.filler_count(values, diffs) == 1


def test_long_zero_run_and_all_zero_matrix():
    row = np.zeros(1000, dtype=np.int64)
    row[999] = 5
    values, diffs = sparse.encode_relative(row, 2)  # 1000 positions / span 4 -> 249 fillers
    assert sparse.filler_count(values, diffs) == 249 and values[-1] == 5
    empty_v, empty_d = sparse.encode_relative(np.zeros((4, 6)), 5)
    assert empty_v.size == empty_d.size == 0
    assert not sparse.decode_relative(empty_v, empty_d, 24).any()


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="bits"):
        sparse.encode_relative(np.ones(3), 0)
    with pytest.raises(TypeError, match="dense"):
        sparse.encode_relative(np.array(["a"]), 3)
    with pytest.raises(ValueError, match="size"):
        sparse.decode_relative(np.array([1]), np.array([5]), 3)
    with pytest.raises(ValueError, match="diffs"):
        sparse.decode_relative(np.array([1]), np.array([0]), 3)
    with pytest.raises(ValueError, match="values and diffs"):
        sparse.filler_count(np.zeros(3), np.ones(2))
