"""Checks for the exercises of notebook 06 (HRank)."""
import torch

from . import exercise, expect, passed
from ..pruning import feature_map_ranks


def _maps_of_rank(ranks, h, w, gen):
    """One (h, w) map per entry of ``ranks``, each a sum of r random rank-one maps: (len(ranks), h, w)."""
    return torch.stack([sum((torch.randn(h, 1, generator=gen) @ torch.randn(1, w, generator=gen) for _ in range(r)),
                            torch.zeros(h, w)) for r in ranks])


@exercise
def check_map_rank(map_rank):
    """``map_rank(m)``: one (h, w) map -> its rank, an int."""
    gen = torch.Generator().manual_seed(3)
    for (h, w), ranks in (((9, 6), (0, 1, 3, 6)), ((5, 12), (2, 5)), ((1, 1), (0, 1))):
        for r, m in zip(ranks, _maps_of_rank(ranks, h, w, gen)):
            got = map_rank(m.clone())
            expect(isinstance(got, int) or (isinstance(got, torch.Tensor) and got.numel() == 1),
                   f"map_rank must return one number, got {got!r}")
            expect(int(got) == r, f"a {h} x {w} map built from {r} rank-one maps has rank {r}, got {int(got)}"
                   + (" (an all-zero map has rank 0)" if r == 0 else ""))
    small = 1e-6 * _maps_of_rank((3,), 8, 8, gen)[0]
    expect(int(map_rank(small)) == 3, "the tolerance is relative to the largest singular value: a rank-3 map "
           "scaled by 1e-6 still has rank 3")
    noisy = _maps_of_rank((2,), 8, 8, gen)[0] + 1e-9 * _maps_of_rank((8,), 8, 8, gen)[0]
    expect(int(map_rank(noisy)) == 2, "singular values below the tolerance must not count: a rank-2 map plus "
           "1e-9 noise has numerical rank 2")
    passed("map_rank counts the singular values above the tolerance")


@exercise
def check_mean_rank(mean_rank):
    """``mean_rank(maps)``: (N, C, h, w) maps of one layer -> (C,) mean rank per filter."""
    gen = torch.Generator().manual_seed(4)
    ranks = torch.randint(0, 5, (6, 3), generator=gen)
    maps = _maps_of_rank(ranks.flatten().tolist(), 7, 5, gen).view(6, 3, 7, 5)
    got = mean_rank(maps.clone())
    expect(isinstance(got, torch.Tensor) and got.shape == (3,),
           f"mean_rank on (6, 3, 7, 5) maps must return a tensor of shape (3,), one score per filter, "
           f"got {getattr(got, 'shape', got)}")
    expect(torch.allclose(got.double(), ranks.double().mean(0)),
           f"each filter's score is the mean over the N images of its maps' ranks: want "
           f"{ranks.double().mean(0).tolist()}, got {got.tolist()}")
    expect(torch.equal(feature_map_ranks(maps), ranks), "the test maps themselves are wrong")  # guards the check
    passed("mean_rank gives HRank's score of every filter from one batch of maps")


@exercise
def check_best_rank_r(best_rank_r):
    """``best_rank_r(m, r)``: (h, w) map -> its best approximation of rank r, (h, w)."""
    gen = torch.Generator().manual_seed(5)
    m = torch.randn(8, 6, generator=gen, dtype=torch.float64)
    s = torch.linalg.svdvals(m)
    for r in (1, 3, 6):
        got = best_rank_r(m.clone(), r)
        expect(isinstance(got, torch.Tensor) and got.shape == m.shape,
               f"best_rank_r must return a map of the input's shape {tuple(m.shape)}, got {getattr(got, 'shape', got)}")
        got = got.double()
        expect(int(torch.linalg.matrix_rank(got)) == r, f"the approximation for r = {r} must have rank {r}")
        expect(abs(float(torch.linalg.norm(m - got)) - float(s[r:].norm())) < 1e-6,
               f"the best rank-{r} approximation leaves an error of sqrt(sum of the squared singular values "
               f"after the {r} largest) = {float(s[r:].norm()):.4f}; yours leaves {float(torch.linalg.norm(m - got)):.4f}")
    passed("best_rank_r keeps the largest singular terms (Eckart-Young)")
