# %% [markdown]
# # 02 · Compact architectures: SqueezeNet's Fire module, depthwise-separable convolution and ShuffleNet
#
# Pruning and quantization shrink a network after it is designed. The other route is to **design
# it small**: SqueezeNet (Iandola et al., *SqueezeNet: AlexNet-level accuracy with 50x fewer
# parameters and <0.5MB model size*, 2016) and MobileNet (Howard et al., *MobileNets: efficient
# convolutional neural networks for mobile vision applications*, 2017) replace the expensive
# $3\times3$ convolution by cheaper building blocks; ShuffleNet (Zhang et al. 2018) then makes
# MobileNet's $1\times1$ convolutions cheaper too. The papers argue with counts; we recompute
# every count from real modules, and then ask what the counts do *not* tell us: the time on a CPU.
#
# **Learning goals.** You can
# 1. state SqueezeNet's three design strategies and compute what each one saves;
# 2. rebuild SqueezeNet's per-layer table (and its Deep Compression columns) from a real module;
# 3. derive the cost ratio $1/N + 1/D_K^2$ of a depthwise-separable convolution and check it
#    against counted multiply-adds;
# 4. explain, with arithmetic intensity, why the measured speed-up is much smaller than that ratio;
# 5. derive the cost $hw(2cm/g + 9m)$ of ShuffleNet's unit (grouped $1\times1$ convolutions and a
#    channel shuffle), and explain why ShuffleNet v2 gave the groups up for measured speed;
# 6. compare a SqueezeNet-style, a MobileNet-style and a LeNet-5 network on accuracy, parameters
#    and latency.
#
# Counting conventions: **params** = all parameters (weights and biases); **MACs** (multiply-adds)
# = multiply-accumulates of conv and linear layers for one image; **FLOPs** = 2 × MACs, which is
# what PyTorch's `FlopCounterMode` reports.

# %%
import itertools
import math
import statistics
from fractions import Fraction

import matplotlib.pyplot as plt
import pandas as pd
import torch
import torch.nn as nn
import torchvision
from IPython.display import display

from course_lib import config, cost, data, measure, train, viz
from course_lib.checks import nb02
from course_lib.models.compact import (DEEP_COMPRESSION_DENSITY, SQUEEZENET_V10, DepthwiseSeparable, Fire,
                                       ShuffleUnit, channel_shuffle, mobilenet_v1, pruned_squeezenet_params,
                                       separable_conv, squeezenet, squeezenet_table)
from course_lib.models.lenet import LeNet5
from course_lib.notebook import show_source
from course_lib.widgets import separable_explorer

viz.use_style()  # one figure style for the whole course (course_lib.viz)
config.seed_everything(0);
THREADS = config.set_threads()  # COURSE_THREADS, default 2




# %% [markdown]
# ## 1. SqueezeNet's three strategies, with numbers
#
# A standard convolution with $M$ input channels, $N$ filters of size $D_K\times D_K$ and an
# output map of $D_F\times D_F$ has $D_K^2 M N$ weights and $D_K^2 M N D_F^2$ multiply-adds.
# SqueezeNet attacks each factor:
#
# 1. **Replace 3×3 filters by 1×1 filters**: $D_K^2$ drops from 9 to 1.
# 2. **Decrease the number of input channels to the 3×3 filters**: a 1×1 *squeeze* layer first
#    reduces $M$ to $s_{1\times1}$ channels.
# 3. **Downsample late**, so that most layers see large activation maps: this costs computation,
#    not parameters, and the paper bets it buys accuracy.
#
# Strategies 1 and 2 together are the **Fire module**: squeeze to $s_{1\times1}$ channels with
# 1×1 filters, then *expand* with $e_{1\times1}$ 1×1 filters and $e_{3\times3}$ 3×3 filters side by
# side, concatenated; the paper requires $s_{1\times1} < e_{1\times1} + e_{3\times3}$.

# %%
show_source(Fire)
show_source(cost.fire_params)

# %% [markdown]
# What each strategy saves, for SqueezeNet's fire4 (128 channels in, 256 out, a 55×55 map), all
# counts with biases:

