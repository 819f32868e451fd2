"""Speed of HRank's batched feature-map ranks (course_lib.pruning.feature_map_ranks).

    python tools/bench_hrank.py

On the feature maps of every conv of the quick profile's trained course VGG-16 (after BatchNorm
and ReLU, one batch of 64 training digits): the seconds of one batched ``torch.linalg.matrix_rank``
call over all maps of a layer, of the reference implementation's loop with one call per map
(HRank's code loops over images and channels), their ratio, and whether the ranks are identical.
The trained network comes from ``data/cache/`` (trained there once if missing).
"""
import time

import torch
import torch.nn as nn

from course_lib import baselines, config
from course_lib.models.vgg import conv_names
from course_lib.pruning import feature_map_ranks, record


def per_map_loop(maps):
    """One rank per map, one call each, as HRank's code computes them: (N, C, H, W) -> (N, C)."""
    return torch.tensor([[torch.linalg.matrix_rank(maps[i, j]).item() for j in range(maps.shape[1])]
                         for i in range(maps.shape[0])])


def best_of(fn, repeats=3):
    """(fastest seconds of ``repeats`` calls, the last result)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def main():
    threads = config.set_threads()
    loaders = baselines.course_loaders("quick")
    model, _ = baselines.course_vgg(loaders, "quick")
    convs = [name for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    batch = [next(iter(torch.utils.data.DataLoader(loaders["train"].dataset, batch_size=64)))]
    maps = {}
    for name in convs:  # a reduce that keeps the maps and returns None, so record returns nothing
        record(model, batch, [name], lambda a, g, name=name: maps.__setitem__(name, a.clone()), tap="activation")
    names = conv_names(model)
    print(f"{threads} threads; maps after BatchNorm and ReLU of 64 training digits")
    print(f"{'layer':8} {'maps':>14} {'batched s':>10} {'per-map s':>10} {'ratio':>7}  identical ranks")
    for name in convs:
        a = maps[name]
        t_batched, fast = best_of(lambda: feature_map_ranks(a))
        t_loop, slow = best_of(lambda: per_map_loop(a), repeats=1)
        shape = f"{a.shape[0] * a.shape[1]} x {a.shape[2]}x{a.shape[3]}"
        print(f"{names[name]:8} {shape:>14} {t_batched:10.4f} {t_loop:10.3f} {t_loop / t_batched:6.1f}x  "
              f"{torch.equal(fast, slow)}")


if __name__ == "__main__":
    main()
