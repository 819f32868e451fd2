# %% [markdown]
# # 06 · HRank: prune the filters whose feature maps have low rank (Lin et al. 2020)
#
# Lin, Ji, Wang, Zhang, Zhang, Tian & Shao, *HRank: Filter Pruning using High-Rank Feature Map*
# (CVPR 2020) judge a filter by what it produces: the **rank** of its feature map, averaged over
# images. A map of low rank is a sum of few rank-one patterns and, the paper argues, carries
# little information; its filter goes first. The paper's second observation makes the criterion
# cheap: the average rank of a filter hardly changes from one batch of images to the next, so a
# few hundred images rank all filters. On CIFAR-10 it cut VGG-16's FLOPs by 53.5 % at a 0.53 pp
# accuracy loss.
#
# **Learning goals.** You can
# 1. say what the rank of a feature map is, how the SVD computes it, and what the numerical
#    tolerance decides;
# 2. compute HRank's scores for every filter of a network in one batched call per layer;
# 3. test the paper's claim that the ranks are stable across batches, after training and at
#    initialisation, and say how few images suffice;
# 4. prune physically by HRank at per-layer ratios and judge it against L1 and against many random
#    choices at the same ratios, right after pruning and after the same fine-tuning budget;
# 5. count the paper's configurations with its own counting convention and with ours, and
#    explain the difference.

# %%
import copy
import functools

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch
import torch.nn as nn
from IPython.display import display
from scipy.stats import spearmanr
from torch.utils.data import DataLoader, Subset

from course_lib import baselines, config, measure, stats, viz
from course_lib.checks import nb06
from course_lib.models.vgg import conv_names
from course_lib.notebook import show_source
from course_lib.pruning import (compare, feature_map_ranks, hrank, l1_norm, n_keep, nonzero_fraction, one_shot,
                                plan_random, plan_smallest, plan_table, prune, recalibrate_bn, record, size_table)

viz.use_style()  # one figure style for the whole course (course_lib.viz)
config.seed_everything(0)
THREADS = config.set_threads()  # COURSE_THREADS, default 2
FULL = config.profile() == "full"

# %% [markdown]
# ## 1. The idea in the paper's math
#
# Filter $j$ of a conv layer turns an image $I$ into a feature map
# $\mathbf{O}_j(I) \in \mathbb{R}^{h \times w}$ (here read after the filter's BatchNorm and ReLU,
# as the paper does). Its singular value decomposition writes the map as a sum of rank-one maps,
#
# $$ \mathbf{O}_j(I) \;=\; \sum_{i=1}^{\min(h, w)} \sigma_i\, \mathbf{u}_i \mathbf{v}_i^\top ,
#    \qquad \sigma_1 \ge \sigma_2 \ge \dots \ge 0 , $$
#
# and its **rank** is the number of non-zero $\sigma_i$: how many independent row (or column)
# patterns the map is built from. A map of rank 1 is one pattern $\mathbf{u}_1$ scaled along the
# other axis by $\mathbf{v}_1$; an all-zero map (a silenced filter) has rank 0. HRank's score of
# filter $j$ is the expected rank over the input distribution, estimated on $g$ images:
#
# $$ \mathbb{E}_{I \sim P(I)}\bigl[\operatorname{rank}(\mathbf{O}_j(I))\bigr]
#    \;\approx\; \frac{1}{g} \sum_{t=1}^{g} \operatorname{rank}\bigl(\mathbf{O}_j(I_t)\bigr) , $$
#
# and the filters with the smallest scores are pruned. The paper's argument: a low-rank map can
# be reconstructed from few patterns, so it holds less information, and the filters of
# high-rank maps are the ones the next layer needs. Nothing here looks at the weights or the
# loss: like notebook 04's mean activation, or APoZ (section 4), it is a statistic of what the
# filter emits.
#
# **Numerically** no $\sigma_i$ of a float map is exactly zero, so "non-zero" means "above a
# tolerance": $\sigma_i > \max(h, w)\cdot\varepsilon\cdot\sigma_1$ with $\varepsilon$ the float32
# machine epsilon, torch's default and what HRank's code used. `course_lib` computes all maps of
# a batch in one batched `torch.linalg.matrix_rank` call, read through the recorder of notebook
# 04 at the `"activation"` tap:

# %%
show_source(feature_map_ranks)
show_source(hrank)

# %% [markdown]
# Here is what that means on one digit: the eight maps of conv1_2 (32 × 32, after BatchNorm and
# ReLU) of the trained course VGG (loaded here, described in section 2), each titled with its rank, and the
# singular values of each; dotted, the largest of the eight tolerances (each map's own is
# 32 · ε times its largest singular value, so a map with a smaller σ₁ has a lower line).

# %%
VGG_SETTINGS = baselines.settings()
SHAPE, BASELINE = VGG_SETTINGS["shape"], VGG_SETTINGS["schedule"]
loaders = baselines.course_loaders()
model, curve = baselines.course_vgg(loaders)
CONVS = [name for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]
NAMES = conv_names(model)
train_set = loaders["train"].dataset
x0, y0 = train_set[0]
digit = [(x0[None], torch.tensor([y0]))]  # one batch: the first training image
maps = {}
record(model, digit, ["features.3"], lambda a, g: maps.__setitem__("conv1_2", a[0].clone()), tap="activation")
one = maps["conv1_2"]  # (8, 32, 32)
sigmas = torch.linalg.svdvals(one)
one_ranks = feature_map_ranks(one)
fig, axes = plt.subplots(2, 8, figsize=(12, 5), gridspec_kw={"height_ratios": [1, 1.4]})
colours = sns.color_palette(viz.PALETTE, len(one))  # one colour per filter, in both rows
for j, ax in enumerate(axes[0]):
    image = ax.imshow(one[j], cmap="magma", vmin=0, vmax=float(one.max()))  # one scale for all eight
    ax.set_title(f"filter {j}\nrank {one_ranks[j].item()}", fontsize=9, color=colours[j])
    ax.axis("off")
fig.colorbar(image, ax=axes[0].tolist(), fraction=0.02, pad=0.01, label="activation")
gs = axes[1, 0].get_gridspec()
for ax in axes[1]:
    ax.remove()
ax = fig.add_subplot(gs[1, :])
for j in range(len(one)):
    positive = sigmas[j] > 0  # an exact zero has no place on a log axis: left out, not drawn at a made-up value
    ax.semilogy(torch.arange(1, 33)[positive], sigmas[j][positive], ".-", color=colours[j], ms=4, lw=1,
                label=f"filter {j}")
ax.axhline(float((32 * torch.finfo(torch.float32).eps * sigmas[:, 0]).max()), color="k", ls=":", lw=1,
           label="largest tolerance")
