"""Q: trained quantization by k-means weight sharing (Han et al. 2016, Section 3).

Per layer, the surviving (non-zero) weights are clustered by 1-D k-means; every weight is then
replaced by its cluster's centroid and stored as a small index into the layer's codebook.
Index 0 is reserved for the value 0 (pruned positions and the sparse format's filler zeros), so
``bits`` bits leave 2^bits - 1 shared values. Fine-tuning builds each weight as
``codebook[indices]``: autograd then sums the gradients of all weights of a cluster into its
centroid -- the paper's grouped gradient.
"""
import copy
from dataclasses import dataclass

import torch
import torch.nn as nn
from torch.func import functional_call

from ..validate import int_in, positive_int
from .magnitude import bits_per_layer, prunable_layers

INITS = ("linear", "random", "density")


@dataclass
class SharedWeights:
    """One layer's quantized weight: ``codebook`` (k,) float32 with ``codebook[0] == 0`` and the
    rest sorted; ``indices`` int64 of the weight's shape, 0 at pruned positions; ``bits`` per index."""

    codebook: torch.Tensor
    indices: torch.Tensor
    bits: int

    def dense(self):
        """The weight tensor the layer computes with: ``codebook[indices]``."""
        return self.codebook[self.indices]


def init_centroids(values, k, init="linear", seed=0):
    """``k`` sorted starting centroids for 1-D ``values``: ``"linear"`` (evenly spaced over
    [min, max], the paper's choice), ``"random"`` (Forgy: k of the values drawn at random) or
    ``"density"`` (evenly spaced on the CDF: the values' quantiles)."""
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    if not isinstance(values, torch.Tensor) or values.dim() != 1 or values.numel() == 0:
        raise ValueError("values must be a non-empty 1-D tensor")
    positive_int(k, "k")
    if init == "linear":
        return torch.linspace(values.min().item(), values.max().item(), k)
    if init == "random":
        g = torch.Generator().manual_seed(seed)
        pick = (torch.randperm(values.numel(), generator=g)[:k] if values.numel() >= k
                else torch.randint(values.numel(), (k,), generator=g))
        return values[pick].sort().values
    ranks = torch.linspace(0, values.numel() - 1, k).round().long()
    return values.sort().values[ranks]


def assign(values, centroids):
    """Index of the nearest centroid (``centroids`` sorted ascending) for every value, int64."""
    if centroids.dim() != 1 or centroids.numel() == 0 or (centroids[1:] < centroids[:-1]).any():
        raise ValueError("centroids must be a non-empty 1-D tensor sorted ascending")
    midpoints = (centroids[1:] + centroids[:-1]) / 2
    return torch.searchsorted(midpoints, values.contiguous())


def kmeans_1d(values, k, init="linear", iters=50, seed=0):
    """Lloyd's k-means of 1-D float ``values`` into ``k`` clusters. Returns ``(centroids, labels)``:
    centroids (k,) sorted ascending, labels int64 of ``values``' shape. An empty cluster keeps
    its previous centroid."""
    if not isinstance(values, torch.Tensor) or not values.is_floating_point():
        raise TypeError(f"values must be a float tensor, got {type(values).__name__}")
    if values.numel() == 0:
        raise ValueError("values must not be empty")
    positive_int(k, "k")
    int_in(iters, "iters", 0)
    flat = values.detach().flatten()
    centroids = init_centroids(flat, k, init, seed)
    for _ in range(iters):
        labels = assign(flat, centroids)
        sums = torch.zeros(k, dtype=flat.dtype).index_add_(0, labels, flat)
        counts = torch.bincount(labels, minlength=k)
        new = torch.where(counts > 0, sums / counts.clamp(min=1), centroids).sort().values
        if torch.equal(new, centroids):
            break
        centroids = new
    return centroids, assign(flat, centroids).view(values.shape)


