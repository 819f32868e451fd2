"""Speed of ThiNet's channel selection (course_lib.pruning.thinet) on layers of the course VGG.

    python tools/bench_thinet.py

For conv3_1 and conv4_1 of the quick profile's course VGG-16 (32 and 64 channels), 256 training
digits x 10 positions = 2,560 samples: the seconds to take the samples, of the vectorised greedy
search (``greedy_removal``) and of the same greedy search written as plain Python loops over
candidates and samples, their ratio, and whether both remove the channels in the same order.
The network is untrained (its weights do not change the amount of work).
"""
import time

import torch
from torch.utils.data import DataLoader, Subset

from course_lib import baselines, config
from course_lib.pruning import contributions, greedy_removal, rescale_weights

LAYERS = {"features.14": "conv3_1", "features.24": "conv4_1"}


def plain_greedy(rows):
    """Greedy removal with a Python loop over candidates and samples: ``rows`` is a list of n
    lists of C floats. Keeps the running sum of the removed set per sample, as the vectorised
    version does, so both do the same arithmetic."""
    n, c = len(rows), len(rows[0])
    running, left, order = [0.0] * n, set(range(c)), []
    for _ in range(c):
        best, best_cost = None, None
        for j in sorted(left):
            cost = 0.0
            for i in range(n):
                v = running[i] + rows[i][j]
                cost += v * v
            if best_cost is None or cost < best_cost:
                best, best_cost = j, cost
        left.remove(best)
        order.append(best)
        running = [running[i] + rows[i][best] for i in range(n)]
    return order


def seconds(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main():
    config.set_threads()
    model = baselines.make_course_vgg("quick").eval()
    train_set = baselines.course_loaders("quick")["train"].dataset
    images = torch.randperm(len(train_set), generator=config.generator(5))[:256].tolist()
    loader = DataLoader(Subset(train_set, images), batch_size=128)
    print(f"{'layer':8} {'channels':>8} {'samples':>8} {'sampling s':>10} {'vectorised s':>12} {'plain loop s':>12} "
          f"{'ratio':>8}  same order  least squares s")
    for name, label in LAYERS.items():
        t_sample, (x, _, _) = seconds(lambda: contributions(model, name, loader))
        t_fast, (order, _) = min((seconds(lambda: greedy_removal(x)) for _ in range(3)), key=lambda r: r[0])
        t_plain, plain = seconds(lambda: plain_greedy(x.tolist()))
        t_lstsq, _ = seconds(lambda: rescale_weights(x, order[x.shape[1] // 2:]))
        print(f"{label:8} {x.shape[1]:8d} {x.shape[0]:8d} {t_sample:10.3f} {t_fast:12.4f} {t_plain:12.2f} "
              f"{t_plain / t_fast:7.0f}x  {order.tolist() == plain!s:10}  {t_lstsq:.4f}")


if __name__ == "__main__":
    main()