ax.set(xlabel=r"singular value index $i$", ylabel=r"$\sigma_i$", title="singular values of each map")
ax.legend(fontsize=8, ncol=5)
plt.show()

# %%
numpy_ranks = [int(np.linalg.matrix_rank(m)) for m in one.numpy()]  # an independent count, one map at a time
assert one_ranks.tolist() == numpy_ranks, (one_ranks.tolist(), numpy_ranks)
print("each map's rank, batched in torch, equals numpy's count of singular values above the same tolerance")

# %% [markdown]
# ## 2. The network and its baseline
#
# The course VGG-16 with BatchNorm of notebooks 03 and 05, trained once and shared through
# `data/cache/` (quick profile: width 1/8, 8 … 64 filters per conv, 32 × 32 MNIST digits;
# full profile: full width on CIFAR-10, the paper's setting). Its maps are 32², 16², 8², 4² and
# 2² in the five blocks, so a filter's rank is at most 32, 16, 8, 4 or 2.

# %%
# NBVAL_IGNORE_OUTPUT
print(f"{len(CONVS)} conv layers, filters per layer: {[model.get_submodule(n).out_channels for n in CONVS]}")
base_val, base_hits = baselines.report(model, loaders, curve)
base_acc = float(base_hits.float().mean())

# %%
assert (0.88 if FULL else 0.95) <= base_acc <= 1.0, f"baseline accuracy {base_acc:.3f} out of the expected range"
print("baseline trained to the expected accuracy")

# %% [markdown]
# ## 3. Are the ranks stable?
#
# The official code scores every filter on 5 batches of 128 training images. We take the same:
# 5 disjoint batches of 128 random training images, and score every filter of every layer on each
# batch separately, for the trained network and for the same architecture at initialisation
# (random weights, BatchNorm at its initial statistics). The paper's figure shows such scores as
# a heat map, filters × batches: a filter whose colour stays the same down its column has a
# stable rank.

# %%
N_BATCHES, BATCH = 5, 128
picked = torch.randperm(len(train_set), generator=config.generator(6))[:(N_BATCHES + 1) * BATCH].tolist()
batches = [next(iter(DataLoader(Subset(train_set, picked[b * BATCH:(b + 1) * BATCH]), batch_size=BATCH)))
           for b in range(N_BATCHES + 1)]  # the last one is held out for the "how few images" test below
networks = {"trained": model, "at initialisation": baselines.make_course_vgg(seed=1)}
per_batch = {label: [hrank(net, CONVS, [batch]) for batch in batches[:N_BATCHES]] for label, net in networks.items()}

LAYER = "features.14"  # conv3_1: 32 filters on 8 x 8 maps
MAP_SIZE = {row.layer: row.output[1:] for row in measure.layer_table(model, SHAPE).itertuples() if row.layer in CONVS}
fig, axes = plt.subplots(1, 2, figsize=(10, 2.6))
for ax, (label, scores) in zip(axes, per_batch.items()):
    heat = torch.stack([s[LAYER] for s in scores])
    image = ax.imshow(heat, aspect="auto", cmap="viridis", vmin=0, vmax=min(MAP_SIZE[LAYER]))
    ax.set(title=f"{NAMES[LAYER]}, {label}", xlabel="filter", ylabel="batch of 128 images",
           yticks=range(N_BATCHES), yticklabels=range(1, N_BATCHES + 1))
fig.colorbar(image, ax=axes, label=f"average rank (of {min(MAP_SIZE[LAYER])})")
plt.show()

# %% [markdown]
# Quantified: for every pair of batches, the Spearman rank correlation of the filters' scores
# (1 = the two batches order the filters identically), averaged over the 10 pairs, per layer. A
# layer whose filters all score the same on some batch has no order to compare (shown as NaN and
# left out of the mean).

# %%
# NBVAL_IGNORE_OUTPUT
def batch_correlation(scores, layer):
    """Mean Spearman correlation of ``layer``'s filter scores over all pairs of batches (NaN-free pairs)."""
    pairs = [spearmanr(scores[a][layer], scores[b][layer]).statistic
             for a in range(len(scores)) for b in range(a + 1, len(scores))]
    pairs = [r for r in pairs if r == r]  # a constant score vector has no correlation
    return sum(pairs) / len(pairs) if pairs else float("nan")


stability = pd.DataFrame({
    **{f"correlation, {label}": [batch_correlation(s, n) for n in CONVS] for label, s in per_batch.items()},
    **{f"mean rank, {label}": [float(torch.stack([b[n] for b in s]).mean()) for n in CONVS] for label, s in per_batch.items()},
    "max rank": [min(MAP_SIZE[n]) for n in CONVS],
}, index=[NAMES[n] for n in CONVS])
stability.round(2)

# %% [markdown]
# **How few images suffice?** Score every filter on the first $g$ images of a sixth, held-out
# batch and compare with the scores from all 640 images of the five batches above, by the same
# rank correlation, averaged over the layers:

# %%
# NBVAL_IGNORE_OUTPUT
SIZES = (1, 2, 4, 8, 16, 32, 64, 128)
reference = {label: {n: torch.stack([s[n] for s in scores]).mean(0) for n in CONVS} for label, scores in per_batch.items()}
held_out = batches[N_BATCHES]


def agreement(net, label, g):
    """Mean over layers of the Spearman correlation between scores from ``g`` held-out images and the reference."""
    scores = hrank(net, CONVS, [(held_out[0][:g], held_out[1][:g])])
    return pd.Series([spearmanr(scores[n], reference[label][n]).statistic for n in CONVS]).mean()


few = pd.DataFrame({label: [agreement(net, label, g) for g in SIZES] for label, net in networks.items()}, index=list(SIZES))
fig, ax = plt.subplots(figsize=(5.5, 3.2))
for label, style in zip(few, ("o-", "s--")):
    ax.semilogx(few.index, few[label], style, base=2, label=label)
ax.set(xlabel="images scored (g)", ylabel="mean Spearman correlation\nwith the 640-image scores",
       title="HRank scores from few images", ylim=(-0.1, 1.02))
ax.grid(alpha=0.3)
ax.legend()
plt.tight_layout()
plt.show()
few.round(2).T

# %%
# NBVAL_IGNORE_OUTPUT
trained_r = stability["correlation, trained"]
print(f"batch-to-batch rank correlation, trained: mean over layers {trained_r.mean():.2f} "
      f"(lowest {trained_r.min():.2f}, {trained_r.idxmin()}); at initialisation: "
      f"{stability['correlation, at initialisation'].mean():.2f}")

# %%
assert trained_r.min() > 0.5, stability
assert stability["correlation, at initialisation"].mean() > 0.5, stability
assert few.loc[128, "trained"] > few.loc[1, "trained"], few
print("every trained layer orders its filters much the same on every batch (rank correlation above 0.5), "
      "the untrained network too on average, and 128 images come closer to the 640-image scores than 1 image")

