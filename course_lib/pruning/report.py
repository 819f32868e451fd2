"""Before/after tables: exact sizes, CPU latency measured fairly, and :func:`compare`, the one
table every method of the course is reported in."""
import copy

import pandas as pd
import torch.nn as nn

from .. import config, measure, stats
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
    for _ in range(1 if config.fast_dev_run() else rounds):  # the fast development run: one round
        for b in batch_sizes:
            for label, m in models.items():
                times.setdefault((label, b), []).append(measure.latency(
                    m, input_shape, batch_size=b, repeats=repeats, warmup=warmup, threads=threads)["median_ms"])
    columns = {f"latency ms (batch {b})": {label: min(times[label, b]) for label in models} for b in batch_sizes}
    if spread:
        columns.update({f"spread % (batch {b})": {label: 100 * (max(times[label, b]) / min(times[label, b]) - 1)
                                                  for label in models} for b in batch_sizes})
    return pd.DataFrame(columns).round(3)


def compare(results, input_shape, loader=None, batch_sizes=(1, 64), rounds=5, threads=1, device=None):
    """One table for any set of methods, each measured the same way.

    ``results``: ``{label: Result or nn.Module}`` (:class:`course_lib.measure.Result`), the first
    the reference. One row per label: params, FLOPs (one input of ``input_shape``) and the bytes
    of the stored file (a Result's ``file_bytes``; for a bare module its ``torch.save``'d state
    dict), each also as % of the reference's; with ``loader`` (e.g. the test split) the accuracy
    (%) and, paired with the reference on the same images (:func:`course_lib.stats.paired_comparison`),
    the difference in pp with its 95 % interval and p-value; then the CPU latency by
    :func:`latency_table`'s protocol, per batch size the best round's median (ms), the spread of
    the rounds (%) and the speed-up over the reference, on ``threads`` threads; and the FLOPs
    reduction (the reference's FLOPs / the row's), the speed-up the FLOPs alone would predict.
    """
    if not isinstance(results, dict) or not results:
        raise TypeError("results must be a non-empty dict {label: Result or nn.Module}")
    runs = {}
    for label, run in results.items():
        if not isinstance(run, (measure.Result, nn.Module)):
            raise TypeError(f"results[{label!r}] must be a Result or an nn.Module, got {type(run).__name__}")
        runs[label] = run if isinstance(run, measure.Result) else measure.Result(run)
    models = _cpu_models({label: run.model for label, run in runs.items()})
    table = pd.DataFrame({label: {"params": measure.count_params(m),
                                  "FLOPs": measure.summary(m, input_shape)["FLOPs"],
                                  "file bytes": runs[label].file_bytes} for label, m in models.items()}).T
    for col in ("params", "FLOPs", "file bytes"):
        table[f"{col} %"] = (100 * table[col] / table[col].iloc[0]).round(1)
    if loader is not None:
        hits = {label: stats.correct(run.model, loader, device) for label, run in runs.items()}
        reference = next(iter(hits.values()))
        paired = {label: stats.paired_comparison(reference, h) for label, h in hits.items()}
        table["accuracy %"] = [100 * c["acc_b"] for c in paired.values()]
        for column, key in (("vs reference (pp)", "diff"), ("95 % CI low (pp)", "ci_low"),
                            ("95 % CI high (pp)", "ci_high")):
            table[column] = [round(100 * c[key], 2) for c in paired.values()]
        table["p"] = [c["p_value"] for c in paired.values()]
    table = table.join(latency_table(models, input_shape, batch_sizes, rounds=rounds, threads=threads, spread=True))
    for b in batch_sizes:
        table[f"speed-up (batch {b})"] = table[f"latency ms (batch {b})"].iloc[0] / table[f"latency ms (batch {b})"]
    table["FLOPs reduction"] = table["FLOPs"].iloc[0] / table["FLOPs"]
    return table