# %%
m, n, d_f = 128, 256, 55
steps = pd.DataFrame([
    ("3x3 conv, 128 -> 256", cost.conv_params(m, n, 3, bias=True), cost.conv_macs(m, n, 3, d_f)),
    ("1. half of the filters 1x1", cost.conv_params(m, n // 2, 3, True) + cost.conv_params(m, n // 2, 1, True),
     cost.conv_macs(m, n // 2, 3, d_f) + cost.conv_macs(m, n // 2, 1, d_f)),
    ("1.+2. Fire(s1x1=32, e1x1=128, e3x3=128)", cost.fire_params(m, 32, 128, 128), cost.fire_macs(m, 32, 128, 128, d_f)),
], columns=["layer", "params", "MACs"])
steps["params saved"] = [f"{steps['params'][0] / p:.1f}x" for p in steps["params"]]
steps

# %% [markdown]
# Strategy 3 leaves the parameters alone but multiplies the work: the multiply-adds of the same
# Fire module grow with the area $D_F^2$ of its map (twice the side, four times the work).

# %%
for side in (55, 27, 13):
    print(f"fire4 on a {side}x{side} map: {cost.fire_params(m, 32, 128, 128):,} params, "
          f"{cost.fire_macs(m, 32, 128, 128, side):>11,} MACs")

# %% [markdown]
# ## 2. The SqueezeNet table, from the real module
#
# `squeezenet()` builds SqueezeNet v1.0 in torchvision's layout (conv1 96×7×7/2, maxpool1,
# fire2–4, maxpool4, fire5–8, maxpool8, fire9, conv10 1×1×1000, avgpool10). `squeezenet_table` runs
# one image through it and writes the paper's Table 1. We use the paper's 227×227 input (Caffe's
# crop), which gives its 111×111 conv1 output; with torchvision's usual 224×224 it would be 109×109.
# Parameters do not depend on the input size.

# %%
show_source(squeezenet_table)

# %%
ours = squeezenet(input_size=227)
table = squeezenet_table(ours)
table

# %% [markdown]
# The lecture's parameter column (the paper's Table 1), and torchvision's `squeezenet1_0` built
# with `weights=None` (nothing is downloaded) as an independent implementation, layer by layer:

# %%
lecture_params = {"conv1": 14_208, "fire2": 11_920, "fire3": 12_432, "fire4": 45_344, "fire5": 49_440,
                  "fire6": 104_880, "fire7": 111_024, "fire8": 188_992, "fire9": 197_184, "conv10": 513_000}
reference = torchvision.models.squeezenet1_0(weights=None)
module_of = {paper: name for name, paper in ours.paper_names.items()}
check = pd.DataFrame({"layer": list(lecture_params), "lecture": list(lecture_params.values())})
check["ours"] = [table.set_index("layer").loc[layer, "params"] for layer in check["layer"]]
check["torchvision"] = [measure.count_params(reference.get_submodule(module_of[layer])) for layer in check["layer"]]
assert (check["ours"] == check["lecture"]).all() and (check["ours"] == check["torchvision"]).all()
ours.load_state_dict(reference.state_dict())  # same names and shapes: the two are the same network
print(f"total: ours {table['params'].sum():,}, torchvision {measure.count_params(reference):,}, lecture 1,248,424")
check.set_index("layer").T

# %% [markdown]
# Where the parameters and the work go (MACs per layer, 227×227 input). The parameters grow towards
# the end — conv10 alone holds 41 % of them — but the work does not: fire4 on its 55×55 map costs as
# many multiply-adds as fire8 with four times its parameters on 27×27, and conv1 on 111×111 is the
# most expensive layer of all. That is the price of strategy 3.

# %%
work = measure.layer_table(ours, (3, 227, 227))
work["layer"] = work["layer"].map(ours.paper_names)
work = work[work["params"] > 0]
fig, axes = plt.subplots(1, 2, figsize=(11, 3.2))
axes[0].bar(work["layer"], work["params"] / 1e3, color="tab:blue")
axes[0].set_title("parameters (thousands)")
axes[1].bar(work["layer"], work["MACs"] / 1e6, color="tab:orange")
axes[1].set_title("multiply-adds per image (millions)")
for ax in axes:
    ax.tick_params(axis="x", rotation=60)
    ax.grid(axis="y", alpha=0.3)
plt.tight_layout()
plt.show()
print(f"SqueezeNet v1.0: {work['params'].sum():,} params, {work['MACs'].sum():,} MACs per 227x227 image")

# %% [markdown]
# ## 3. Deep Compression on SqueezeNet: the table's last columns
#
# The paper then compresses SqueezeNet with Deep Compression (notebook 08): magnitude pruning, then
# 6-bit weight sharing. Its "sparsity" columns give, per conv, the fraction of weights **kept**
# (100 % = dense); we store them as `DEEP_COMPRESSION_DENSITY`. Each conv keeps
# $\lceil \text{density} \times \text{weights} \rceil$ weights; biases are not pruned.

# %%
print("density kept (squeeze, expand1x1, expand3x3) or (conv,):")
for layer, density in DEEP_COMPRESSION_DENSITY.items():
    print(f"  {layer:>6}: {' / '.join(f'{d:.0%}' for d in density)}")
show_source(cost.pruned_params)

# %%
pruned = pruned_squeezenet_params(ours)
pruned["lecture"] = [14_208, 5_746, 6_258, 20_646, 24_742, 44_700, 46_236, 77_581, 77_581, 103_400]
pruned["kept"] = [f"{k / p:.1%}" for k, p in zip(pruned["params after pruning"], pruned["params"])]
assert pruned["params after pruning"].sum() == 421_098
print(f"total after pruning: ours {pruned['params after pruning'].sum():,}, lecture 421,098 "
      f"({pruned['params after pruning'].sum() / pruned['params'].sum():.1%} of {pruned['params'].sum():,})")
pruned

# %% [markdown]
# Every layer matches, but only with a precise reading of the table. Two readings that look just as
# plausible give other totals:

# %%
def total_kept(rounding, third):
    """Total params after pruning, keeping rounding(density x weights) weights per conv; `third`
    replaces the table's 0.33."""
    total = 0
    for name, paper in ours.paper_names.items():
        module = ours.get_submodule(name)
        convs = [module.squeeze, module.expand1x1, module.expand3x3] if isinstance(module, Fire) else [module]
        for density, conv in zip(DEEP_COMPRESSION_DENSITY.get(paper, ()), convs):
            d = third if density == 0.33 else Fraction(str(density))
            total += rounding(d * conv.weight.numel()) + conv.bias.numel()
    return total


readings = {"round up, 33 % = 0.33 (the table)": total_kept(math.ceil, Fraction(33, 100)),
            "round to nearest, 33 % = 0.33": total_kept(round, Fraction(33, 100)),
            "round up, 33 % = 1/3": total_kept(math.ceil, Fraction(1, 3))}
for reading, total in readings.items():
    print(f"{reading:>36}: {total:,} ({total - 421_098:+,})")

# %% [markdown]
# So the lecture's 421,098 counts 33 % as exactly 0.33 and rounds each layer's kept weights **up**;
# rounding to nearest (what `torch.nn.utils.prune` does with a fractional `amount`) loses a weight
# in four layers, and a true third would keep 856 more. A one-weight-per-layer difference is
# rounding; anything larger would be a wrong density.

# %% [markdown]
# ## 4. SqueezeNet against AlexNet: model sizes from counts and bit widths
#
# The paper's Table 2 compares model sizes. We recompute them: dense models store every parameter
# in 32 bits; a pruned and quantized model stores the kept weights in $b$ bits **plus** where they
# are. Deep Compression stores a relative index per kept weight (8 bits in conv layers), a small
# codebook per layer, and Huffman-codes both; without the real file we can only bracket its size:
# between "weights only" and "weights + 8-bit index". (MB = $10^6$ bytes; AlexNet is torchvision's
# single-GPU variant, built without weights; the paper's Caffe AlexNet has about the same 61 M.)

# %%
alexnet = measure.count_params(torchvision.models.alexnet(weights=None))
squeeze, kept = table["params"].sum(), pruned["params after pruning"].sum()


def megabytes(values, bits):
    return values * bits / 8 / 1e6


rows = [("AlexNet", "none", 32, megabytes(alexnet, 32), "", "240 MB", "1x"),
        ("SqueezeNet", "none", 32, megabytes(squeeze, 32), "", "4.8 MB", "50x"),
        ("SqueezeNet", "Deep Compression", 8, megabytes(kept, 8), f"{megabytes(kept, 8 + 8):.3f}", "0.66 MB", "363x"),
        ("SqueezeNet", "Deep Compression", 6, megabytes(kept, 6), f"{megabytes(kept, 6 + 8):.3f}", "0.47 MB", "510x")]
sizes = pd.DataFrame(rows, columns=["model", "compression", "bits", "MB (weights only)", "MB (+ 8-bit index)",
                                    "paper", "paper: smaller than AlexNet"])
sizes["ours: smaller than AlexNet"] = [f"{megabytes(alexnet, 32) / mb:.0f}x" for mb in sizes["MB (weights only)"]]
sizes.round(3)

# %% [markdown]
# * **Dense models**: AlexNet's 61.1 M parameters are 244 MB in float32 and SqueezeNet's 1.25 M are
#   4.99 MB: 48.9× smaller. The paper's two figures are in different units: its 240 MB is AlexNet's
#   244 MB rounded, but its 4.8 MB is SqueezeNet's 4.76 MiB ($2^{20}$ bytes), and their ratio is
#   its rounded "50×".
# * **Compressed**: the paper's 0.66 MB and 0.47 MB fall inside our brackets (0.42–0.84 MB and
#   0.32–0.74 MB): they are real files whose index overhead is partly removed by Huffman coding,
#   and they include codebooks. They imply about 12.5 and 8.9 bits per kept weight
#   ($0.66 \cdot 8 \cdot 10^6 / 421{,}098$). 363× and 510× are 240 MB divided by those file sizes.
#   Our "weights only" ratios are upper limits no real file reaches.

# %% [markdown]
# ## 5. Depthwise-separable convolution: the cost ratio
#
# MobileNet factors a standard convolution into a **depthwise** convolution — one $D_K\times D_K$
# filter per input channel, no mixing across channels — and a **pointwise** $1\times1$ convolution
# that mixes the $M$ channels into $N$. With stride 1 and "same" padding, on a $D_F\times D_F$ map:
#
# $$\underbrace{D_K\cdot D_K\cdot M\cdot N\cdot D_F\cdot D_F}_{\text{standard}}
#   \quad\text{vs}\quad
#   \underbrace{D_K\cdot D_K\cdot M\cdot D_F\cdot D_F}_{\text{depthwise}} +
#   \underbrace{M\cdot N\cdot D_F\cdot D_F}_{\text{pointwise}}$$
#
# and the ratio, after dividing numerator and denominator by $D_K^2 M N D_F^2$:
#
# $$\frac{D_K\cdot D_K\cdot M\cdot D_F\cdot D_F + M\cdot N\cdot D_F\cdot D_F}
#        {D_K\cdot D_K\cdot M\cdot N\cdot D_F\cdot D_F}
#   = \frac{D_K^2 M D_F^2}{D_K^2 M N D_F^2} + \frac{M N D_F^2}{D_K^2 M N D_F^2}
#   = \frac{1}{N} + \frac{1}{D_K^2}.$$
#
# $M$ and $D_F$ cancel; the same ratio holds for the weights (drop $D_F^2$). With $3\times3$ kernels
# and many output channels the separable block needs 8 to 9 times fewer multiply-adds.

# %%
show_source(separable_conv)
show_source(cost.separable_ratio)

# %% [markdown]
# We check the formula on a grid of shapes three ways: the closed form, our per-layer count
# (`measure.layer_table`, which counts each conv's MACs from its output shape), and PyTorch's
# `FlopCounterMode`, which counts the convolution calls themselves.

# %%
grid = []
for m, n, d_k, d_f in itertools.product((8, 64), (16, 256), (3, 5), (7, 28)):
    standard = nn.Sequential(nn.Conv2d(m, n, d_k, padding=d_k // 2, bias=False))  # layer_table lists children
    separable = separable_conv(m, n, d_k)
    counted = [measure.layer_table(mod, (m, d_f, d_f))["MACs"].sum() for mod in (standard, separable)]
    flops = [measure.flop_counter(mod, (m, d_f, d_f))[0] for mod in (standard, separable)]
    formula = cost.separable_ratio(n, d_k)
    assert counted == [cost.conv_macs(m, n, d_k, d_f), cost.separable_macs(m, n, d_k, d_f)]
    assert Fraction(counted[1], counted[0]) == Fraction(flops[1], flops[0]) == formula
    grid.append({"M": m, "N": n, "D_K": d_k, "D_F": d_f, "standard MACs": counted[0],
                 "separable MACs": counted[1], "1/N + 1/D_K^2": str(formula), "= 1 /": f"{float(1 / formula):.2f}"})
print(f"formula, our count and FlopCounterMode agree exactly on all {len(grid)} shapes")
pd.DataFrame(grid)

# %% [markdown]
# ### MobileNet-v1: the paper's headline contrast
#
# The paper's Table 4 compares MobileNet with the same network built from standard $3\times3$
# convolutions ("Conv MobileNet"). `mobilenet_v1(separable=False)` is that network.

# %%
show_source(mobilenet_v1)

# %%
paper = {True: (4.2, 569), False: (29.3, 4866)}
for separable in (True, False):
    model = mobilenet_v1(separable=separable)
    flops, _ = measure.flop_counter(model, (3, 224, 224))
    name = "MobileNet" if separable else "Conv MobileNet"
    print(f"{name:>14}: {measure.count_params(model):>10,} params ({measure.count_params(model) / 1e6:.1f} M, "
          f"paper {paper[separable][0]} M), {flops // 2:>13,} mult-adds ({flops / 2e6:,.0f} M, paper {paper[separable][1]:,} M)")

# %% [markdown]
# Both networks reproduce the paper. The one gap, 4,867 M against 4,866 M mult-adds (0.03 %), we
# cannot attribute: leaving out the fc layer's 1.0 M would explain it, but would also turn
# MobileNet's 569 M into 568 M. The whole network saves 8.6× mult-adds and 6.9× params
# — less than the per-layer $1/(1/N + 1/D_K^2) \approx 9$, because the first layer and the fc layer
# are not separable, and for parameters the fc layer (1.0 M of 4.2 M) is not touched at all.

# %% [markdown]
# ## 6. Measured: does the CPU see the counted saving?
#
# We time a standard $3\times3$ convolution against its depthwise and pointwise parts, one image,
# one thread (`measure.latency`: warm-up, then the median of repeated calls), for square layers
# ($M = N$) of several widths on several map sizes.

# %%
LAYERS = list(itertools.product((16, 64, 256), (7, 14, 28, 56)))  # (channels M = N, map side D_F)
KINDS = ("standard", "depthwise", "pointwise")
macs = {"standard": [cost.conv_macs(c, c, 3, s) for c, s in LAYERS],
        "depthwise": [cost.depthwise_macs(c, 3, s) for c, s in LAYERS],
        "pointwise": [cost.pointwise_macs(c, c, s) for c, s in LAYERS]}
theory = [float(1 / cost.separable_ratio(c, 3)) for c, _ in LAYERS]

# %%
# NBVAL_IGNORE_OUTPUT
ms = {kind: [] for kind in KINDS}
for c, side in LAYERS:
    convs = {"standard": nn.Conv2d(c, c, 3, padding=1, bias=False), **dict(separable_conv(c, c, 3).named_children())}
    for kind, conv in convs.items():
        ms[kind].append(measure.latency(conv, (c, side, side), repeats=15, warmup=3, threads=1)["median_ms"])
measured = [s / (d + p) for s, d, p in zip(ms["standard"], ms["depthwise"], ms["pointwise"])]
timing = pd.DataFrame({"channels": [c for c, _ in LAYERS], "side": [s for _, s in LAYERS],
                       **{f"{kind} ms": ms[kind] for kind in KINDS}, "theory": theory, "measured": measured})
timing.round(3)

# %% [markdown]
# Why? A convolution must at least read its input and weights and write its output once. Its
# **arithmetic intensity** — FLOPs per byte moved — decides whether the arithmetic units or the
# memory are the bottleneck. A standard $3\times3$ convolution reuses every input value $9N$
# times; a depthwise convolution only 9 times, so its intensity is below $2 \cdot 9 / (2 \cdot 4)$
# ≈ 2.25 FLOPs per float32 byte, whatever the width: it is **memory-bound**. Libraries also tune the
# standard convolution far more (it is a matrix multiplication; the depthwise one is not).

# %%
show_source(cost.depthwise_traffic)

# %%
traffic = {"standard": [cost.conv_traffic(c, c, 3, s) for c, s in LAYERS],
           "depthwise": [cost.depthwise_traffic(c, 3, s) for c, s in LAYERS],
           "pointwise": [cost.conv_traffic(c, c, 1, s) for c, s in LAYERS]}
intensity = {kind: [2 * m / t for m, t in zip(macs[kind], traffic[kind])] for kind in KINDS}
for kind in KINDS:
    print(f"{kind:>9}: {min(intensity[kind]):6.1f} to {max(intensity[kind]):6.1f} FLOPs per byte")

# %%
# NBVAL_IGNORE_OUTPUT
gflops = {kind: [2 * m / (t * 1e-3) / 1e9 for m, t in zip(macs[kind], ms[kind])] for kind in KINDS}
fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
ax = axes[0]
x = range(len(LAYERS))
ax.bar([i - 0.2 for i in x], theory, width=0.4, color="lightgrey", label="theory 1 / (1/N + 1/9)")
ax.bar([i + 0.2 for i in x], measured, width=0.4, color="tab:purple", label="measured (standard / separable)")
ax.axhline(1, color="black", lw=0.8)
ax.set_xticks(list(x), [f"{c}ch\n{s}x{s}" for c, s in LAYERS], fontsize=8)
ax.set_ylabel("speed-up of the separable block")
ax.set_title("fewer FLOPs, but how much faster?")
ax.legend(fontsize=8)
ax = axes[1]
for kind, color in zip(KINDS, ("tab:blue", "tab:red", "tab:green")):
    ax.scatter(intensity[kind], gflops[kind], color=color, label=kind, s=40)
ax.set_xscale("log"), ax.set_yscale("log")
ax.set_xlabel("arithmetic intensity (FLOPs per byte moved, at best)")
ax.set_ylabel("achieved GFLOP/s (one thread)")
ax.set_title("low intensity, low throughput")
ax.legend()
ax.grid(alpha=0.3, which="both")
plt.tight_layout()
plt.show()

# %%
shortfall = sorted(m / t for m, t in zip(measured, theory))
slower = sum(d < s for d, s in zip(gflops["depthwise"], gflops["standard"]))
assert shortfall[len(shortfall) // 2] < 0.8, shortfall
assert slower >= 0.75 * len(LAYERS), slower
print("the median measured speed-up stays well below the theoretical one, and in at least three quarters "
      "of the layers the depthwise convolution runs at a lower FLOP rate than the standard one")

# %% [markdown]
# What the plots show (your numbers will differ; the pattern does not):
#
# * The measured speed-up of the separable block is a fraction of $1/(1/N + 1/D_K^2)$, and for
#   narrow layers (16 channels) it can be **below 1**: fewer FLOPs, more time.
# * The depthwise convolution does only $9/(9+N)$ of the block's FLOPs (3 % for $N = 256$, 36 % for
#   $N = 16$) yet takes a large share of its time: per FLOP it runs several to tens of times
#   slower than the standard convolution (the GFLOP/s columns above). At low intensity the processor waits for memory, so the
#   FLOPs saved there save little time.
# * On small maps the depthwise convolution's time hardly depends on its size: a fixed cost per
#   call, which no FLOP count sees, dominates it.
# * The pointwise convolution is a plain matrix multiplication with intensity ~$N/4$: it runs
#   close to the standard convolution's rate per FLOP in the wide layers (64 channels and more),
#   well below it in the narrow ones.
#
# This is why MobileNet's paper reports that 95 % of its computation and 75 % of its parameters
# sit in the 1×1 convolutions, implemented as matrix multiplications — and why its later versions
# and their successors were tuned on measured latency, not on mult-adds.
#
# **Explore.** Choose a layer of your own below: the explorer counts both versions' multiply-adds
# with `course_lib.cost` and times both on this CPU every time a slider moves (one image, one
# thread, the median of 5 calls; wide layers on large maps take a second or two). Where does the
# measured speed-up come closest to the counted one: wide or narrow layers, large or small maps,
# a $3\times3$ or a $7\times7$ kernel? And where is the separable block *slower*? (Without a running
# kernel, e.g. on a static page or in a slide deck, you see the figure of the starting setting.)

# %%
separable_explorer(m=64, n=64, d_k=3, d_f=28)

# %% [markdown]
# ## 7. ShuffleNet: grouped 1×1 convolutions and a channel shuffle
#
# Sections 5 and 6 left almost all of a separable block's multiply-adds in its pointwise
# convolution: $N/(N + D_K^2)$ of them. ShuffleNet v1 (Zhang et al., *ShuffleNet: an extremely efficient
# convolutional neural network for mobile devices*, CVPR 2018) makes the $1\times1$ convolutions
# cheaper too, by **grouping** them. A convolution with $g$ groups splits its $M$ input and $N$
# output channels into $g$ groups and connects each output group only to its own input group: every
# output channel reads $M/g$ channels, so the weights and the multiply-adds per pixel fall from
# $M N$ to $M N / g$.
#
# Stack two grouped convolutions and output group $k$ sees input group $k$ only: the network falls
# apart into $g$ narrow networks that never exchange information. The **channel shuffle** mends
# this: write the $C$ channels as a $g \times C/g$ matrix (one row per group), transpose it, and
# read it out again; the next layer's groups then each hold channels from every group (once $C/g \ge g$).
# It moves data and computes nothing.

# %%
show_source(channel_shuffle)
labels = torch.arange(12).reshape(1, 12, 1, 1)  # 12 channels, channel i holds the number i
print("channels before the shuffle:", labels.flatten().tolist())
print("after channel_shuffle(x, 3): ", channel_shuffle(labels, 3).flatten().tolist())
assert torch.equal(channel_shuffle(labels, 3), nn.ChannelShuffle(3)(labels))  # PyTorch's operator agrees
print("FLOPs FlopCounterMode counts in a shuffle of 240 channels on a 28x28 map:",
      measure.flop_counter(nn.ChannelShuffle(3), (240, 28, 28))[0])

# %% [markdown]
# The **ShuffleNet unit** (the paper's Fig. 2b) is a bottleneck with a shortcut. On an $h\times w$ map
# with $c$ channels: a grouped $1\times1$ convolution to $m$ bottleneck channels (the paper takes
# $m = c/4$) with BN and ReLU, the shuffle, a $3\times3$ depthwise convolution with BN (no ReLU),
# a grouped $1\times1$ convolution back to $c$ channels with BN, the input added, ReLU. Counting
# as in section 5:
#
# $$hw\Big(\underbrace{\frac{c\,m}{g}}_{1\times1,\ \text{grouped}} + \underbrace{9m}_{\text{depthwise}}
#   + \underbrace{\frac{m\,c}{g}}_{1\times1,\ \text{grouped}}\Big) = hw\Big(\frac{2cm}{g} + 9m\Big),$$
#
# the paper's count (it calls multiply-adds FLOPs). The shuffle and the addition add no term.
# (To halve the map, the paper's Fig. 2c gives the depthwise convolution stride 2 and replaces the
# addition by concatenation with a $3\times3$ average pool of the input: `ShuffleUnit(..., stride=2)`.)

# %%
show_source(ShuffleUnit)
show_source(cost.shuffle_unit_macs)

# %% [markdown]
# We count the unit for $g = 1$ to $4$ with 240 channels on a 28×28 map, beside a MobileNet block
# (`DepthwiseSeparable`, depthwise $3\times3$ and pointwise $1\times1$, each with BN and ReLU) and
# torchvision's ShuffleNet v2 unit (below) of the same width: formula against `FlopCounterMode`.

# %%
CHANNELS, SIDE = 240, 28
v2_unit = torchvision.models.shufflenetv2.InvertedResidual(CHANNELS, CHANNELS, 1)
blocks = {"MobileNet block": DepthwiseSeparable(CHANNELS, CHANNELS),
          **{f"ShuffleNet v1 unit, g={g}": ShuffleUnit(CHANNELS, CHANNELS, groups=g) for g in (1, 2, 3, 4)},
          "ShuffleNet v2 unit": v2_unit}
half = CHANNELS // 2  # the v2 unit's branch: 1x1, 3x3 depthwise, 1x1 on half of the channels
formula = [cost.separable_macs(CHANNELS, CHANNELS, 3, SIDE),
           *(cost.shuffle_unit_macs(CHANNELS, CHANNELS // 4, g, SIDE) for g in (1, 2, 3, 4)),
           cost.pointwise_macs(half, half, SIDE) + cost.separable_macs(half, half, 3, SIDE)]
units = pd.DataFrame({"block": list(blocks), "params": [measure.count_params(b) for b in blocks.values()],
                      "MACs (formula)": formula,
                      "MACs (FlopCounterMode / 2)": [measure.flop_counter(b, (CHANNELS, SIDE, SIDE))[0] // 2
                                                     for b in blocks.values()]})
assert (units["MACs (formula)"] == units["MACs (FlopCounterMode / 2)"]).all()
units["MACs / MobileNet block's"] = (units["MACs (formula)"] / units["MACs (formula)"][0]).round(3)
units

# %% [markdown]
# Now the time: one image, one thread, the same `measure.latency` as in section 6, every block
# measured in five interleaved rounds (so that a busy moment of the machine slows all of them alike),
# the median of the rounds kept. Only ratios taken in this one run are compared.

# %%
# NBVAL_IGNORE_OUTPUT
unit_ms = {name: [] for name in blocks}
for _ in range(5):
    for name, block in blocks.items():
        unit_ms[name].append(measure.latency(block, (CHANNELS, SIDE, SIDE), repeats=10, warmup=2, threads=1)["median_ms"])
timed = units[["block", "MACs (formula)", "MACs / MobileNet block's"]].copy()
timed["ms"] = [statistics.median(unit_ms[name]) for name in blocks]
timed["time / MobileNet block's"] = timed["ms"] / timed["ms"][0]
timed["GMAC/s"] = timed["MACs (formula)"] / timed["ms"] / 1e6
fig, ax = plt.subplots(figsize=(9, 3.4))
x = range(len(timed))
ax.bar([i - 0.2 for i in x], timed["MACs / MobileNet block's"], width=0.4, color="lightgrey", label="multiply-adds")
ax.bar([i + 0.2 for i in x], timed["time / MobileNet block's"], width=0.4, color="tab:purple", label="measured time")
ax.axhline(1, color="black", lw=0.8)
ax.set_xticks(list(x), [name.replace("ShuffleNet ", "").replace(", ", "\n") for name in timed["block"]], fontsize=8)
ax.set_ylabel("relative to the MobileNet block")
ax.set_title(f"{CHANNELS} channels in and out, {SIDE}x{SIDE} map, one image, one thread")
ax.legend(fontsize=8, loc="upper center")
plt.tight_layout()
plt.show()
g3 = timed.set_index("block").loc["ShuffleNet v1 unit, g=3"]
fewer_macs, faster = 1 / g3["MACs / MobileNet block's"], 1 / g3["time / MobileNet block's"]
print(f"the v1 unit with g=3 does {fewer_macs:.1f}x fewer multiply-adds than the MobileNet block "
      f"and runs {faster:.1f}x faster on this CPU")
timed.round(3)

# %% [markdown]
# What to read in the table (your numbers will differ; compare the two ratio columns):
#
# * The multiply-adds fall with every step of $g$, the time far less: the GMAC/s column drops as
#   $g$ grows. A grouped $1\times1$ convolution is $g$ small matrix multiplications instead of one
#   large one, and it still reads and writes the whole input and output maps; fewer multiply-adds
#   per byte moved is the low arithmetic intensity of section 6 again.
# * The shuffle costs no multiply-adds, but it copies the bottleneck map once more, and the
#   addition and the ReLUs read and write maps too: time that no count sees.
# * The v2 unit does more multiply-adds than the v1 unit with $g = 3$, but runs them at a higher
#   rate: its $1\times1$ convolutions are dense and as wide in as out.

# %% [markdown]
# ### ShuffleNet v2: designed by measured speed
#
# Ma et al. (*ShuffleNet V2: practical guidelines for efficient CNN architecture design*, ECCV
# 2018) start from this section's observation: FLOPs are an *indirect* measure, and speed also
# depends on memory access cost and on how much of the work can run in parallel. They measured speed
# directly, on a GPU and an ARM phone processor, and derived four guidelines from controlled
# experiments:
#
# 1. equal channel width minimises memory access cost (for a given number of FLOPs, a $1\times1$
#    convolution moves the fewest bytes when its input and output are equally wide);
# 2. excessive group convolution increases memory access cost: the grouped $1\times1$ convolutions
#    of v1;
# 3. network fragmentation (many small operators and branches in a unit) reduces the degree of
#    parallelism;
# 4. element-wise operations (ReLU, additions, biases) are not negligible, although they count no FLOPs.
#
# The v2 unit follows them. A **channel split** sends half of the channels through unchanged and
# the other half through a dense (not grouped) $1\times1$ convolution, a $3\times3$ depthwise
# convolution and another $1\times1$ convolution, all of the same width; the halves are
# concatenated, not added, and then shuffled so that the next unit mixes them. (To halve the map,
# both branches read the whole input and the channels double.) v2 was chosen because it *ran*
# faster on the devices it targets, not because it counted fewer FLOPs: the course's lesson that
# counts are not time. torchvision's ShuffleNet v2 at width 1.0, built without weights (nothing is
# downloaded), beside MobileNet v1:

# %%
shufflenet_v2 = torchvision.models.shufflenet_v2_x1_0(weights=None)
mobilenet = mobilenet_v1()
counts = {name: (measure.count_params(model), measure.flop_counter(model, (3, 224, 224))[0] // 2)
          for name, model in (("ShuffleNet v2 1.0x", shufflenet_v2), ("MobileNet v1 1.0", mobilenet))}
for name, (params, mult_adds) in counts.items():
    print(f"{name:>18}: {params:>9,} params, {mult_adds:>11,} mult-adds per 224x224 image")
(v2_params, v2_macs), (v1_params, v1_macs) = counts.values()
print(f"ShuffleNet v2 has {v2_params / v1_params:.0%} of MobileNet v1's parameters "
      f"and {v2_macs / v1_macs:.0%} of its mult-adds")

# %% [markdown]
# The whole family shares one idea: separate the mixing of channels from the filtering in space.
# Xception (Chollet, *Xception: deep learning with depthwise separable convolutions*, CVPR 2017)
# takes it to the extreme: it reads an Inception module as a step between a regular convolution and
# a depthwise-separable one, and builds the whole network from depthwise-separable convolutions.

# %% [markdown]
# ## 8. Small compact networks on MNIST
#
# The same designs, scaled down, trained on the offline MNIST subset beside the modern LeNet-5 of
# notebook 01: a SqueezeNet v1.0 with the paper's layout at width 0.25 (conv1 keeps stride 2; we
# drop maxpool8, which would leave fire9 a 1×1 map on a 28-px input; no ReLU after conv10 — with only
# 10 classes and a 3×3 final map, a class whose conv10 output turns negative everywhere would get
# logit 0 and no gradient for good — try `final_relu=True`), and a MobileNet-v1 at width 0.5 with the first five depthwise-separable blocks (on a 28-px input
# the first conv keeps stride 1, so the first block takes the paper's second stride of 2). All
# three get 5 epochs; the epoch with the best validation accuracy is kept and evaluated on the test
# split. The recipes are not the same: LeNet-5 keeps the SGD recipe of notebook 01, the two compact
# networks train with Adam. So the accuracies compare network *and* recipe; what the table shows
# regardless of training are the parameter, MAC and latency columns.
#
# The two compact networks train with Adam and a one-epoch linear learning-rate **warmup**
# (`warmup=` optimizer steps in `train.fit`). Adam's first updates move every weight by about the
# learning rate, whatever its gradient. The thin SqueezeNet (fire9 squeezes to 16 channels, with
# no BatchNorm) can lose all of a squeeze layer's ReLUs in its first twenty steps that way: from
# then on nothing reaches conv10 and the network stays at chance (10 %) for good. It happens for
# some seeds and not others. Try `warmup=0` and `COURSE_SEED=1`.

# %%
loaders = data.mnist_loaders(batch_size=64)
adam = dict(lr=2e-3, optimizer="adam", warmup=len(loaders["train"]))  # warm up over the first epoch
no_maxpool8 = SQUEEZENET_V10[:9] + SQUEEZENET_V10[10:]  # a 28-px input is 3x3 there already
builders = {
    "LeNet-5 (modern)": (lambda: LeNet5(), dict(lr=0.05)),
    "SqueezeNet v1.0 x0.25": (lambda: squeezenet(num_classes=10, in_channels=1, input_size=28, width=0.25, dropout=0.0,
                                                 final_relu=False, stem_stride=2, cfg=no_maxpool8),
                              adam),
    "MobileNet-v1 x0.5, 5 blocks": (lambda: mobilenet_v1(num_classes=10, in_channels=1, input_size=28, alpha=0.5,
                                                         cfg=((64, 2), (128, 2), (128, 1), (256, 2), (256, 1))),
                                    adam),
}
models, histories = {}, {}
for name, (build, settings) in builders.items():
    data.reseed(loaders, 0)  # every model starts from the same seed and sees the same batches
    models[name] = build()
    histories[name] = train.fit(models[name], loaders["train"], loaders["val"], epochs=5, desc=name, **settings)
compact_sizes = pd.DataFrame([{"model": name, **measure.summary(m, (1, 28, 28))} for name, m in models.items()])
compact_sizes

# %%
# NBVAL_IGNORE_OUTPUT
results = compact_sizes[["model", "params", "MACs"]].copy()
results["test accuracy"] = [train.evaluate(model, loaders["test"])["accuracy"] for model in models.values()]
results["latency ms (1 image, 1 thread)"] = [measure.latency(model, (1, 28, 28), repeats=30, threads=1)["median_ms"]
                                             for model in models.values()]
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
for (_, r), color in zip(results.iterrows(), ("tab:blue", "tab:orange", "tab:green")):
    for ax, x in zip(axes, ("params", "latency ms (1 image, 1 thread)")):
        ax.scatter(r[x], r["test accuracy"], s=80, color=color, label=r["model"])
        ax.set_xlabel(x)
for ax in axes:
    ax.set_ylabel("test accuracy")
    ax.grid(alpha=0.3)
axes[0].legend(fontsize=8)
axes[0].set_title("accuracy vs parameters"), axes[1].set_title("accuracy vs measured latency")
plt.tight_layout()
plt.show()
results.round(4)

# %%
accuracy = dict(zip(results["model"], results["test accuracy"]))
latency_ms = dict(zip(results["model"], results["latency ms (1 image, 1 thread)"]))
assert accuracy["LeNet-5 (modern)"] >= 0.9, accuracy
assert all(acc >= 0.8 for acc in accuracy.values()), accuracy
assert accuracy["MobileNet-v1 x0.5, 5 blocks"] >= accuracy["LeNet-5 (modern)"] - 0.03, accuracy
assert latency_ms["MobileNet-v1 x0.5, 5 blocks"] > latency_ms["LeNet-5 (modern)"], latency_ms
print("all three above 80 % test accuracy (LeNet-5 above 90 %); the MobileNet-style network, with "
      "fewer parameters than LeNet-5, is within 3 points of its accuracy and slower")

# %% [markdown]
# Read the table with the counts, not just the accuracies (which move by a point or two between
# machines). LeNet-5 keeps 96 % of its parameters in its fully connected layers; both compact
# designs replace those by a global average pool, so the MobileNet-style network matches LeNet-5's
# accuracy to within a point or two with 40 % fewer parameters. But it is deeper, does 2.4× the multiply-adds and runs
# several times slower: many small layers, each with a fixed cost per call and a memory-bound
# depthwise half. The SqueezeNet at width 0.25 squeezes to only 4 channels in fire2 and trails after
# 5 epochs. On a network as small as LeNet-5 the compact designs save parameters, not time; they pay
# off where the papers used them, at ImageNet scale, where standard $3\times3$ convolutions with
# hundreds of channels dominate both the parameters and the work.

# %% [markdown]
# ## 9. The papers' numbers beside ours
#
# | quantity | paper | ours | gap |
# |---|---|---|---|
# | SqueezeNet v1.0 params | 1,248,424 | 1,248,424 (= torchvision) | none |
# | after Deep Compression pruning | 421,098 | 421,098 | none, with 33 % = 0.33 and rounding up |
# | SqueezeNet vs AlexNet size | 4.8 MB, 50× | 4.99 MB, 48.9× | MiB vs MB, rounded |
# | compressed SqueezeNet | 0.66 / 0.47 MB | 0.42–0.84 / 0.32–0.74 MB | real file vs bracket |
# | MobileNet params, mult-adds | 4.2 M, 569 M | 4.23 M, 569 M | none |
# | Conv MobileNet | 29.3 M, 4,866 M | 29.3 M, 4,867 M | rounding |
# | separable speed-up, one layer | $1/(1/N + 1/D_K^2)$ ≈ 8–9 | measured well below; can be < 1 for narrow layers | memory-bound depthwise conv |
# | ShuffleNet v1 unit, mult-adds | $hw(2cm/g + 9m)$ | = `FlopCounterMode` | none |

# %% [markdown]
# ## Exercises
#
# **1. Design a Fire module.** Map 64 channels to 128 on the same map size, at least half of the
# expand filters 3×3, with at most 5,000 parameters — and squeeze as *little* as the budget forces
# you to: the check fails if a squeeze layer with one more channel would still fit.

# %%
# BEGIN SOLUTION
design = Fire(64, 6, 64, 64)
# END SOLUTION
nb02.check_fire_design(design)

# %% [markdown]
# **2. When does depthwise-separable stop paying off?** Write `pays_off(n, d_k)`: `True` exactly
# when a depthwise-separable block needs fewer multiply-adds than the standard convolution with $N$
# output channels and $D_K\times D_K$ kernels it replaces. (Think about $N = 1$ and $D_K = 1$.)

# %%
def pays_off(n, d_k):
    # BEGIN SOLUTION
    return Fraction(1, n) + Fraction(1, d_k * d_k) < 1
    # END SOLUTION


nb02.check_pays_off(pays_off)

# %% [markdown]
# **3. MobileNet under a budget.** MobileNet scales with a width multiplier
# $\alpha \in \{1, 0.75, 0.5, 0.25\}$ and a resolution $\rho \in \{224, 192, 160, 128\}$ px; the cost
# scales roughly with $\alpha^2\rho^2$. Which pair gives the most mult-adds within 170 M? Use
# `mobilenet_v1` and `measure.flop_counter` (or the formulas of `course_lib.cost`).

# %%
# BEGIN SOLUTION
budget_macs = {}
for alpha, size in itertools.product((1.0, 0.75, 0.5, 0.25), (224, 192, 160, 128)):
    budget_macs[alpha, size] = measure.flop_counter(mobilenet_v1(alpha=alpha, input_size=size), (3, size, size))[0] // 2
alpha, size = max((k for k, v in budget_macs.items() if v <= 170_000_000), key=budget_macs.get)
# END SOLUTION
nb02.check_mobilenet_budget(alpha, size)

# %% [markdown]
# **4. (Think)** In section 6 the measured speed-up was lowest for narrow layers on small maps.
# Using the arithmetic intensities printed there, explain why fusing the depthwise and pointwise
# convolutions into one kernel (so that the intermediate map never leaves the cache) would help
# more than any further reduction of FLOPs.

# %% [markdown]
# <!-- BEGIN SOLUTION -->
# **Model answer (instructor version).** The depthwise convolution's intensity is below
# $2 \cdot 9 / (2 \cdot 4) \approx 2.25$ FLOPs per byte whatever the width (section 6): it waits for
# memory, so its time follows the bytes it moves, not its FLOPs. Unfused, the block moves the
# intermediate map twice: the depthwise convolution writes its $M \cdot D_F^2$ values and the pointwise
# convolution reads them back. With `cost.depthwise_traffic` and `cost.conv_traffic` ($M = N$, float32)
# the block's traffic is $4\,(4 M D_F^2 + 9M + M^2)$ bytes unfused and $4\,(2 M D_F^2 + 9M + M^2)$ fused.
# For a narrow layer ($M = 16$, $D_F = 7$: $4 M D_F^2 = 3{,}136$ against $M^2 + 9M = 400$) the maps are
# almost all of the traffic, so fusing nearly halves the bytes, while removing FLOPs saves no bytes
# at all. Fusing also makes one call of two: on small maps section 6 found a fixed cost per call
# that no FLOP count sees, and that cost is paid once instead of twice. For wide layers on small
# maps ($M = 256$, $D_F = 7$) the pointwise weights ($M^2$) dominate instead and fusing helps less,
# which matches the measurement: those layers were already closer to the theoretical speed-up.
# <!-- END SOLUTION -->