# %% [markdown]
# The paper's observation holds here: a batch of 128 images orders the filters almost exactly as
# 640 do, and a few dozen images come close. But look at the untrained network: its ranks are
# at least as stable, at similar mean ranks, and a handful of images already order its filters
# (its filters differ more from one another, some almost always silent, which makes their order
# easy to repeat). So stability across batches is not evidence that the rank measures something
# the filter *learnt*; a random filter's rank is just as repeatable. On digits much of a map's rank is set by where it is zero: after the
# ReLU the black background is silent in most maps, and a map that is zero outside a few rows
# and columns cannot have a higher rank than it has non-zero rows. Whether low rank means "little
# information" is the question the next section asks of accuracy.

# %% [markdown]
# ## 4. Prune by HRank, L1 and at random, at the same per-layer ratios
#
# The scores: the mean over the 640 images, as the official code. The ratios are the course's
# choice, not the paper's. They keep the shape of the official code's VGG-16 ratios (deep layers
# lose more than early ones: they hold many filters on small maps) and are milder: the official
# ratios remove 95 % of conv1_1 and 90 % of conv4_1 … conv5_1, which on the quick profile's
# eighth-width network leaves conv1_1 a single filter (the table below counts both). Here a
# quarter of blocks 1–2, 40 % of block 3 (13 of its 32
# filters: 12.8, rounded) and half of blocks 4–5. All three choices keep the same number of
# filters in every layer, so they give the same architecture: the same parameters, FLOPs, bytes
# and speed. Only *which* filters stay differs. Each is one call of `one_shot`, which selects
# (`plan_smallest`: the lowest scores of each layer go; `plan_random`: a random choice), applies
# the surgery and returns the method's `Result`: the pruned network and the plan it kept.

# %%
BLOCK_RATIOS = {1: 0.25, 2: 0.25, 3: 0.4, 4: 0.5, 5: 0.5}  # fraction of each block's filters REMOVED
RATIOS = {name: BLOCK_RATIOS[int(NAMES[name][4])] for name in CONVS}
# the official code's ratios for VGG-16 on CIFAR-10 (its README: --compress_rate [0.95]+[0.5]*6+[0.9]*4+[0.8]*2),
# applied as it applies them: int(ratio * filters) removed
OFFICIAL_RATIOS = dict(zip(CONVS, [0.95] + [0.5] * 6 + [0.9] * 4 + [0.8] * 2))
filters = {n: model.get_submodule(n).out_channels for n in CONVS}
display(pd.DataFrame({"filters": filters, "kept here": {n: n_keep(filters[n], RATIOS[n]) for n in CONVS},
                      "kept at the official ratios": {n: filters[n] - int(OFFICIAL_RATIOS[n] * filters[n]) for n in CONVS}},
                     ).rename(index=NAMES).T)

# %%
# NBVAL_IGNORE_OUTPUT
# (which filters each choice keeps depends on the trained weights)
hrank_scores = reference["trained"]
rules = {"HRank": (hrank_scores, plan_smallest), "L1": (l1_norm(model, CONVS), plan_smallest),
         "random": (hrank_scores, functools.partial(plan_random, seed=0))}  # random: the scores are ignored
pruned = {label: one_shot(model, scores, RATIOS, SHAPE, select=select) for label, (scores, select) in rules.items()}
plans = {label: run.kept for label, run in pruned.items()}
nets = {label: run.model for label, run in pruned.items()}
overlap = pd.DataFrame({f"kept by HRank and {other}": [len(set(plans["HRank"][n].tolist()) & set(plans[other][n].tolist()))
                                                      for n in CONVS] for other in ("L1", "random")},
                       index=[NAMES[n] for n in CONVS])
plan_table(plans["HRank"], hrank_scores).set_index(overlap.index).join(overlap)

# %% [markdown]
# Right after the surgery every BatchNorm behind a pruned layer still normalises with the
# statistics of the unpruned network (notebook 03, section 6), so each pruned network first gets
# them re-estimated, on the 640 training images HRank scored; then its test accuracy is taken,
# before any fine-tuning.
#
# **Random filters are a distribution, not one choice.** Another random draw keeps other filters,
# and at these ratios the accuracy right after pruning changes a lot from draw to draw. So we draw
# `N_RANDOM` random plans at the same ratios (`plan_random` with seeds 0, 1, …), prune and evaluate
# each (cheap: no training), and place HRank's and L1's networks in that distribution: the share
# of the random plans each one beats (`stats.percentile_in`, ties counted half). Draw 0 is the
# "random" network above, the one that is also fine-tuned below.

# %%
# NBVAL_IGNORE_OUTPUT
N_RANDOM = 20
score_loader = DataLoader(Subset(train_set, picked[:N_BATCHES * BATCH]), batch_size=BATCH)  # the scored images
hits = {(label, "before"): stats.correct(recalibrate_bn(net, score_loader), loaders["test"]) for label, net in nets.items()}
random_before = [float(hits["random", "before"].float().mean())]  # draw 0
for seed in range(1, N_RANDOM):
    draw = one_shot(model, hrank_scores, RATIOS, SHAPE, select=functools.partial(plan_random, seed=seed),
                    calibration_loader=score_loader).model
    random_before.append(float(stats.correct(draw, loaders["test"]).float().mean()))
before = {label: float(hits[label, "before"].float().mean()) for label in ("HRank", "L1")}
fig, ax = plt.subplots(figsize=(6.5, 2.6))
place = viz.against_random(ax, [100 * a for a in random_before], {label: 100 * a for label, a in before.items()},
                           xlabel="test accuracy right after pruning (%)",
                           title="Right after pruning (BatchNorm re-estimated, no fine-tuning)")
ax.legend(fontsize=8)
plt.tight_layout()
plt.show()
print(f"{N_RANDOM} random plans: median {100 * np.median(random_before):.1f} %, from {100 * min(random_before):.1f} "
      f"to {100 * max(random_before):.1f} %")
for label, acc in before.items():
    print(f"{label}: {100 * acc:.1f} %, above {place[label]:.0f} % of the random plans")
print(stats.describe(stats.paired_comparison(hits["L1", "before"], hits["HRank", "before"]), "L1", "HRank"))

# %% [markdown]
# **Does fine-tuning close the gap, and how fast?** The three networks (HRank's, L1's and random
# draw 0) then get the same fine-tuning, with the same seed, hence the same batches in the same
# order. The fixed schedule is the baseline's two phases at its own learning rates, cut to 3 + 1
# epochs. To see whether the differences shrink as the budget grows, each network is also
# fine-tuned four times as long, 12 + 4 epochs: after the 3 epochs both share, one copy takes the
# fixed schedule's last epoch at a tenth of the rate, the other goes on 9 epochs at the full rate
# and 4 at a tenth. The longer run is followed on the validation split, epoch by epoch; the test
# split is used once, at the end of the fixed schedule. One random network is one draw: its
# fine-tuned accuracy says what one random choice reaches, not what random choices reach.

