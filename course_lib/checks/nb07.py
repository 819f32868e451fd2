"""Checks for the exercises of notebook 07 (maxout neuron pruning)."""
import torch
import torch.nn as nn

from . import exercise, expect, passed


def _inputs(gen):
    """Test inputs with distinct values (no ties): fully connected (5, 12) and maps (3, 12, 4, 4)."""
    return [torch.randn(5, 12, generator=gen), torch.randn(3, 12, 4, 4, generator=gen)]


@exercise
def check_maxout(maxout):
    """``maxout(x, k)``: (N, C, ...) -> (N, C // k, ...), unit u the max of channels u*k .. u*k+k-1."""
    gen = torch.Generator().manual_seed(7)
    for x in _inputs(gen):
        for k in (2, 3, 4):
            got = maxout(x.clone(), k)
            want_shape = (x.shape[0], 12 // k, *x.shape[2:])
            expect(isinstance(got, torch.Tensor) and tuple(got.shape) == want_shape,
                   f"maxout of an input {tuple(x.shape)} with k = {k} must have shape {want_shape}, "
                   f"got {getattr(got, 'shape', got)}")
            want = torch.stack([x[:, u * k:(u + 1) * k].max(1).values for u in range(12 // k)], 1)
            expect(torch.equal(got, want), f"with k = {k}, unit u is the max of the k CONSECUTIVE channels "
                   "u*k .. u*k+k-1 (not of every (C/k)-th channel)")
    passed("maxout takes the max over each unit's k consecutive pieces")


@exercise
def check_win_counts(win_counts):
    """``win_counts(x, k)``: (N, C, ...) -> (C,) how often each channel is the max of its unit,
    over the images and positions of ``x``."""
    gen = torch.Generator().manual_seed(8)
    for x in _inputs(gen):
        for k in (2, 4):
            got = win_counts(x.clone(), k)
            expect(isinstance(got, torch.Tensor) and got.shape == (12,),
                   f"win_counts must return one count per channel, shape (12,), got {getattr(got, 'shape', got)}")
            slots = x.unflatten(1, (12 // k, k)).argmax(2)  # (N, U, ...) winning slot of each unit
            want = torch.stack([(slots[:, c // k] == c % k).sum() for c in range(12)])
            competitions = x.shape[0] * x[0, 0].numel() * (12 // k)
            expect(int(got.sum()) == competitions, f"every unit has one winner per image and position: the "
                   f"counts must add up to {competitions}, got {int(got.sum())}")
            expect(torch.equal(got.long(), want), f"with k = {k}, channel c wins when it is the largest of "
                   "its own unit's pieces at that image and position")
    passed("win_counts counts, per piece, the competitions of its unit that it wins")


@exercise
def check_relu_as_maxout(relu_as_maxout):
    """``relu_as_maxout(linear)``: a Linear(n, 1) -> an nn.Module computing relu(linear(x))
    as a Linear(n, 2) followed by a 2-piece maxout (one piece fixed at zero)."""
    gen = torch.Generator().manual_seed(9)
    linear = nn.Linear(6, 1)
    with torch.no_grad():
        linear.weight.copy_(torch.randn(1, 6, generator=gen))
        linear.bias.copy_(torch.randn(1, generator=gen))
    model = relu_as_maxout(linear)
    expect(isinstance(model, nn.Module), f"relu_as_maxout must return an nn.Module, got {type(model).__name__}")
    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    expect(len(layers) == 1 and layers[0].out_features == 2,
           "the module has one Linear with two outputs: the two pieces of the maxout unit")
    expect(not any(isinstance(m, (nn.ReLU, nn.Hardtanh)) for m in model.modules()),
           "no ReLU inside: the maximum of the two pieces is the nonlinearity")
    x = torch.randn(50, 6, generator=gen)
    with torch.no_grad():
        got, want = model(x), torch.relu(linear(x))
    expect(got.shape == want.shape, f"output shape must be {tuple(want.shape)}, got {tuple(got.shape)}")
    expect(torch.allclose(got, want, atol=1e-6), "relu(w.x + b) = max(w.x + b, 0): one piece is the linear "
           "unit itself, the other has zero weights and zero bias")
    passed("a ReLU is a maxout unit of two pieces, one of them fixed at zero")
