"""Argument and input-shape checks shared by the model builders."""
import torch

from ..validate import positive_int  # noqa: F401  (re-exported for the model builders)


def check_input(x, model, channels, size=None, min_size=None):
    """Raise ``ValueError`` unless ``x`` is (N, channels, H, W) with H = W = ``size`` or H, W >= ``min_size``."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{model} expects a torch.Tensor input, got {type(x).__name__}")
    ok = x.dim() == 4 and x.shape[1] == channels
    if size is not None:
        ok = ok and x.shape[2] == x.shape[3] == size
        wanted = f"(N, {channels}, {size}, {size})"
    else:
        ok = ok and min(x.shape[2:]) >= min_size
        wanted = f"(N, {channels}, H, W) with H, W >= {min_size}"
    if not ok:
        raise ValueError(f"{model} expects input of shape {wanted}, got {tuple(x.shape)}")
