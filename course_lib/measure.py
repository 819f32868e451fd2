"""Measuring a model: parameters, MACs/FLOPs and connections per layer, bytes on disk, CPU latency,
and checkpoints that are written atomically and loaded safely.

Counting conventions used in every table of the course:
MACs = multiply-accumulates of conv and linear layers for ONE input image;
FLOPs = 2 x MACs, which is what ``torch.utils.flop_counter.FlopCounterMode`` reports;
bytes = the length of the real serialized ``state_dict`` file.
"""
import io
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

from . import config
from .validate import check_model, check_shape, eval_mode, int_in, positive_int
from .files import atomic_write

POOLS = (nn.MaxPool2d, nn.AvgPool2d)


class CheckpointError(ValueError):
    """A checkpoint file exists but cannot be read as a state_dict."""


def count_params(model):
    """Number of parameters (trainable or not) of ``model``."""
    check_model(model)
    return sum(p.numel() for p in model.parameters())


def module_macs(module, inp, out):
    """Multiply-accumulates of one Conv2d / Linear call, per image (batch of 1)."""
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        return out[0].numel() * (module.in_channels // module.groups) * kh * kw
    return out[0].numel() * module.in_features


def _connections(module, inp, out):
    """Connections per image as LeCun et al. count them: each output unit's inputs plus its bias."""
    bias = int(getattr(module, "bias", None) is not None)
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        return out[0].numel() * ((module.in_channels // module.groups) * kh * kw + bias)
    if isinstance(module, nn.Linear):
        return out[0].numel() * (module.in_features + bias)
    if isinstance(module, POOLS):
        k = module.kernel_size
        return out[0].numel() * (k * k if isinstance(k, int) else k[0] * k[1])
    if hasattr(module, "connections"):
        return module.connections(out)
    return 0


def _rows(model):
    """(name, module) of the table's rows: leaf modules, or modules marked ``is_layer``,
    keeping only those with parameters, MACs or connections (no activations, flatten, dropout)."""
    rows, inside = [], ()
    for name, m in model.named_modules():
        if inside and name.startswith(inside):
            continue
        is_leaf = next(m.children(), None) is None
        if getattr(m, "is_layer", False) or (is_leaf and name):
            inside = name + "."
            counted = isinstance(m, (nn.Conv2d, nn.Linear) + POOLS) or hasattr(m, "connections")
            if counted or any(True for _ in m.parameters()):
                rows.append((name, m))
    return rows


def _zeros_like_input(model, shape):
    """One all-zero input of ``shape`` on the device of ``model``'s parameters (CPU if it has none)."""
    param = next(model.parameters(), None)
    return torch.zeros(1, *shape, device=param.device if param is not None else "cpu")


def layer_table(model, input_shape):
    """Per-layer table of ``model`` for one input of ``input_shape`` (C, H, W) or (features,).

    Columns: layer (qualified name), type, output (shape without batch), params, MACs,
    FLOPs (= 2 MACs), connections. Rows in forward order; the model runs once in eval mode.
    """
    check_model(model)
    shape = check_shape(input_shape)
    macs, seen, hooks = {}, {}, []
    rows = dict(_rows(model))

    def record(mod, inp, out, name):  # a forward hook must return None, or it replaces the output
        if isinstance(mod, (nn.Conv2d, nn.Linear)):
            macs[name] = macs.get(name, 0) + module_macs(mod, inp, out)
        if name in rows and name not in seen:
            seen[name] = (tuple(out.shape[1:]), _connections(mod, inp, out))

    for name, m in model.named_modules():
        if name in rows or isinstance(m, (nn.Conv2d, nn.Linear)):
            hooks.append(m.register_forward_hook(lambda mod, i, o, name=name: record(mod, i, o, name)))
    try:
        with eval_mode(model), torch.no_grad():
            model(_zeros_like_input(model, shape))
    finally:
        for h in hooks:
            h.remove()
    records = []
    for name, (out_shape, conns) in seen.items():
        m = rows[name]
        row_macs = sum(v for k, v in macs.items() if k == name or k.startswith(name + "."))
        records.append({"layer": name, "type": type(m).__name__, "output": out_shape,
                        "params": count_params(m), "MACs": row_macs, "FLOPs": 2 * row_macs,
                        "connections": conns})
    return pd.DataFrame.from_records(records)


def flop_counter(model, input_shape):
    """FLOPs of one forward pass of one input, by ``FlopCounterMode``: ``(total, {module: flops})``."""
    check_model(model)
    shape = check_shape(input_shape)
    counter = FlopCounterMode(display=False)
    with eval_mode(model), torch.no_grad(), counter:
        model(_zeros_like_input(model, shape))
    root = type(model).__name__  # the counter names modules "<root class>.<qualified name>"
    per_module = {name.removeprefix(root + "."): sum(ops.values())
                  for name, ops in counter.get_flop_counts().items() if name not in ("Global", root)}
    return counter.get_total_flops(), per_module


class _ByteCounter(io.RawIOBase):
    """A write-only stream that counts the bytes written to it and keeps none of them."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def writable(self):
        return True

    def write(self, b):
        self.count += len(b)
        return len(b)


def state_dict_bytes(model):
    """Bytes of ``model.state_dict()`` serialized with ``torch.save`` (the size of its file),
    counted as they are written, so a 500 MB network costs no 500 MB buffer."""
    check_model(model)
    counter = _ByteCounter()
    torch.save(model.state_dict(), counter)
    return counter.count


@dataclass(frozen=True)
class Result:
    """What every method of the course returns, so that one function compares them all
    (:func:`course_lib.pruning.compare`).

    ``model``: the network the method produced; ``history``: a DataFrame, one row per step (None
    for a one-shot method); ``kept``: what stayed, a plan ``{layer: sorted indices of the
    original units kept}`` or keep-masks ``{layer: bool tensor of the weight's shape}`` (None when
    nothing was removed); ``file_bytes``: the bytes of the network's real stored file, by default
    its ``torch.save``'d state dict (:func:`state_dict_bytes`); a method with its own format
    (Deep Compression's ``codec.save``, later ONNX or int8) passes that file's size.
    """
    model: nn.Module
    history: pd.DataFrame = None
    kept: dict = None
    file_bytes: int = None

    def __post_init__(self):
        check_model(self.model)
        if self.history is not None and not isinstance(self.history, pd.DataFrame):
            raise TypeError(f"history must be a DataFrame or None, got {type(self.history).__name__}")
        if self.kept is not None and not isinstance(self.kept, dict):
            raise TypeError(f"kept must be a dict {{layer: indices or mask}} or None, got {type(self.kept).__name__}")
        if self.file_bytes is None:
            object.__setattr__(self, "file_bytes", state_dict_bytes(self.model))  # frozen: set once, here
        positive_int(self.file_bytes, "file_bytes")


def summary(model, input_shape):
    """Deterministic size figures of ``model``: params, MACs, FLOPs (one input) and state_dict bytes."""
    table = layer_table(model, input_shape)
    return {"params": count_params(model), "MACs": int(table["MACs"].sum()),
            "FLOPs": int(table["FLOPs"].sum()), "bytes": state_dict_bytes(model)}


def latency(model, input_shape, batch_size=1, repeats=50, warmup=10, threads=None):
    """CPU latency of ``model`` on a batch of ``batch_size`` inputs of ``input_shape``.

    Warm-up calls first, then the median (and quartiles) of ``repeats`` timed calls, in ms.
    ``threads`` sets torch's intra-op threads for the measurement (default: torch's current).
    Returns ``{"median_ms", "q1_ms", "q3_ms", "threads", "batch_size"}``. The fast development run
    (:func:`course_lib.config.fast_dev_run`) times one call on at most ``FAST_DEV_BATCH_SIZE`` inputs.
    """
    check_model(model)
    shape = check_shape(input_shape)
    if any(p.device.type != "cpu" for p in model.parameters()):
        raise ValueError("model: latency measures the CPU; move a copy there first "
                         "(copy.deepcopy(model).cpu())")
    positive_int(batch_size, "batch_size")
    positive_int(repeats, "repeats")
    int_in(warmup, "warmup", 0)
    old_threads = torch.get_num_threads()
    if threads is not None:
        positive_int(threads, "threads")
        torch.set_num_threads(threads)
    if config.fast_dev_run():  # timed once, on a small batch: the code path, not the figure
        repeats, warmup, batch_size = 1, 0, min(batch_size, config.FAST_DEV_BATCH_SIZE)
    x = torch.randn(batch_size, *shape)
    times = []
    try:
        with eval_mode(model), torch.inference_mode():
            for i in range(warmup + repeats):
                start = time.perf_counter()
                model(x)
                if i >= warmup:
                    times.append((time.perf_counter() - start) * 1e3)
        used = torch.get_num_threads()
    finally:
        torch.set_num_threads(old_threads)
    q1, median, q3 = torch.tensor(times).quantile(torch.tensor([0.25, 0.5, 0.75])).tolist()
    return {"median_ms": median, "q1_ms": q1, "q3_ms": q3, "threads": used, "batch_size": batch_size}


def save_checkpoint(model_or_state, path):
    """Write a state_dict (or a model's) to ``path`` atomically: a half-written file never
    replaces a good one. Returns the file size in bytes."""
    state = model_or_state.state_dict() if isinstance(model_or_state, nn.Module) else model_or_state
    if not isinstance(state, dict):
        raise TypeError(f"model_or_state must be an nn.Module or a state_dict, got {type(model_or_state).__name__}")
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return atomic_write(path, buffer.getvalue())


def load_checkpoint(path):
    """Load a state_dict saved by :func:`save_checkpoint` with ``weights_only=True``.

    Raises ``FileNotFoundError`` when missing and :class:`CheckpointError` when unreadable;
    the file is left as it is.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several types for truncated or foreign files
        raise CheckpointError(f"checkpoint {path} is unreadable ({type(err).__name__}); "
                              "delete it and re-run to rebuild it") from err
    if not isinstance(state, dict):
        raise CheckpointError(f"checkpoint {path} does not hold a state_dict")
    return state