# %%
# NBVAL_IGNORE_OUTPUT
FINAL = [("sgd", 0.01, 20), ("sgd", 0.001, 10)] if FULL else [("adam", 2e-3, 3), ("adam", 2e-4, 1)]
LONGER = 4  # the longer fine-tuning: four times the epochs of each phase of FINAL
(optimizer, lr, first_epochs), last = FINAL
REST = [(optimizer, lr, (LONGER - 1) * first_epochs), (last[0], last[1], LONGER * last[2])]
WD = VGG_SETTINGS["weight_decay"]
fixed_curves, long_curves = {}, {}
for label, net in nets.items():
    shared = baselines.run_phases(net, loaders, FINAL[:1], seed=0, weight_decay=WD)  # the epochs both share
    fixed = copy.deepcopy(net)
    fixed_curves[label] = shared + baselines.run_phases(fixed, loaders, FINAL[1:], seed=0, weight_decay=WD)
    hits[label, "after"] = stats.correct(fixed, loaders["test"])
    long_curves[label] = shared + baselines.run_phases(net, loaders, REST, seed=0, weight_decay=WD)

fig, ax = plt.subplots(figsize=(6.5, 3.4))
for (label, curve), color in zip(long_curves.items(), ("C3", "C0", "0.45")):
    name = "random (draw 0)" if label == "random" else label
    ax.plot(range(1, len(curve) + 1), [100 * a for a in curve], "o-", ms=3, color=color, label=name)
    ax.plot(len(fixed_curves[label]), 100 * fixed_curves[label][-1], "*", ms=13, color=color, mec="k", mew=0.5)
ax.axhline(100 * base_val, color="k", ls=":", lw=1, label="baseline")
ax.set(xlabel="epochs of fine-tuning", ylabel="validation accuracy (%)",
       title=f"{LONGER}× the fixed schedule (★: the fixed schedule's last epoch, at a tenth of the rate)")
ax.legend(fontsize=8, loc="lower right")
plt.tight_layout()
plt.show()
ends = pd.DataFrame({f"after {len(fixed_curves['HRank'])} epochs (fixed schedule)": {l: c[-1] for l, c in fixed_curves.items()},
                     f"after {len(long_curves['HRank'])} epochs": {l: max(c[-LONGER * last[2]:]) for l, c in long_curves.items()}})
display((100 * ends).round(1).rename_axis("validation accuracy (%)"))
n_val = len(loaders["val"].dataset)
print(f"one accuracy near {100 * base_val:.0f} % on {n_val} validation images: "
      f"±{100 * stats.resolution(n_val, base_val):.1f} pp (95 %)")

# %% [markdown]
# The test comparison at the end of the fixed schedule: each network paired with the baseline on
# the same test images, and HRank paired with L1 and with the one random draw:

# %%
# NBVAL_IGNORE_OUTPUT
paired = {label: stats.paired_comparison(base_hits, hits[label, "after"]) for label in nets}
for label, c in paired.items():
    print(stats.describe(c, "baseline", f"{label} fine-tuned"))
versus = {other: stats.paired_comparison(hits[other, "after"], hits["HRank", "after"]) for other in ("L1", "random")}
for other, c in versus.items():
    print(stats.describe(c, "random (draw 0)" if other == "random" else other, "HRank"))

# %%
sizes = size_table({"baseline": model, "pruned": nets["HRank"]}, SHAPE)
hrank_better_than_l1 = versus["L1"]["diff"] > 0 and versus["L1"]["p_value"] < 0.05
assert max(place.values()) < 100, (place, random_before)  # beating every draw: better than chance, p < 1/21
assert not hrank_better_than_l1, stats.describe(versus["L1"], "L1", "HRank")
assert all(paired[label]["acc_b"] >= 0.9 for label in nets), paired
print(f"The ratios cut the FLOPs by {100 - sizes['FLOPs %'].iloc[1]:.1f} %. Right after pruning neither HRank's "
      f"nor L1's choice beats all {N_RANDOM} random plans; after the same fine-tuning HRank's is not "
      "significantly more accurate than L1's, and all three networks are above 90 %")

# %% [markdown]
# **What this shows.** Right after the surgery, with nothing but the BatchNorm statistics
# re-estimated, the network that kept the high-rank filters lies inside the cloud of random
# plans (its percentile is printed above): it does not stand out from choosing the same numbers
# of filters at random. A criterion that marked the filters the network can do without would
# leave it more accurate than every random choice; if HRank had no information at all, beating
# all 20 draws would happen by luck with probability 1/21, so "beats every draw" is the rule the
# check uses, for HRank and L1 alike. Where inside the cloud a criterion lands depends on the
# trained network: exercise 9 retrains it with another seed. The fine-tuning then repairs most of
# the damage in all three, and the longer fine-tuning shows whether what is left of the
# differences closes with more epochs (the curves, and the table with what the validation split
# resolves). On this task, low rank does not mark the filters the network can do without.
#
# Why? One candidate, from section 3: if a map's rank is mostly set by how much of it is
# non-zero, HRank ranks filters almost as "how often is this filter active", the statistic of
# APoZ (Hu et al. 2016; `nonzero_fraction` is 1 − APoZ), and a filter that fires rarely, only on the strokes it detects, is not
# therefore useless. The correlation between the two, per layer:

# %%
# NBVAL_IGNORE_OUTPUT
active = nonzero_fraction(model, CONVS, score_loader)
rank_vs_active = pd.Series({NAMES[n]: spearmanr(hrank_scores[n], active[n]).statistic for n in CONVS})
print("Spearman correlation of HRank's score with the fraction of non-zero activations, per layer:")
print(rank_vs_active.round(2).to_dict())
print(f"mean over layers: {rank_vs_active.mean():.2f}")

# %% [markdown]
# ## 5. Size and measured speed
#
# All three pruned networks have the same shapes, so one row serves them. Timed side by side,
# interleaved (best of nine rounds). The speed-up is shown, not asserted: read it beside the
# spread columns, how far the rounds of each measurement scatter (in %), which a busy machine
# widens; a speed-up smaller than the spread is not resolved by this measurement.

# %%
# NBVAL_IGNORE_OUTPUT
table = compare({"baseline": model, "pruned": pruned["HRank"]}, SHAPE, rounds=9, threads=THREADS)
display(table.T.round(2))

