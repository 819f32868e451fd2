"""Training loops: ``fit`` (with early stopping on validation accuracy), ``evaluate``, ``fine_tune``.
Trained baselines are shared between notebooks through :mod:`course_lib.cache`."""
import copy

import torch
import torch.nn.functional as F

from . import config
from .validate import check_model, eval_mode, int_in, positive_int


def evaluate(model, loader, device=None):
    """Mean cross-entropy ``loss``, ``accuracy`` (fraction in [0, 1]) and ``correct`` (per-image
    bool tensor (N,) on the CPU, in loader order) of ``model`` on ``loader``, in eval mode; the
    model's training flag is restored afterwards, also when the forward pass raises."""
    check_model(model)
    device = device or config.device()
    loss, hits = 0.0, []
    with eval_mode(model), torch.no_grad():
        for x, y in config.limit(loader):
            x, y = x.to(device), y.to(device)
            logits = model(x)
            loss += F.cross_entropy(logits, y, reduction="sum").item()
            hits.append((logits.argmax(1) == y).cpu())
    if not hits:
        raise ValueError("loader must yield at least one batch")
    correct = torch.cat(hits)
    return {"loss": loss / len(correct), "accuracy": correct.sum().item() / len(correct), "correct": correct}


def make_optimizer(params, name="sgd", lr=0.01, momentum=0.9, weight_decay=0.0):
    """SGD with momentum (``"sgd"``) or Adam (``"adam"``) over ``params``."""
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr!r}")
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    raise ValueError(f"optimizer must be 'sgd' or 'adam', got {name!r}")


def fit(model, train_loader, val_loader=None, epochs=10, lr=0.01, optimizer="sgd", momentum=0.9,
        weight_decay=0.0, patience=None, warmup=0, device=None, after_step=None, desc="train", loss=None,
        before_step=None):
    """Train ``model`` in place (default: cross-entropy); returns the history, one dict per epoch
    (one epoch of two batches in the fast development run, :func:`course_lib.config.fast_dev_run`):
    ``{"epoch", "train_loss", "train_acc", "val_loss", "val_acc"}`` (val_* only with a val_loader).

    With ``val_loader`` the weights of the best validation epoch are restored at the end, and
    ``patience`` stops after that many epochs without improvement. ``warmup`` (optimizer steps)
    raises the learning rate linearly from lr/warmup to lr over the first steps: Adam's first
    updates move every weight by about lr whatever its gradient, enough to drive a thin layer's
    ReLUs negative for good before the moment estimates settle. ``after_step(model)`` runs after
    every optimizer step (e.g. to keep pruned weights at zero). Only parameters with
    ``requires_grad`` are trained.

    Hooks for the methods that change the objective: ``loss(model, logits, x, y)`` returns the
    scalar tensor to minimise instead of the cross-entropy (distillation's softened targets, a
    sparsity penalty added to it); ``before_step(model)`` runs between ``backward()`` and the
    optimizer step, when the gradients are in ``.grad`` (a subgradient or group-lasso term added
    to them). The history's ``train_loss`` is the objective minimised.
    """
    if any(f is not None and not callable(f) for f in (loss, before_step, after_step)):
        raise TypeError("loss, before_step and after_step must be callables or None")
    positive_int(epochs, "epochs")
    int_in(warmup, "warmup", 0)  # optimizer steps
    if patience is not None:
        positive_int(patience, "patience")
    device = device or config.device()
    model.to(device)
    opt = make_optimizer([p for p in model.parameters() if p.requires_grad], optimizer, lr, momentum, weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: min(1.0, (step + 1) / max(warmup, 1)))
    history, best_acc, best_state, stale = [], -1.0, None, 0
    for epoch in config.progress(range(1, (1 if config.fast_dev_run() else epochs) + 1), desc=desc):
        model.train()
        loss_sum, correct, n = 0.0, 0, 0
        for x, y in config.limit(train_loader):
            x, y = x.to(device), y.to(device)
            logits = model(x)
            objective = F.cross_entropy(logits, y) if loss is None else loss(model, logits, x, y)
            opt.zero_grad()
            objective.backward()
            if before_step is not None:
                before_step(model)
            opt.step()
            schedule.step()
            if after_step is not None:
                after_step(model)
            loss_sum += objective.item() * len(y)
            correct += (logits.argmax(1) == y).sum().item()
            n += len(y)
        row = {"epoch": epoch, "train_loss": loss_sum / n, "train_acc": correct / n}
        if val_loader is not None:
            val = evaluate(model, val_loader, device)
            row.update(val_loss=val["loss"], val_acc=val["accuracy"])
            if val["accuracy"] > best_acc:
                best_acc, best_state, stale = val["accuracy"], copy.deepcopy(model.state_dict()), 0
            else:
                stale += 1
        history.append(row)
        if patience is not None and stale >= patience:
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    return history


def fine_tune(model, train_loader, val_loader=None, epochs=3, lr=1e-3, **kwargs):
    """A short :func:`fit` with a small learning rate, for recovering accuracy after compression."""
    return fit(model, train_loader, val_loader, epochs=epochs, lr=lr, desc="fine-tune", **kwargs)

