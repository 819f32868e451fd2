"""Checks for the exercises of notebook 04 (Taylor pruning of a VGG-16 transfer model)."""
import torch
import torch.nn as nn

from . import exercise, expect, passed
from ..pruning import normalised, unit_flops


@exercise
def check_taylor_scores(taylor_scores):
    """``taylor_scores(a, g)``: Theta per channel of a batch, activations ``a`` and gradients
    ``g`` of shape (N, C, H, W): the mean over images of |mean over positions of a * g|."""
    gen = torch.Generator().manual_seed(4)
    for shape in ((3, 5, 4, 4), (1, 2, 3, 3), (6, 1, 2, 5)):
        a, g = torch.randn(shape, generator=gen), torch.randn(shape, generator=gen)
        want = (a * g).mean(dim=(2, 3)).abs().mean(0)
        got = taylor_scores(a.clone(), g.clone())
        expect(isinstance(got, torch.Tensor) and got.shape == want.shape,
               f"taylor_scores on tensors of shape {shape} must return a tensor of shape ({shape[1]},), "
               f"got {getattr(got, 'shape', got)}")
        expect(torch.allclose(got, want, atol=1e-6),
               f"taylor_scores on shape {shape} is wrong: average a * g over the positions of each map, "
               "take |.| per image, then average over the images")
    a = torch.ones(2, 1, 2, 2)
    g = torch.stack([torch.ones(1, 2, 2), -torch.ones(1, 2, 2)])  # two images whose terms cancel
    expect(torch.allclose(taylor_scores(a, g), torch.ones(1)),
           "two images with a * g = +1 and -1 everywhere must score 1, not 0: take |.| per image, "
           "before averaging over the images")
    passed("taylor_scores is Molchanov et al.'s |mean(a * dC/da)| per image, averaged")


@exercise
def check_l2_rescale(l2_rescale):
    """``l2_rescale(scores)``: each layer's scores divided by their Euclidean norm."""
    gen = torch.Generator().manual_seed(6)
    scores = {"features.0": torch.rand(8, generator=gen), "features.28": 1e-3 * torch.rand(64, generator=gen)}
    want = normalised(scores, "l2")
    got = l2_rescale({name: s.clone() for name, s in scores.items()})
    expect(isinstance(got, dict) and set(got) == set(scores), f"l2_rescale must return a dict with keys {list(scores)}")
    for name in scores:
        expect(torch.allclose(got[name], want[name], atol=1e-6),
               f"l2_rescale is wrong for {name!r}: divide by sqrt(sum of the layer's squared scores)")
    passed("l2_rescale makes every layer's scores unit-norm")


@exercise
def check_filter_flops(filter_flops):
    """``filter_flops(c_in, k, side, c_next, k_next, side_next)``: FLOPs (2 x MACs, one image)
    saved by removing one filter of a k x k conv c_in -> n on a side x side output map, feeding a
    k_next x k_next conv n -> c_next on a side_next x side_next output map."""
    for c_in, n, k, c_next, k_next, pool in ((3, 8, 3, 16, 3, False), (16, 4, 1, 5, 3, True), (2, 6, 5, 3, 1, False)):
        side = 8
        net = nn.Sequential(nn.Conv2d(c_in, n, k, padding=k // 2), nn.ReLU(), nn.MaxPool2d(2) if pool else nn.Identity(),
                            nn.Conv2d(n, c_next, k_next, padding=k_next // 2), nn.Flatten(),
                            nn.Linear(c_next * (side // 2 if pool else side) ** 2, 2))
        want = unit_flops(net, (c_in, side, side), ["0"])["0"]
        side_next = side // 2 if pool else side
        got = filter_flops(c_in, k, side, c_next, k_next, side_next)
        expect(got == want, f"filter_flops({c_in}, {k}, {side}, {c_next}, {k_next}, {side_next}) returned {got}, "
                            f"removing the filter saves {want:.0f}: its own MACs on every output position, plus "
                            "the next conv's MACs that read its map, times 2")
    passed("filter_flops agrees with unit_flops on three layer pairs")
