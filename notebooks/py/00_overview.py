# %% [markdown]
# # 00 · Why and how to make CNNs smaller and faster
#
# **Learning goals.** After this notebook you can
# 1. say why compression matters, with the sizes of the landmark ImageNet models;
# 2. find where a CNN keeps its parameters and where it spends its computation (VGG-16);
# 3. name the five families of methods and the three granularities of pruning;
# 4. measure a model the way the rest of the course does: accuracy, parameters, FLOPs, bytes on
#    disk and latency — and say why latency depends on the hardware;
# 5. run the generic *train → prune → fine-tune* loop.

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.utils.prune as prune
import torchvision
from IPython.display import display

import course_lib
from course_lib import config, data, measure, train, viz
from course_lib.models.lenet import LeNet300100
from course_lib.models.vgg import conv_names, vgg16
from course_lib.notebook import show_source

viz.use_style()  # one figure style for the whole course (course_lib.viz)
generator = config.seed_everything(0)  # seeds python, numpy and torch (shifted by COURSE_SEED)
THREADS = config.set_threads()  # COURSE_THREADS, default 2

# %% [markdown]
# ## 1. Why compress: the models grew faster than the devices
#
# The ImageNet winners of 2012–2015, as the lecture quotes them (parameters in millions, top-5
# error), beside what we **count** in torchvision's implementation of the same architecture. The
# top-5 errors are those of the ILSVRC results the papers report, and those were **ensembles**
# (AlexNet: 5 networks; VGG: 7; GoogLeNet: 7, with many crops per image; ResNet: several depths),
# while the MACs count *one* network on *one* crop: read the error as what the architecture family
# reached, not as what one forward pass buys. MACs are multiply-accumulates of conv and linear layers
# for one 224×224 image; FLOPs = 2 × MACs. (Building four ImageNet models with random weights takes a
# few seconds; nothing is downloaded.)

# %%
quoted = pd.DataFrame([
    ("AlexNet", 2012, 8, 60.0, 16.4),
    ("VGG-16", 2014, 16, 138.0, 7.3),
    ("GoogLeNet", 2014, 22, 6.8, 6.7),
    ("ResNet-152", 2015, 152, 19.4, 3.57),
], columns=["model", "year", "layers", "params quoted (M)", "top-5 error (%), ensemble"])
builders = {
    "AlexNet": torchvision.models.alexnet,
    "VGG-16": torchvision.models.vgg16,
    "GoogLeNet": lambda: torchvision.models.googlenet(aux_logits=False, init_weights=False),
    "ResNet-152": torchvision.models.resnet152,
}
counted = {name: measure.layer_table(build(), (3, 224, 224)) for name, build in builders.items()}
quoted["params counted (M)"] = [round(counted[m]["params"].sum() / 1e6, 1) for m in quoted["model"]]
quoted["GMACs counted"] = [round(counted[m]["MACs"].sum() / 1e9, 2) for m in quoted["model"]]
quoted["MB as fp32 (4 B/param)"] = (4 * quoted["params counted (M)"]).round(1)
quoted

# %% [markdown]
# Three lessons hide in this table.
#
# * **Accuracy came with size and compute**: VGG-16 needs 15.5 G multiply-accumulates per image and
#   553 MB of weights — far beyond what a phone can afford per frame, or keep in its on-chip memory.
# * **Size is not compute**: GoogLeNet has 20× fewer parameters than VGG-16 but needs a tenth of
#   its MACs, not a twentieth; ResNet-152 is about as large as AlexNet but needs 16× its MACs.
# * **Check the numbers you quote.** The lecture's 19.4 M for ResNet-152 does not match the
#   architecture: torchvision's ResNet-152 counts 60.2 M, the figure the ResNet authors' own models
#   have. Every number in this course is computed, so such slips show up.

# %%
fig, ax = plt.subplots(figsize=(7, 4.2))
for _, row in quoted.iterrows():
    ax.scatter(row["GMACs counted"], row["top-5 error (%), ensemble"], s=row["params counted (M)"] * 8,
               alpha=0.5, edgecolor="k")
    ax.annotate(f"{row['model']} ({row['year']})\n{row['params counted (M)']:.0f} M params",
                (row["GMACs counted"], row["top-5 error (%), ensemble"]), textcoords="offset points",
                xytext=(8, 6), fontsize=9)
