"""Throughput of the Deep Compression codec (course_lib.compression.codec).

    python tools/bench_codec.py            # LeNet-300-100 and a VGG-16 fc6-sized layer
    python tools/bench_codec.py --small    # a 1024 x 6272 stand-in (1/16 of fc6) instead

Prints encode and decode speed in MB/s of the fp32 weights they stand for (params x 4 bytes).
The weights are synthetic (Gaussian, pruned to 8 % and 5 % kept, quantized to 5 bits as fc layers
are): speed depends on sizes and densities, not on what the network learned.
"""
import argparse
import time

import torch
import torch.nn as nn

from course_lib.compression import codec, magnitude, quantize
from course_lib.models.lenet import LeNet300100


def prepared(model, quality):
    """``model`` with Gaussian weights, pruned at |w| > quality x std and quantized with the default
    bits. Returns ``(model, shared, fraction of weights kept)``."""
    torch.manual_seed(0)
    layers = magnitude.prunable_layers(model)
    with torch.no_grad():  # Gaussian, so that quality 1.75 keeps 8 % and 1.96 keeps 5 %
        for m in layers.values():
            m.weight.normal_(0, 0.01)
    masks = magnitude.magnitude_masks(model, quality)
    magnitude.apply_masks_(model, masks)
    return model, quantize.quantize_model(model), magnitude.density(masks)["total"]


def bench(title, model, shared, kept, repeats):
    mb = codec.fp32_bytes(model) / 1e6
    start = time.perf_counter()
    for _ in range(repeats):
        data = codec.encode_model(model, shared)
    enc = (time.perf_counter() - start) / repeats
    start = time.perf_counter()
    for _ in range(repeats):
        codec.decode_model(data, model)
    dec = (time.perf_counter() - start) / repeats
    print(f"{title + f' ({kept:.1%} kept)':<36} {mb:8.1f} MB fp32 -> {len(data) / 1e6:7.3f} MB   "
          f"encode {mb / enc:7.1f} MB/s ({enc:6.2f} s)   decode {mb / dec:7.1f} MB/s ({dec:6.2f} s)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="use a 1024 x 6272 stand-in for fc6")
    args = parser.parse_args()
    torch.set_num_threads(1)
    bench("LeNet-300-100", *prepared(LeNet300100(), 1.75), repeats=5)
    rows, cols = (1024, 6272) if args.small else (4096, 25088)
    bench(f"Linear {cols}->{rows}", *prepared(nn.Sequential(nn.Linear(cols, rows)), 1.96), repeats=1)

if __name__ == "__main__":
    main()
