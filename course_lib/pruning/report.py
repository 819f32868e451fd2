"""Before/after tables for pruned models: exact sizes, and CPU latency measured fairly."""
import copy

import pandas as pd

from .. import measure
from ..validate import check_model, positive_int


def _cpu_models(models):
    """``models`` checked, with a CPU copy of any model that lives elsewhere (e.g. on a GPU)."""
    if not isinstance(models, dict) or not models:
        raise TypeError("models must be a non-empty dict {label: nn.Module}")
    cpu = {}
    for label, m in models.items():
        check_model(m)
        on_cpu = all(t.device.type == "cpu" for t in list(m.parameters()) + list(m.buffers()))
        cpu[label] = m if on_cpu else copy.deepcopy(m).cpu()
    return cpu


def size_table(models, input_shape):
    """Params, FLOPs (= 2 MACs, one input) and state_dict bytes of each model of ``{label: model}``,
    with each column also as a percentage of the first model's. One row per label."""
    rows = {label: measure.summary(m, input_shape) for label, m in _cpu_models(models).items()}
    table = pd.DataFrame(rows).T[["params", "FLOPs", "bytes"]]
    for col in ("params", "FLOPs", "bytes"):
        table[f"{col} %"] = (100 * table[col] / table[col].iloc[0]).round(1)
    return table


def latency_table(models, input_shape, batch_sizes=(1, 64), rounds=5, repeats=15, warmup=3, threads=1,
                  spread=False):
    """Median CPU latency (ms) of each model of ``{label: model}`` per batch size.

    The models are timed in turn, ``rounds`` times over (so a burst of load on a shared machine
    hits all of them), and each keeps its best round's median of ``repeats`` calls (after
    ``warmup`` untimed calls), on ``threads`` intra-op threads. Models on a GPU are timed on a
    CPU copy. One row per label, one column per batch size; with ``spread=True`` also a column
    ``spread % (batch b)`` per batch size: (slowest - fastest round) / fastest round, in percent,
    the noise any difference between two rows has to beat.
    """
    models = _cpu_models(models)
    positive_int(rounds, "rounds")
    if isinstance(batch_sizes, int) or len(batch_sizes) == 0:
        raise ValueError(f"batch_sizes must be a non-empty sequence of positive ints, got {batch_sizes!r}")
    if not isinstance(spread, bool):
        raise TypeError(f"spread must be a bool, got {type(spread).__name__}")
    times = {}
    for _ in range(rounds):
        for b in batch_sizes:
            for label, m in models.items():
                times.setdefault((label, b), []).append(measure.latency(
                    m, input_shape, batch_size=b, repeats=repeats, warmup=warmup, threads=threads)["median_ms"])
    columns = {f"latency ms (batch {b})": {label: min(times[label, b]) for label in models} for b in batch_sizes}
    if spread:
        columns.update({f"spread % (batch {b})": {label: 100 * (max(times[label, b]) / min(times[label, b]) - 1)
                                                  for label in models} for b in batch_sizes})
    return pd.DataFrame(columns).round(3)