ax.set_xscale("log")
ax.set_xlabel("GMACs per 224×224 image (log scale)")
ax.set_ylabel("ImageNet top-5 error (%), ILSVRC ensemble")
ax.set_title("Landmark CNNs: bubble area = parameters")
ax.set_xlim(0.3, 60)
ax.set_ylim(0, 20)
ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# ## 2. Where VGG-16 keeps its parameters, and where it spends its time
#
# `course_lib.measure.layer_table` runs a model once and returns, per layer, the output shape,
# the parameters, the MACs and FLOPs (our own formulas, checked against
# `torch.utils.flop_counter.FlopCounterMode` in the tests) and the connections.
# For a convolution with $C_\text{in}$ inputs, $C_\text{out}$ filters of size $k\times k$ and an
# output of $H\times W$:
#
# $$\text{params} = (C_\text{in} k^2 + 1)\,C_\text{out}, \qquad
#   \text{MACs} = C_\text{in} k^2 \cdot C_\text{out} H W .$$
#
# A convolution reuses each weight at every one of its $HW$ output positions; a fully connected
# layer uses each weight once per image. That is the whole story of the next table.

# %%
show_source(measure.module_macs)

# %%
vgg = vgg16()  # random weights: the counts depend on the shapes only
table = measure.layer_table(vgg, (3, 224, 224))
table = table[table["type"].isin(["Conv2d", "Linear"])].reset_index(drop=True)
table["params %"] = (100 * table["params"] / table["params"].sum()).round(2)
table["FLOPs %"] = (100 * table["FLOPs"] / table["FLOPs"].sum()).round(2)
table[["layer", "type", "output", "params", "MACs", "params %", "FLOPs %"]]

# %%
by_type = table.groupby("type")[["params", "MACs"]].sum()
share = (100 * by_type / by_type.sum()).round(1)
print(f"VGG-16: {table['params'].sum():,} parameters, {table['MACs'].sum():,} MACs per image")
for kind in ("Conv2d", "Linear"):
    print(f"{kind:>7}: {share.loc[kind, 'params']:5.1f} % of the parameters, {share.loc[kind, 'MACs']:5.1f} % of the MACs")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), sharey=True)
fc_layers = [name for name in table["layer"] if name.startswith("classifier")]
names = conv_names(vgg) | {name: f"fc{6 + i}" for i, name in enumerate(fc_layers)}  # the paper's names
labels = [names[name] for name in table["layer"]]
colors = ["tab:blue" if t == "Conv2d" else "tab:orange" for t in table["type"]]
axes[0].barh(labels, table["params"] / 1e6, color=colors)
axes[0].set_xlabel("parameters (M)")
axes[1].barh(labels, table["MACs"] / 1e9, color=colors)
axes[1].set_xlabel("GMACs per image")
axes[0].invert_yaxis()
fig.suptitle("VGG-16: the fully connected layers hold the weights, the convolutions do the work")
plt.tight_layout()
plt.show()

# %% [markdown]
# So the two goals pull in different directions: to make the **file** smaller, compress the fully
# connected layers (Deep Compression, notebook 08; low-rank factorization, notebook 12); to make it
# **faster**, remove work from the convolutions (filter pruning: the L1 norm in notebook 03, the
# Taylor criterion in notebook 04, ThiNet and HRank in notebooks 05–06). Maxout neuron pruning
# (notebook 07) thins the fully connected layers, so it shrinks the file and leaves most of the
# work where it was.

# %% [markdown]
# ## 3. A map of the methods
#
# | family | idea | what shrinks | notebooks |
# |---|---|---|---|
# | **pruning** | remove weights, filters or layers that matter least | params; FLOPs and latency if the pruning is structured | 03–10 |
# | **quantization** | fewer bits per weight, shared weights (codebooks), entropy coding, int8 arithmetic | bytes; latency in an engine with int8 kernels | 08, 14 |
# | **low-rank factorization** | replace a weight matrix/tensor by a product of thin ones | params and FLOPs | 12 |
# | **knowledge distillation** | train a small student on a large teacher's soft outputs | everything — you pick the student | 13 |
# | **compact design** | build small from the start: 1×1 squeezes, depthwise-separable convs | everything | 02 |
#
# Layer merging (folding BatchNorm into the convolution, notebook 11) removes work without
# changing the function at all. Notebook 15 puts every method on one baseline, measured the same
# way. The course map at the end says which of these notebooks this copy of the course has.

