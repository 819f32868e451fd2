"""BatchNorm statistics after surgery.

Removing filters of one layer changes what the next layer computes, so the running mean and
variance its BatchNorm stored during training no longer describe its output: the pruned network
normalises with stale statistics and can fall to chance before any retraining. Re-estimating the
statistics on training images (no gradient, no weight changes) repairs much of that.
"""
import itertools

import torch

from .. import config
from ..validate import check_model, eval_mode
from .surgery import NORMS


def recalibrate_bn(model, loader, device=None):
    """Re-estimate the running mean and variance of every BatchNorm of ``model`` in place.

    ``loader`` yields ``(x, y)`` batches (e.g. the training split); each BatchNorm's statistics
    become the average over all of them. Weights, biases and the other layers are unchanged, and
    so is ``model``'s train/eval mode. Returns ``model``.
    """
    check_model(model)
    norms = [m for m in model.modules() if isinstance(m, NORMS) and m.track_running_stats]
    if not norms:
        raise ValueError("model has no BatchNorm with running statistics to recalibrate")
    batches = iter(config.limit(loader))
    first = next(batches, None)
    if first is None:  # checked before the statistics are reset, so a failed call changes nothing
        raise ValueError("loader must yield at least one batch")
    device = device or config.device()
    momenta = [m.momentum for m in norms]
    # dropout and the rest stay in inference mode; only the BatchNorms collect statistics
    with eval_mode(model), torch.no_grad():
        for m in norms:
            m.reset_running_stats()
            m.momentum = None  # None: a cumulative average over all batches, not an exponential one
            m.train()
        try:
            for x, _ in itertools.chain([first], batches):
                model(x.to(device))
        finally:
            for m, momentum in zip(norms, momenta):
                m.momentum = momentum
    return model