# %% [markdown]
# The FLOPs fell by about 2.5×, the time by much less: at batch 1 this 1/8-width network on
# 32 × 32 digits is bound by per-layer overheads that pruning does not remove, and at batch 64
# the thin layers still run far from the CPU's peak (notebooks 03 and 05 measured the same).

# %% [markdown]
# ## 6. The paper's numbers, and how they were counted
#
# HRank's own counter (`get_flops.py` in the official code) counts, for a pruned conv, the kept
# filters times **all** input channels of the unpruned layer: it ignores that removing a filter
# also removes an input channel of the next layer. The official README says so itself ("the
# actual pruning rates are much higher than these presented in the paper"). Its "FLOPs" are
# multiply-accumulates. Our count (`course_lib.measure`, FLOPs = 2 × MACs, the convention of
# notebooks 01–05) is of the network the surgery actually built. On our pruned network:

# %%
def hrank_convention(net, kept, input_shape):
    """MACs and params of ``net`` with ``kept`` = {conv name: filters kept} as HRank's counter
    (``get_flops.py``) counts them: each conv's kept filters times ALL its input channels, linear
    layers as they are, with their bias additions as operations (one input of ``input_shape``)."""
    macs_of = measure.layer_table(net, input_shape).set_index("layer")["MACs"]
    macs = params = 0
    for name, m in net.named_modules():
        if isinstance(m, nn.Conv2d):
            share = kept.get(name, m.out_channels) / m.out_channels
            macs += share * macs_of[name]
            params += share * sum(p.numel() for p in m.parameters())
        elif isinstance(m, nn.Linear):
            macs += macs_of[name] + m.out_features
            params += sum(p.numel() for p in m.parameters())
    return macs, params


def reductions(net, pruned, kept, input_shape):
    """FLOPs and params reductions (%) of ``pruned`` against ``net`` in both conventions."""
    theirs, theirs_base = hrank_convention(net, kept, input_shape), hrank_convention(net, {}, input_shape)
    ours, ours_base = measure.summary(pruned, input_shape), measure.summary(net, input_shape)
    return pd.DataFrame({
        "MACs (M)": [theirs[0] / 1e6, ours["MACs"] / 1e6],
        "FLOPs reduction %": [100 * (1 - theirs[0] / theirs_base[0]), 100 * (1 - ours["MACs"] / ours_base["MACs"])],
        "params (M)": [theirs[1] / 1e6, ours["params"] / 1e6],
        "params reduction %": [100 * (1 - theirs[1] / theirs_base[1]), 100 * (1 - ours["params"] / ours_base["params"])],
    }, index=["HRank's counter", "the network built"])


quick_counts = reductions(model, nets["HRank"], {name: len(plans["HRank"][name]) for name in CONVS}, SHAPE)
quick_counts.round(2)

# %% [markdown]
# The same for the configuration the official README publishes for VGG-16 on CIFAR-10 (its
# `--compress_rate [0.95]+[0.5]*6+[0.9]*4+[0.8]*2`, the fraction of each conv's filters removed,
# with the last conv left whole as its counting script does; the filters kept are
# $n - \lfloor \text{ratio} \cdot n \rfloor$ as in its code), on the official CIFAR VGG-16: 13
# convs with BatchNorm, four max-pools, a 2 × 2 average pool and a 512-512-10 head with
# BatchNorm. Shapes alone decide the counts, so random weights do.

# %%
HRANK_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512]