# %% [markdown]
# ### Granularity of pruning
# What is removed decides whether anything gets faster:
#
# * **connection** (single weights): highest sparsity for the same accuracy, but the tensor keeps its
#   shape — only a sparse format or sparse hardware turns zeros into savings;
# * **neuron / filter / channel**: whole rows of the weight matrix go, the layer becomes a smaller
#   dense layer — faster on any hardware;
# * **layer**: whole layers go (or merge), the network gets shallower.

# %%
weights = torch.randn(8, 12, generator=torch.Generator().manual_seed(1))
connection = weights.abs() > weights.abs().quantile(0.6)
neuron = (weights.abs().sum(1, keepdim=True) > weights.abs().sum(1).quantile(0.6)).expand_as(weights)
layer = torch.zeros_like(weights, dtype=torch.bool)
fig, axes = plt.subplots(1, 4, figsize=(12, 2.6))
for ax, (title, keep) in zip(axes, [("dense layer", torch.ones_like(connection)), ("connection pruning", connection),
                                    ("neuron (row) pruning", neuron), ("layer pruning", layer)]):
    image = ax.imshow(torch.where(keep, weights, torch.nan), cmap="coolwarm", vmin=-2.5, vmax=2.5)
    ax.set_title(f"{title}\n{int(keep.sum())} of {keep.numel()} weights kept", fontsize=10)
    ax.set_xticks([]), ax.set_yticks([])
    ax.set_xlabel("inputs"), ax.set_ylabel("neurons")
    if not keep.any():  # nothing left to draw: say what happened instead of an empty frame
        ax.set_facecolor("0.92")
        ax.text(5.5, 3.5, "the whole layer is gone:\nthe next layer reads\nthe previous one's output",
                ha="center", va="center", fontsize=9)
plt.tight_layout()
fig.colorbar(image, ax=axes.tolist(), fraction=0.015, pad=0.01, label="weight (blank cells: removed)")
plt.show()

# %% [markdown]
# ## 4. How we measure: five numbers, and one depends on the machine
#
# `measure.summary` returns the deterministic numbers (parameters, MACs, FLOPs, bytes of the
# serialized `state_dict`); `measure.latency` times the model on this CPU (warm-up calls, then the
# median of repeated calls). Latency depends on the hardware, the number of threads, the batch size
# and the library — so we always report it beside FLOPs, never instead of them.

# %%
mlp = LeNet300100()
print(measure.summary(mlp, (1, 28, 28)))

# %%
# NBVAL_IGNORE_OUTPUT
timings = {threads: measure.latency(mlp, (1, 28, 28), batch_size=64, threads=threads) for threads in (1, 2)}
for threads, t in timings.items():
    print(f"LeNet-300-100, batch 64, {threads} thread(s): median {t['median_ms']:.3f} ms "
          f"(quartiles {t['q1_ms']:.3f}–{t['q3_ms']:.3f} ms)")

# %% [markdown]
# Compare the two lines on your machine. On an idle 2-core machine two threads are usually faster
# than one even for this tiny network; if another program keeps a core busy, two threads can be many
# times *slower*, because they must wait for each other at every operation. A latency figure means
# nothing without the machine, the threads and the batch size next to it.

# %%
assert all(0 < t["median_ms"] < 1000 for t in timings.values())
print("latency measured with 1 and 2 threads")

# %% [markdown]
# ## 5. The generic loop: train → prune → fine-tune
#
# Almost every method in this course has the same skeleton: train a model, remove what matters
# least by some **criterion**, and fine-tune so the rest of the network compensates (often
# iterated). Here is the loop on LeNet-300-100 with the simplest criterion, weight magnitude, using
# PyTorch's masks (`torch.nn.utils.prune`). Watch the last line: masks zero 90 % of the weights but
# the file does **not** shrink — the zeros are still stored, plus a mask. Turning zeros into savings
# is what the rest of the course is about.

# %%
loaders = data.mnist_loaders(batch_size=64)
model = LeNet300100()
history = train.fit(model, loaders["train"], loaders["val"], epochs=6, lr=0.05)
trained = train.evaluate(model, loaders["test"])["accuracy"]
bytes_before = measure.state_dict_bytes(model)

linears = [(m, "weight") for m in model.modules() if isinstance(m, nn.Linear)]
prune.global_unstructured(linears, prune.L1Unstructured, amount=0.9)
pruned = train.evaluate(model, loaders["test"])["accuracy"]
train.fine_tune(model, loaders["train"], loaders["val"], epochs=3, lr=0.01)
tuned = train.evaluate(model, loaders["test"])["accuracy"]
zeros = sum(int((m.weight == 0).sum()) for m, _ in linears) / sum(m.weight.numel() for m, _ in linears)

