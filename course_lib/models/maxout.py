"""Maxout (Goodfellow et al. 2013) and the maxout networks of notebook 07 (Rueda et al. 2017).

A maxout unit outputs the maximum of its *pieces*, several linear neurons (conv filters or
fully connected rows) of the layer before it. The unit is a convex piecewise-linear function
of its input, learnt; a unit with one piece is a plain linear unit. Pruning removes pieces, so
units of one layer may end up with different piece counts: :class:`Maxout` allows that.
"""
import copy

import torch
import torch.nn as nn

from ..validate import int_in, positive_int
from ._checks import check_input


def _check_pieces(pieces):
    """``pieces`` as a tuple of positive ints, one per unit."""
    if isinstance(pieces, (str, bytes)) or not hasattr(pieces, "__iter__"):
        raise TypeError(f"pieces must be a sequence of piece counts, one per unit, got {pieces!r}")
    pieces = tuple(pieces)
    if not pieces or not all(isinstance(p, int) and not isinstance(p, bool) and p > 0 for p in pieces):
        raise ValueError(f"pieces must be a non-empty sequence of positive ints, got {pieces!r}")
    return pieces


class Maxout(nn.Module):
    """Maxout over consecutive channels: (N, C, ...) -> (N, U, ...), unit u the max of its pieces.

    ``pieces[u]`` is the number of input channels (neurons) of unit u; unit 0 takes the first
    ``pieces[0]`` channels, unit 1 the next ``pieces[1]``, and so on (C = sum(pieces)). Works on
    fully connected features (N, C) and on feature maps (N, C, H, W), where every position is its
    own competition. :meth:`equal` builds the usual layer of U units with k pieces each.
    The piece counts are attributes, not part of the ``state_dict``: rebuild a pruned network's
    layout before loading its weights.
    """

    def __init__(self, pieces):
        super().__init__()
        self.pieces = _check_pieces(pieces)
        self.register_buffer("index", self._index(self.pieces), persistent=False)

    @classmethod
    def equal(cls, channels, k):
        """``channels`` neurons in units of ``k`` consecutive pieces (k >= 2; channels divisible by k)."""
        positive_int(channels, "channels")
        int_in(k, "k (pieces per unit)", low=2)
        if channels % k:
            raise ValueError(f"channels ({channels}) must be divisible by k ({k}) for units of equal pieces")
        return cls([k] * (channels // k))

    @staticmethod
    def _index(pieces):
        """(U, max pieces) channel numbers of each unit's pieces, -1 where a unit has fewer."""
        index = torch.full((len(pieces), max(pieces)), -1, dtype=torch.int64)
        start = 0
        for u, p in enumerate(pieces):
            index[u, :p] = torch.arange(start, start + p)
            start += p
        return index

    @property
    def channels(self):
        return sum(self.pieces)

    @property
    def units(self):
        return len(self.pieces)

    def extra_repr(self):
        low, high = min(self.pieces), max(self.pieces)
        return f"units={self.units}, channels={self.channels}, pieces={low if low == high else f'{low}..{high}'}"

    def _gathered(self, x):
        """(N, U, max pieces, ...): each unit's pieces, -inf where it has fewer (never the max)."""
        if x.dim() < 2 or x.shape[1] != self.channels:
            raise ValueError(f"Maxout expects input (N, {self.channels}, ...), got {tuple(x.shape)}")
        index = self.index.to(x.device)
        if (index >= 0).all():  # every unit full: its pieces are consecutive channels, a reshape
            return x.unflatten(1, index.shape)
        never = x.new_full((x.shape[0], 1, *x.shape[2:]), float("-inf"))
        padded = torch.cat([x, never], dim=1)  # channel C is -inf; index -1 points there
        return padded[:, index.flatten() % (self.channels + 1)].unflatten(1, index.shape)

    def forward(self, x):
        return self._gathered(x).amax(dim=2)

    def wins(self, x):
        """(C,) how often each input channel is the maximum of its unit, summed over the batch
        and all positions (ties go to the first piece). ``x``: (N, C, ...), as for forward."""
        with torch.no_grad():
            best = self._gathered(x).argmax(dim=2)  # (N, U, ...): the winning slot of each unit
            unit = torch.arange(self.units, device=x.device).view(1, -1, *[1] * (best.dim() - 2))
            winner = self.index.to(x.device)[unit, best]  # (N, U, ...): the winning channel
            return torch.bincount(winner.flatten(), minlength=self.channels)

    def unit_of(self):
        """(C,) the unit each input channel is a piece of."""
        return torch.repeat_interleave(torch.arange(self.units), torch.tensor(self.pieces))

    def _check_channels(self, channels):
        """``channels`` as a 1-D CPU LongTensor of valid, distinct input channels."""
        if not isinstance(channels, torch.Tensor) or channels.dim() != 1 or channels.is_floating_point():
            raise TypeError(f"channels must be a 1-D tensor of channel indices, got {channels!r}")
        channels = channels.cpu().long()
        if ((channels < 0) | (channels >= self.channels)).any() or len(channels.unique()) != len(channels):
            raise ValueError(f"channels must be distinct indices in 0..{self.channels - 1}, got {channels.tolist()}")
        return channels

    def units_kept(self, channels):
        """The (sorted) units that keep at least one piece when only ``channels`` are kept."""
        return self.unit_of()[self._check_channels(channels)].unique()

    def keep_(self, channels):
        """Keep only the input channels ``channels`` (1-D tensor of at least one index), in place;
        units left without a piece disappear. Returns the (sorted) indices of the surviving units."""
        channels = self._check_channels(channels)
        if not len(channels):
            raise ValueError("channels: keep_ needs at least one channel to keep")
        if (self.index >= 0).sum(1).tolist() != list(self.pieces):  # some pieces were silenced
            raise ValueError("keep_ on a Maxout with silenced pieces (a masked copy): prune the original instead")
        counts = torch.bincount(self.unit_of()[channels], minlength=self.units)
        self.pieces = tuple(counts[counts > 0].tolist())
        self.index = self._index(self.pieces).to(self.index.device)
        return torch.nonzero(counts > 0).flatten()

    def silence_(self, channels):
        """Make the input channels ``channels`` never win (their pieces count as -inf), in place.
        The layer keeps its shape: what pruning those neurons computes, at full size."""
        channels = self._check_channels(channels)
        index = self.index.clone()
        index[torch.isin(index, channels.to(index.device))] = -1
        if (index < 0).all(dim=1).any():
            raise ValueError("silence_ would leave a unit without any piece; remove such units instead")
        self.index = index


def _per_layer(k, layers):
    """``k`` as a tuple of ``layers`` piece counts (an int applies to all)."""
    ks = (k,) * layers if isinstance(k, int) and not isinstance(k, bool) else k
    if not isinstance(ks, (tuple, list)) or len(ks) != layers:
        raise ValueError(f"k must be an int or {layers} ints, one per maxout layer, got {k!r}")
    return ks


class MaxoutLeNet5(nn.Module):
    """LeNet-5 (:class:`~course_lib.models.lenet.LeNet5`'s layout) with maxout units instead of
    ReLU: conv 6, conv 16, fc 120, fc 84 *units*, each of ``k`` pieces (an int, or one per layer),
    so the layer before a maxout has k times the neurons. (N, 1, 28, 28) -> logits (N, classes)."""

    def __init__(self, k=2, num_classes=10):
        super().__init__()
        k1, k2, k3, k4 = _per_layer(k, 4)
        self.features = nn.Sequential(
            nn.Conv2d(1, 6 * k1, 5, padding=2), Maxout.equal(6 * k1, k1), nn.MaxPool2d(2),
            nn.Conv2d(6, 16 * k2, 5), Maxout.equal(16 * k2, k2), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * 5 * 5, 120 * k3), Maxout.equal(120 * k3, k3),
            nn.Linear(120, 84 * k4), Maxout.equal(84 * k4, k4),
            nn.Linear(84, positive_int(num_classes, "num_classes")))

    def forward(self, x):
        check_input(x, "MaxoutLeNet5", channels=1, size=28)
        return self.classifier(self.features(x))


def maxout_head(in_features, hidden, num_classes, k=2, dropout=0.5):
    """A VGG classifier with maxout: Linear(in, hidden*k), Maxout, Dropout, Linear(hidden,
    hidden*k), Maxout, Dropout, Linear(hidden, num_classes); ``hidden`` units of ``k`` pieces."""
    hidden, k1, k2 = positive_int(hidden, "hidden"), *_per_layer(k, 2)
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    return nn.Sequential(
        nn.Linear(positive_int(in_features, "in_features"), hidden * k1), Maxout.equal(hidden * k1, k1),
        nn.Dropout(dropout), nn.Linear(hidden, hidden * k2), Maxout.equal(hidden * k2, k2), nn.Dropout(dropout),
        nn.Linear(hidden, positive_int(num_classes, "num_classes")))


def with_maxout_head(vgg, k=2, dropout=0.5):
    """A copy of the VGG ``vgg`` whose classifier is a :func:`maxout_head` of the same widths
    (fresh weights, to be trained); the convs keep theirs."""
    classifier = getattr(vgg, "classifier", None)
    linears = [m for m in classifier if isinstance(m, nn.Linear)] if isinstance(classifier, nn.Sequential) else []
    if len(linears) != 3:
        raise TypeError(f"vgg must be a VGG with three Linear layers in its classifier, got {type(vgg).__name__}")
    model = copy.deepcopy(vgg)
    model.classifier = maxout_head(linears[0].in_features, linears[0].out_features, linears[2].out_features, k,
                                   dropout)
    return model.to(linears[0].weight.device)