def hrank_cifar_vgg(widths):
    """The official code's CIFAR-10 VGG-16 with ``widths`` filters in its 13 convs."""
    layers, c, convs = [], 3, iter(widths)
    for v in HRANK_CFG:
        if v == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            w = next(convs)
            layers += [nn.Conv2d(c, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU()]
            c = w
    return nn.Sequential(*layers, nn.AvgPool2d(2), nn.Flatten(), nn.Linear(c, 512), nn.BatchNorm1d(512), nn.ReLU(),
                         nn.Linear(512, 10))


README_RATIOS = [0.95] + [0.5] * 6 + [0.9] * 4 + [0.8] * 2
README_RATIOS[12] = 0.0  # cal_flops_params.py: compress_rate[12] = 0 for vgg_16_bn
widths = [v for v in HRANK_CFG if v != "M"]
readme_kept = [w - int(r * w) for w, r in zip(widths, README_RATIOS)]
paper_net = hrank_cifar_vgg(widths)
paper_convs = [name for name, m in paper_net.named_modules() if isinstance(m, nn.Conv2d)]
readme_counts = reductions(paper_net, hrank_cifar_vgg(readme_kept), dict(zip(paper_convs, readme_kept)), (3, 32, 32))
readme_counts.loc["the README reports"] = [108.61, 65.3, 2.64, 82.1]
print("filters kept per conv:", readme_kept)
readme_counts.round(2)

# %%
gap = (readme_counts.loc["the network built", "FLOPs reduction %"]
       - readme_counts.loc["HRank's counter", "FLOPs reduction %"])
assert gap > 15, readme_counts
assert (quick_counts.loc["the network built"] > quick_counts.loc["HRank's counter"])[
    ["FLOPs reduction %", "params reduction %"]].all(), quick_counts
print(f"counted on the network actually built, the README's configuration removes {gap:.0f} pp more of the "
      "FLOPs than HRank's counter says; the same holds for our pruned network")

# %% [markdown]
# Two things to take from the counts. First, the convention matters more than most method
# differences: on the README's own configuration the network the surgery builds has far fewer
# FLOPs and parameters than HRank's counter reports, because every removed filter also removes a
# $3 \times 3$ slice of each filter of the next layer. Second, we could not reproduce the README's
# own figures with its counter as we read it (the rows above differ); we report our count of its
# configuration and quote its figures beside it, without choosing between them. The paper's
# headline VGG-16 row (−53.5 % FLOPs) gives no per-layer ratios, so it cannot be counted at all.
#
# The paper's rows beside ours (the paper's are quoted from it: CIFAR-10, 10,000 test images;
# ours are computed above, quick profile, 1,000 test digits):

# %%
# NBVAL_IGNORE_OUTPUT
def pct(c, key):
    return f"{100 * c[key]:.2f}"


theirs, built = quick_counts.loc["HRank's counter"], quick_counts.loc["the network built"]

pd.DataFrame({
    "HRank, VGG-16 on CIFAR-10 (paper)": {
        "accuracy: unpruned → pruned, fine-tuned (%)": "93.96 → 93.43", "FLOPs reduction (its counter)": "53.5 %",
        "params reduction (its counter)": "82.9 %", "L1 / random at the same ratios": "not reported"},
    "HRank, ResNet-56 on CIFAR-10 (paper)": {
        "accuracy: unpruned → pruned, fine-tuned (%)": "93.26 → 93.17", "FLOPs reduction (its counter)": "50.0 %",
        "params reduction (its counter)": "42.4 % (the official README)",
        "L1 / random at the same ratios": "not reported"},
    "ours: HRank, course VGG-16, quick profile": {
        "accuracy: unpruned → pruned, fine-tuned (%)": f"{pct(paired['HRank'], 'acc_a')} → "
                                                       f"{pct(paired['HRank'], 'acc_b')}",
        "FLOPs reduction (its counter)": f"{theirs['FLOPs reduction %']:.1f} % (built: {built['FLOPs reduction %']:.1f} %)",
        "params reduction (its counter)": f"{theirs['params reduction %']:.1f} % (built: {built['params reduction %']:.1f} %)",
        "L1 / random at the same ratios": f"L1 {pct(paired['L1'], 'acc_b')}, random draw 0 "
                                         f"{pct(paired['random'], 'acc_b')} (before fine-tuning: HRank above "
                                         f"{place['HRank']:.0f} % of {N_RANDOM} random plans, L1 above "
                                         f"{place['L1']:.0f} %)"}})

# %% [markdown]
# **ResNet-56 is not pruned here.** Its blocks add their input to their output, so the output
# channels of every block's second conv are tied, across a whole stage, to the shortcut and to
# the other blocks; the course's chain surgery refuses such graphs and points to torch-pruning's
# `DependencyGraph`, which removes coupled channels together. Doing that honestly needs a
# *trained* ResNet-56 (CIFAR-10, the full profile; hours of CPU training and not among the
# course's cached baselines) and a rule for scoring a group of coupled channels by HRank (the
# official code only masks, so each conv keeps its own score and the coupling never arises).
# Exercise 6 starts it on torchvision's ResNet-18.

# %% [markdown]
# ## 7. What differs from the paper, and why
#
# * **The images.** The paper's maps come from natural CIFAR-10 images, dense after the first
#   layers; ours from digits on a black background, where most of a map is often exactly zero
#   after the ReLU. The rank then largely counts how much of the map is active (section 4's
#   correlation with the fraction of non-zero activations), and the filters it prunes first are
#   the rarely active ones. That is one reason HRank's choice does not stand out from random
#   ones here; `COURSE_PROFILE=full` runs the same comparison on CIFAR-10.
# * **One shot, not layer by layer.** The official code prunes one layer at a time, fine-tuning
#   30 epochs after each, and only masks the filters (the network keeps its shapes and file size).
#   We remove all the filters at once, physically, and give the three networks the same
#   fine-tuning: a fixed 3 + 1 epochs, and four times that followed on the validation split.
#   Exercise 5 prunes layer by layer, with a short fine-tune between layers, to see whether
#   HRank's choice fares better when each layer is scored on the network pruned so far.
# * **The question asked.** The paper reports HRank's network within about half a point of its
#   baseline after long fine-tuning, and compares with other published methods, not with L1 or
#   random filters at the same ratios. With enough fine-tuning many choices of filters recover
#   (section 4's curves), so the question that decides whether the criterion matters is the one
#   asked here: at the same ratios and the same fine-tuning budget, does HRank's choice beat L1's
#   and random filters'? Right after pruning it does not stand out from random choices; after the
#   fine-tuning the paired intervals of section 4 say how much of the difference is left.
# * **Best epoch.** The official code keeps the epoch with the best *test* accuracy; we select
#   on the validation split (the best epoch of each phase) and report the test split once.
# * **Counting.** Section 6: HRank's counter ignores the next layer's removed input channels; its
#   "FLOPs" are multiply-accumulates. Our FLOPs are 2 × MACs of the network actually built.

# %% [markdown]
# ## 8. Exercises
#
# **Exercise 1.** Write `map_rank(m)`: the rank of one map `m` of shape `(h, w)` from its
# singular values (`torch.linalg.svdvals`), counting those above
# `max(h, w) * torch.finfo(torch.float32).eps` times the largest. Return an int.

# %%
def map_rank(m):
    # BEGIN SOLUTION
    s = torch.linalg.svdvals(m.float())
    return int((s > max(m.shape) * torch.finfo(torch.float32).eps * s.max()).sum()) if s.max() > 0 else 0
    # END SOLUTION


nb06.check_map_rank(map_rank)

# %% [markdown]
# **Exercise 2.** Write `mean_rank(maps)`: given the maps of one layer for a batch, shape
# `(N, C, h, w)`, return HRank's score of each of the `C` filters on that batch, shape `(C,)`,
# without a Python loop over the maps.

# %%
def mean_rank(maps):
    # BEGIN SOLUTION
    return torch.linalg.matrix_rank(maps).float().mean(0)
    # END SOLUTION


nb06.check_mean_rank(mean_rank)

# %% [markdown]
# **Exercise 3.** The SVD view says what a low rank loses: the best approximation of a map by
# $r$ rank-one maps keeps its $r$ largest terms (Eckart–Young). Write `best_rank_r(m, r)`,
# returning that approximation, shape `(h, w)`.

# %%
def best_rank_r(m, r):
    # BEGIN SOLUTION
    u, s, vh = torch.linalg.svd(m, full_matrices=False)
    return (u[:, :r] * s[:r]) @ vh[:r]
    # END SOLUTION


nb06.check_best_rank_r(best_rank_r)

# %% [markdown]
# **Exercise 4 (open).** The control the paper's argument invites: prune the **highest**-rank
# filters instead (`plan_largest(hrank_scores, RATIOS)` from `course_lib.pruning`), recalibrate
# the BatchNorms and compare with section 4's three networks before fine-tuning, with
# `stats.paired_comparison`. If low rank meant "little information", this should be the worst
# network of all. Is it?
#
# **Exercise 5 (open).** Prune layer by layer as the paper does: `thinet_prune` of notebook 05
# takes a `select(net, layer, x, n_remove)` (ignore `x`), so
# `select=lambda net, layer, x, n: hrank(net, [layer], [batches[0]])[layer].argsort()[:n]` with
# `rescale=False` and a short `fine_tune` between layers scores each layer on the network as
# pruned so far. Does HRank's choice keep the network more accurate along the way than L1's or
# random filters (same schedule, same seed)?
#
# **Exercise 6 (open).** Residual networks: build torchvision's `resnet18(num_classes=10)`, score
# the first conv of every basic block by HRank with a forward hook on that block's `bn1`, applying
# the ReLU to its output yourself (the block's one `relu` module runs twice; `feature_map_ranks`
# does the ranks), and prune half of those channels with torch-pruning
# (`tp.DependencyGraph().build_dependency(model, example_inputs=...)`,
# `get_pruning_group(conv, tp.prune_conv_out_channels, idxs=...)`, `group.prune()`). Why are these
# convs the easy case, and what would scoring the blocks' *second* convs have to decide?
#
# **Exercise 7 (open).** The tolerance: recompute section 3's scores of conv1_1 with
# `rtol=1e-2` (only singular values above 1 % of the largest count). How much lower are the
# ranks, and does the order of the filters change (Spearman correlation with the default)?
#
# **Exercise 8 (open).** After the fine-tuning, section 4 pairs HRank with *one* random draw.
# Fine-tune random draws 1, 2 and 3 (`plan_random(hrank_scores, RATIOS, seed=...)`) exactly as draw
# 0 was (BatchNorm re-estimated on `score_loader`, then `FINAL` with `seed=0`), and compare HRank's
# network with the four random networks at once: `stats.paired_comparison` takes a `(k, N)` stack
# of their test hits and then tests with the sign-flip test. Does the conclusion drawn from draw 0
# alone hold for random choices in general? How far apart are the four draws' own accuracies?
#
# **Exercise 9 (open).** One trained network is one draw too. Put `%env COURSE_SEED=1` in a cell
# at the very top, restart the kernel and run sections 1–4 again: every training seed moves by
# one, so the course VGG is trained anew (a minute; it is cached under its own key) and HRank
# scores another network. Where do HRank and L1 land among the random plans now? What does the
# comparison of the two runs say about reading one network's percentile as a property of the
# criterion?

# %% [markdown]
# <!-- BEGIN SOLUTION -->
# **Model answers (instructor version).** The answers to exercises 4, 6 and 7 are computed in the
# cell below each. The others fine-tune networks again, too long for the lesson's time budget: their
# code runs, with its outputs, in `answers/06_hrank_answers.ipynb` (`python tools/answers.py 06`
# rebuilds it), and the words say how to read those outputs.
#
# **Exercise 4.** The inverse plan at section 4's ratios, paired with each of section 4's networks
# before fine-tuning (their test hits are still in `hits`):
# <!-- END SOLUTION -->

# %%
# NBVAL_IGNORE_OUTPUT
# MODEL ANSWER to exercise 4 (left out of the student version)
from course_lib.pruning import plan_largest

inverse_plan = plan_largest(hrank_scores, RATIOS)  # remove the HIGHEST-rank filters
inverse = prune(model, inverse_plan, SHAPE)
recalibrate_bn(inverse, score_loader)  # as section 4 recalibrates every network
inverse_hits = stats.correct(inverse, loaders["test"])
for label in ("HRank", "L1", "random"):
    print(stats.describe(stats.paired_comparison(hits[label, "before"], inverse_hits), label,
                         "highest rank removed"))
inverse_acc = float(inverse_hits.float().mean())
print(f"highest rank removed: {100 * inverse_acc:.1f} %, above "
      f"{stats.percentile_in(inverse_acc, random_before):.0f} % of section 4's {N_RANDOM} random plans")
print("filters kept by both HRank and its inverse:",
      {NAMES[n]: len(set(inverse_plan[n].tolist()) & set(plans["HRank"][n].tolist())) for n in CONVS})

# %% [markdown]
# <!-- BEGIN SOLUTION -->
# Read the overlap first. Where half the filters go (blocks 4–5) the inverse keeps exactly the
# filters HRank removed (ties in the scores aside); in blocks 1–3 the two must share at least
# 2 · kept − n filters (4 of 8, 8 of 16, 6 of 32), so the test bites mostly in the deep layers.
# If low rank meant little information, the inverse would be the worst network of all, and it
# starts with a handicap: a filter silent on every scored image scores 0, so HRank removes it first
# at no cost while the inverse keeps it and wastes a slot. The paired lines say the opposite: the
# network that kept the *lowest*-rank filters is far more accurate right after pruning than HRank's,
# by hundreds of test digits, and than L1's and the random draw's too; the percentile places it
# among or above section 4's random plans. On these digits the rank points the wrong way. Section 4's
# last cell suggests why: a map's rank follows how much of it is non-zero, so the high-rank filters
# are the ones active almost everywhere, and the low-rank ones fire only where their pattern occurs.
# A filter that responds everywhere says little about *which* digit it sees; a selective one is
# what a classifier reads, and removing the selective filters, as HRank does, removes the information.
# These are one-shot accuracies far below the baseline; give `inverse` the same
# `baselines.run_phases(..., FINAL, seed=0, ...)` to see whether fine-tuning erases the difference,
# as it largely did for section 4's three.
#
# **Exercise 5.** `thinet_prune` with its reconstruction switched off, one selection per
# criterion, and the same short fine-tuning (512 training images, same batches) after each layer:
#
# ```python
# from course_lib import train
# from course_lib.pruning import thinet_prune
#
# gen = config.generator(5)
# SELECT = {"HRank": lambda net, layer, x, n: hrank(net, [layer], [batches[0]])[layer].argsort()[:n],
#           "L1": lambda net, layer, x, n: l1_norm(net, [layer])[layer].argsort()[:n],
#           "random": lambda net, layer, x, n: torch.randperm(x.shape[1], generator=gen)[:n]}
# between = DataLoader(Subset(train_set, picked[:512]), batch_size=128, shuffle=True)
#
#
# def short_fine_tune(net):
#     train.fit(net, between, epochs=1, lr=1e-3, optimizer="adam", warmup=5)
#
#
# layerwise = {}
# for label, select in SELECT.items():
#     config.seed_everything(0)  # the same batches, in the same order, for all three
#     layerwise[label] = thinet_prune(model, RATIOS, [batches[0]], SHAPE, rescale=False, select=select,
#                                     fine_tune=short_fine_tune, eval_loader=loaders["val"])
# pd.DataFrame({label: run.history["accuracy"].values for label, run in layerwise.items()},
#              index=["unpruned"] + [NAMES[n] for n in CONVS]).round(3).T
# ```
#
# (`thinet_prune` still samples the consumers' inputs `x` for every layer; one batch keeps that
# cheap.) Each row is a validation curve along the layers; the last column is section 4's
# architecture (same `RATIOS`), so the three can also get `FINAL` and be paired on the test split
# as there. Differences below what the validation split resolves (`stats.resolution`) are noise.
# What changes against section 4: every layer is scored on the network already pruned and
# fine-tuned, so HRank ranks the maps that will really feed the next layer, and an early bad
# choice is partly repaired before the next one. If HRank still trails L1 and random along the
# way, its one-shot result
# is a property of the criterion on this data, not of scoring all layers at once; if it catches
# up, the one-shot deficit came from scoring everything on the unpruned network.
#
# **Exercise 6.** Scores from a hook on each block's `bn1`, then one torch-pruning group per block
# (the network is untrained: the answer is about the mechanics):
# <!-- END SOLUTION -->

# %%
# NBVAL_IGNORE_OUTPUT
# MODEL ANSWER to exercise 6 (left out of the student version)
import torch_pruning as tp
from torchvision.models import resnet18

resnet = resnet18(num_classes=10).eval()
images = batches[0][0].expand(-1, 3, -1, -1)  # 128 digits, the grey channel copied three times
blocks = {f"layer{s}.{b}": getattr(resnet, f"layer{s}")[b] for s in range(1, 5) for b in range(2)}
res_scores, hooks = {}, []
for name, block in blocks.items():  # block.relu runs twice (after bn1, after the sum): hook bn1
    hooks.append(block.bn1.register_forward_hook(lambda m, i, out, name=name: res_scores.__setitem__(
        name, feature_map_ranks(out.relu()).float().mean(0))))
with torch.no_grad():
    resnet(images)
for h in hooks:
    h.remove()
dg = tp.DependencyGraph().build_dependency(resnet, example_inputs=images[:1])
params_before = measure.count_params(resnet)
for name, block in blocks.items():
    lowest = res_scores[name].argsort()[: block.conv1.out_channels // 2].tolist()
    dg.get_pruning_group(block.conv1, tp.prune_conv_out_channels, idxs=lowest).prune()
print(f"parameters {params_before:,} -> {measure.count_params(resnet):,}; "
      f"output {tuple(resnet(images[:2]).shape)}")
print(dg.get_pruning_group(resnet.layer2[0].conv2, tp.prune_conv_out_channels, idxs=[0]))

# %% [markdown]
# <!-- BEGIN SOLUTION -->
# Look for the output still being 10 logits and for what the group of a first conv holds: that
# conv, its `bn1`, the ReLU and the input channels of the same block's `conv2`, nothing else.
# That is why these convs are the easy case: each channel has one map and one score, exactly as
# in section 4's chain. The last line prints the group of a *second* conv: channel j of both
# blocks' `conv2` and `bn2`, of the downsample branch, and the input channel j of the next
# stage's convs, all removed together, because the blocks add their outputs to the shortcut.
# A score for such a group has to decide which maps to rank (each block's branch before the sum,
# or the sums after the ReLU, which are what the next layer reads) and how to combine several
# ranks into one (mean, minimum, maximum); rank does not add up, rank(A + B) ≤ rank A + rank B,
# so a channel of low rank in one branch can be of full rank after the sum. Two cautions: the
# network is untrained, so the scores show the mechanics only (section 3 found ranks at
# initialisation just as stable); and on 32 × 32 inputs the stem (stride-2 conv, stride-2
# max-pool) leaves maps of 8², 4², 2² and 1² in layer1 … layer4, so in layer4 a rank is 0 or 1
# and HRank only says how often the channel is non-zero there.
#
# **Exercise 7.** The same 640 images as section 3, with the stricter tolerance:
# <!-- END SOLUTION -->

# %%
# NBVAL_IGNORE_OUTPUT
# MODEL ANSWER to exercise 7 (left out of the student version)
first = CONVS[0]  # conv1_1
loose = hrank(model, [first], batches[:N_BATCHES], rtol=1e-2)[first]
default = reference["trained"][first]
display(pd.DataFrame({"default tolerance": default, "rtol=1e-2": loose}).T.round(2))
same = torch.equal(plan_smallest({first: default}, RATIOS[first])[first],
                   plan_smallest({first: loose}, RATIOS[first])[first])
print(f"mean rank {default.mean():.2f} -> {loose.mean():.2f}; Spearman {spearmanr(default, loose).statistic:.2f}; "
      f"the same filters pruned at {RATIOS[first]:.0%}: {same}")

# %% [markdown]
# <!-- BEGIN SOLUTION -->
# No score can rise: on a 32 × 32 map the default counts singular values above
# 32 · ε · σ₁ ≈ 3.8 · 10⁻⁶ σ₁, the new rule only those above 10⁻² σ₁, so every map's rank falls or
# stays. The first mean printed is conv1_1's "mean rank, trained" of section 3's table; its fall
# says how many of the components the default counts carry less than 1 % of the largest (in
# section 1's figure, the values of a conv1_2 map between 1 % of its σ₁ and its own tolerance are
# the ones the stricter rule drops). For pruning only the order matters, and on the network trained
# here it changes: the correlation printed is well below 1, and the two filters at the bottom
# (25 % of 8) are not the same under both rules. The eight filters' mean ranks lie within a few
# units of each other (the table), so moving the threshold by a constant reorders them: which
# filters go depends on a numerical setting as much as on the maps' content, and a criterion
# that a tolerance can overturn does not rank these filters firmly. With 8 filters the correlation
# is coarse (swapping two neighbours in the order moves it by 6 · 2 / (8 · 63) ≈ 0.024), hence the
# second test.
#
# **Exercise 8.** Three more random draws through the same steps as draw 0, then HRank against all
# four:
#
# ```python
# random_hits = [hits["random", "after"]]
# for seed in (1, 2, 3):
#     net = recalibrate_bn(prune(model, plan_random(hrank_scores, RATIOS, seed=seed), SHAPE), score_loader)
#     baselines.run_phases(net, loaders, FINAL, seed=0, weight_decay=WD)
#     random_hits.append(stats.correct(net, loaders["test"]))
# print("each draw:", [f"{100 * h.float().mean():.1f} %" for h in random_hits])
# print(stats.describe(stats.paired_comparison(hits["HRank", "after"], torch.stack(random_hits)),
#                      "HRank", "random, 4 draws"))
# ```
#
# (Draw 0 here went through section 4's shared first phase and its own last phase, which is
# `FINAL` cut in two; the new draws take `FINAL` in one call, so their batches after the third
# epoch come in another order. Both are one fine-tuning of the same length and ratios.) Read the
# draws' own accuracies first: their spread is what one fine-tuned draw can be off by. The
# comparison against four copies averages it out: per image it counts the share of the random
# networks that are right, and the sign-flip test asks whether HRank's network is right more or
# less often than that share. If the four-draw
# comparison agrees in sign with the one-draw comparison and its interval is narrower, draw 0 was
# representative; if they disagree, section 4's one-draw line was luck, which is why the
# notebook's check leans on the distribution right after pruning and on L1, not on draw 0.
#
# **Exercise 9.** Nothing to write but the `%env` line; the answer is in the two runs' section 4
# outputs side by side: the random plans' median and range, and each criterion's percentile.
# The random cloud is a property of the ratios and of the trained network; a criterion's place in
# it is the criterion applied to that network. If a criterion's percentile moves across most of
# the cloud from one training run to the next while staying inside it, its standing in one run
# is noise, and "does not stand out from chance" (the check's rule: it does not beat every draw)
# is all one run can support. A criterion that carried real information would stay above the
# cloud in both runs, as Taylor's loss does in notebook 04. Remove the `%env` line afterwards:
# the stored outputs and their checks are those of `COURSE_SEED=0`.
# <!-- END SOLUTION -->