# %%
# NBVAL_IGNORE_OUTPUT
print(f"trained: {trained:.1%}   pruned 90 % of weights: {pruned:.1%}   fine-tuned: {tuned:.1%} (test accuracy)")
print(f"zero weights: {zeros:.1%}; state_dict bytes {bytes_before:,} -> {measure.state_dict_bytes(model):,}")

# %%
assert trained > 0.9 and tuned > 0.9 and tuned >= pruned - 0.01, (trained, pruned, tuned)
assert abs(zeros - 0.9) < 0.001
assert measure.state_dict_bytes(model) > bytes_before, "masks make the file bigger, not smaller"
print("the loop kept the accuracy above 90 %, and the masked file is larger than the dense one")

# %% [markdown]
# ## 6. Course map
#
# The notebooks of the course, and the file of each one this copy of it has (the rest are planned;
# the column is computed from the `notebooks/` folder, so it stays true as notebooks land):

# %%
COURSE = [("00", "overview", "why and how to compress; how we measure"),
          ("01", "LeNet-5 anatomy", "counting parameters, connections and FLOPs of a real network"),
          ("02", "compact architectures", "SqueezeNet's Fire module, depthwise-separable convolutions, ShuffleNet"),
          ("03", "L1-norm filter pruning", "Li et al. 2016: physical filter removal, sensitivity analysis"),
          ("04", "Taylor pruning", "Molchanov et al. 2016: VGG-16 cats vs dogs transfer model"),
          ("05", "ThiNet", "Luo et al. 2017: pruning by next-layer reconstruction"),
          ("06", "HRank", "Lin et al. 2020: rank of feature maps"),
          ("07", "maxout neuron pruning", "Rueda et al. 2017"),
          ("08", "Deep Compression", "Han et al. 2016: pruning + k-means quantization + Huffman coding"),
          ("09", "criteria against the oracle", "every criterion ranked against the oracle; gradually global pruning"),
          ("10", "importance learned in training", "network slimming, structured sparsity, correlation pruning"),
          ("11", "layer merging", "folding BatchNorm exactly, DeepRebirth"),
          ("12", "low-rank factorization", "truncated SVD of linear layers, factorized convolutions"),
          ("13", "knowledge distillation", "Hinton et al. 2015: a student trained on a teacher's soft targets"),
          ("14", "int8 quantization", "int8 in a real inference engine, measured against fp32"),
          ("15", "capstone", "every method on one baseline, measured the same way")]
files = {path.name[:2]: path.name for path in (Path(course_lib.__file__).parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb")}
pd.DataFrame([(n, title, files.get(n, "planned"), method) for n, title, method in COURSE],
             columns=["#", "notebook", "file", "method"]).set_index("#")

# %% [markdown]
# ## Exercises
#
# **1.** Write `conv_params(c_in, c_out, k)`: the number of parameters of a $k\times k$ convolution
# with bias.

# %%
def conv_params(c_in, c_out, k):
    # BEGIN SOLUTION
    return (c_in * k * k + 1) * c_out
    # END SOLUTION


from course_lib.checks import nb00

nb00.check_conv_params(conv_params)

# %% [markdown]
# **2.** Write `conv_macs(c_in, c_out, k, out_side)`: the multiply-accumulates of that convolution
# for one image whose output is `out_side × out_side`.

# %%
def conv_macs(c_in, c_out, k, out_side):
    # BEGIN SOLUTION
    return c_in * k * k * c_out * out_side * out_side
    # END SOLUTION


nb00.check_conv_macs(conv_macs)

# %% [markdown]
# **3.** Write `fc_share(model)`: the fraction of a model's parameters that sit in fully connected
# (`nn.Linear`) layers. (For VGG-16 it is the 89 % above.)

# %%
def fc_share(model):
    # BEGIN SOLUTION
    linear = sum(p.numel() for m in model.modules() if isinstance(m, nn.Linear) for p in m.parameters())
    return linear / sum(p.numel() for p in model.parameters())
    # END SOLUTION


nb00.check_fc_share(fc_share)

# %% [markdown]
# **4.** (Discussion) The 90 %-sparse LeNet-300-100 above is no faster and its file is larger. Which
# two things would have to change for the zeros to pay off? (Hint: notebook 08 answers one,
# notebook 03 the other.)
