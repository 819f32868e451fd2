"""Figures of the pruning notebooks: the coupled tensors of one pruning group, sensitivity curves."""
import matplotlib.pyplot as plt
import pandas as pd
import torch

from .surgery import dependencies


def _strength(weight):
    """|W| summed over everything but the first two dims: (out, in, ...) -> (out, in)."""
    return weight.detach().abs().flatten(2).sum(2) if weight.dim() > 2 else weight.detach().abs()


def plot_coupling(model, plan, input_shape):
    """Panels for the group of the one layer of ``plan`` (``{layer: indices to KEEP}``, as for
    the surgery): its filters' |W| (rows = filters), its BatchNorm's |gamma| and |beta| (each
    column scaled to its maximum) and the consumer's |W| (columns = input channels), with what
    removing the other filters deletes shaded red. Returns the figure."""
    if not isinstance(plan, dict) or len(plan) != 1:
        raise ValueError(f"plan must be a dict {{layer: indices to keep}} for exactly one layer, got {plan!r}")
    (layer, keep), = plan.items()
    group = dependencies(model, input_shape).get(layer)
    if group is None:
        raise ValueError(f"plan: {layer!r} is not a prunable layer of the model")
    if group.maxout is not None:
        raise ValueError(f"plan: {layer!r} feeds a Maxout, whose consumer sees units, not these filters")
    modules = dict(model.named_modules())
    n = group.units
    keep = {int(k) for k in torch.as_tensor(keep).flatten().tolist()}
    removed = sorted(set(range(n)) - keep)
    if not keep <= set(range(n)) or not removed:
        raise ValueError(f"plan: the kept indices of {layer!r} must lie in 0..{n - 1} and leave at least one "
                         f"filter to remove, got {sorted(keep)}")
    panels = [(f"{layer}: |W| per (filter, input channel)", _strength(modules[layer].weight), "rows", 1)]
    for name in group.norms:
        norm = modules[name]
        affine = torch.stack([norm.weight, norm.bias], 1).detach().abs()
        panels.append((f"{name}: |gamma|, |beta|", affine / affine.max(0).values.clamp_min(1e-12), "rows", 1))
    consumer = _strength(modules[group.consumer].weight)
    panels.append((f"{group.consumer}: |W| per (output, input)", consumer, "cols", group.block))
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.6),
                             gridspec_kw={"width_ratios": [max(3, p[1].shape[1] / p[3]) for p in panels]})
    for ax, (title, values, where, block) in zip(axes, panels):
        image = ax.imshow(values.numpy(), cmap="Greys", aspect="auto", interpolation="nearest")
        fig.colorbar(image, ax=ax, fraction=0.05, pad=0.02)
        for k in removed:
            if where == "rows":
                ax.axhspan(k - 0.5, k + 0.5, color="red", alpha=0.45)
            else:
                ax.axvspan(k * block - 0.5, (k + 1) * block - 0.5, color="red", alpha=0.45)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("input channel" if values.shape[1] > 2 else "0: |gamma|   1: |beta|")
        ax.set_ylabel("output unit")
    fig.suptitle(f"Removing filters {removed} of {layer} deletes the red rows and columns", fontsize=10)
    fig.tight_layout()
    return fig


def plot_sensitivity(table, panels=None, title="Sensitivity of each layer to L1 filter pruning"):
    """Accuracy vs fraction of filters pruned, one curve per layer (as Li et al. Fig. 2(b)), as
    small multiples: ``panels`` = ``{panel title: [layers of the table]}`` (default: one panel
    with every layer), so that each panel holds few enough curves to tell apart. Returns the figure."""
    if not isinstance(table, pd.DataFrame) or not {"layer", "ratio", "accuracy"} <= set(table.columns):
        raise TypeError("table must be a DataFrame returned by layer_sensitivity()")
    layers = list(dict.fromkeys(table["layer"]))
    panels = {title: layers} if panels is None else panels
    if (not isinstance(panels, dict) or not panels
            or not all(isinstance(v, (list, tuple)) and v and set(v) <= set(layers) for v in panels.values())):
        raise ValueError(f"panels must be a non-empty dict {{title: [layers of the table]}}, got {panels!r}")
    fig, axes = plt.subplots(1, len(panels), figsize=(min(16, 3.2 * len(panels) + 2), 3.4), sharey=True,
                             squeeze=False)
    for ax, (name, members) in zip(axes[0], panels.items()):
        for layer in members:
            rows = table[table["layer"] == layer].sort_values("ratio")
            ax.plot(100 * rows["ratio"], 100 * rows["accuracy"], marker="o", ms=3, label=layer)
        ax.set(title=name, xlabel="filters pruned away (%)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    axes[0, 0].set_ylabel("accuracy without retraining (%)")
    if len(panels) > 1:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
