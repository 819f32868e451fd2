"""Speed of the sensitivity analysis (course_lib.pruning.layer_sensitivity).

    python tools/bench_sensitivity.py

On the quick profile's trained course VGG-16, with notebook 03's sizes (250 validation digits,
two calibration batches of 128 training digits, nine ratios): for each conv layer, the seconds of
``layer_sensitivity``, which runs the layers before the pruned one once per layer, and of a plain
loop that runs every pruned copy from the input, their ratio, and whether the accuracies are
identical. The trained network comes from ``data/cache/`` (trained there once if missing).
"""
import time

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Subset

from course_lib import baselines, config, train
from course_lib.models.vgg import conv_names
from course_lib.pruning import Chain, l1_norm, layer_sensitivity, plan_smallest, prune, recalibrate_bn, trace
from course_lib.pruning.sensitivity import RATIOS


def from_the_input(model, loader, calibration, layer, shape):
    """Accuracy per ratio of RATIOS, each pruned copy run from the input (the layers before
    ``layer`` recomputed for every copy); the BatchNorms from ``layer`` on re-estimated on what the
    layers before feed them, as ``layer_sensitivity`` does."""
    position = [step.name for step in trace(model, shape)].index(layer)
    scores = l1_norm(model, [layer])
    accuracies = []
    for ratio in RATIOS:
        steps = trace(prune(model, plan_smallest(scores, ratio), shape), shape)
        before, rest = Chain(steps[:position]).eval(), Chain(steps[position:])
        with torch.no_grad():
            recalibrate_bn(rest, [(before(x), y) for x, y in calibration])
        accuracies.append(train.evaluate(nn.Sequential(before, rest), loader)["accuracy"])
    return accuracies


def main():
    threads = config.set_threads()
    loaders = baselines.course_loaders("quick")
    model, _ = baselines.course_vgg(loaders, "quick")
    shape = baselines.settings("quick")["shape"]
    val, train_set = loaders["val"].dataset, loaders["train"].dataset
    loader = DataLoader(Subset(val, torch.randperm(len(val), generator=torch.Generator().manual_seed(0))[:250].tolist()),
                        batch_size=250)
    calibration = list(DataLoader(Subset(train_set, list(range(256))), batch_size=128))
    names = conv_names(model)
    print(f"{threads} threads; {len(RATIOS)} ratios per layer, 250 digits evaluated, 256 for the BatchNorm statistics")
    print(f"{'layer':8} {'once per layer s':>17} {'from the input s':>17} {'ratio':>7}  identical accuracies")
    total = [0.0, 0.0]
    for layer in names:
        start = time.perf_counter()
        table = layer_sensitivity(model, loader, shape, layers=[layer], calibration_loader=calibration,
                                  calibration_batches=len(calibration))
        fast = time.perf_counter() - start
        start = time.perf_counter()
        plain = from_the_input(model, loader, calibration, layer, shape)
        slow = time.perf_counter() - start
        total = [total[0] + fast, total[1] + slow]
        print(f"{names[layer]:8} {fast:17.2f} {slow:17.2f} {slow / fast:6.2f}x  {table['accuracy'].tolist()[1:] == plain}")
    print(f"{'all':8} {total[0]:17.2f} {total[1]:17.2f} {total[1] / total[0]:6.2f}x")


if __name__ == "__main__":
    main()