def quantize_weight(weight, bits, init="linear", seed=0):
    """k-means weight sharing of one layer's non-zero weights into at most 2^bits - 1 centroids
    (clusters left empty are dropped). Returns :class:`SharedWeights` on the CPU."""
    int_in(bits, "bits", 1, 16)
    w = weight.detach().float().cpu()  # 1-D k-means is cheap; the CPU keeps one code path
    alive = w != 0
    if not alive.any():
        return SharedWeights(torch.zeros(1), torch.zeros(w.shape, dtype=torch.int64), bits)
    centroids, labels = kmeans_1d(w[alive], (1 << bits) - 1, init, seed=seed)
    used = torch.unique(labels)  # sorted, so the codebook stays sorted
    remap = torch.zeros(centroids.numel(), dtype=torch.int64)
    remap[used] = torch.arange(1, used.numel() + 1)
    indices = torch.zeros(w.shape, dtype=torch.int64)
    indices[alive] = remap[labels]
    return SharedWeights(torch.cat([torch.zeros(1), centroids[used]]), indices, bits)


def quantize_model(model, bits=None, init="linear", seed=0):
    """``{layer name: SharedWeights}`` for every conv / linear weight of ``model``; ``bits`` as in
    :func:`course_lib.compression.magnitude.bits_per_layer` (default 8 for conv, 5 for fc)."""
    layers = prunable_layers(model)
    return {name: quantize_weight(layers[name].weight, b, init, seed)
            for name, b in bits_per_layer(model, bits).items()}


class SharedWeightModel(nn.Module):
    """``model`` whose conv / linear weights are ``codebook[indices]``; only the centroids train.

    ``codebook[0]`` stays 0 (it is a constant, not a parameter), so pruned weights stay pruned.
    Train it with :func:`course_lib.train.fit`; read the result with :meth:`shared` / :meth:`to_model`.
    """

    def __init__(self, model, shared):
        super().__init__()
        if not isinstance(shared, dict) or set(shared) != set(prunable_layers(model)):
            raise ValueError("shared must map every conv / linear layer name of model to SharedWeights")
        self.model = copy.deepcopy(model).requires_grad_(False)
        self.names = list(shared)
        self.bits = {name: s.bits for name, s in shared.items()}
        self.centroids = nn.ParameterList(nn.Parameter(shared[n].codebook[1:].clone()) for n in self.names)
        for i, name in enumerate(self.names):
            self.register_buffer(f"indices{i}", shared[name].indices.clone())

    def codebook(self, i):
        """Layer ``i``'s codebook: the constant 0 followed by its trainable centroids, shape (k,)."""
        c = self.centroids[i]
        return torch.cat([torch.zeros(1, dtype=c.dtype, device=c.device), c])

    def forward(self, x):
        weights = {f"{name}.weight": self.codebook(i)[getattr(self, f"indices{i}")]
                   for i, name in enumerate(self.names)}
        return functional_call(self.model, weights, (x,))

    def shared(self):
        """The current ``{layer name: SharedWeights}`` (fine-tuned codebooks), on the CPU."""
        return {name: SharedWeights(self.codebook(i).detach().cpu().clone(), getattr(self, f"indices{i}").cpu().clone(),
                                    self.bits[name]) for i, name in enumerate(self.names)}

    def to_model(self):
        """A plain copy of the model with its weights set to ``codebook[indices]``."""
        return with_shared_weights(self.model, self.shared())


def with_shared_weights(model, shared):
    """A copy of ``model`` whose conv / linear weights are ``shared[name].dense()``."""
    out = copy.deepcopy(model).requires_grad_(True)
    layers = prunable_layers(out)
    with torch.no_grad():
        for name, s in shared.items():
            if name not in layers or s.indices.shape != layers[name].weight.shape:
                raise ValueError(f"shared[{name!r}] does not match a conv / linear weight of model")
            layers[name].weight.copy_(s.dense())
    return out
