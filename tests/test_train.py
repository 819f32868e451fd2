import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from course_lib import config, train
from course_lib.models.lenet import LeNet5


def tiny_loaders(seed=0):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 1, 28, 28, generator=g)
    y = (x.mean((1, 2, 3)) > 0).long()
    ds = TensorDataset(x, y)
    return (DataLoader(ds, batch_size=16, shuffle=True, generator=torch.Generator().manual_seed(seed)),
            DataLoader(ds, batch_size=32))


def trained_weights(seed):
    config.seed_everything(seed)
    model = LeNet5(num_classes=2)
    tr, va = tiny_loaders(seed)
    history = train.fit(model, tr, va, epochs=2, lr=0.05)
    return model, history


def test_same_seed_same_weights():
    a, _ = trained_weights(0)
    b, _ = trained_weights(0)
    c, _ = trained_weights(1)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))


def test_fit_history_and_best_checkpoint_restored():
    model, history = trained_weights(0)
    assert [h["epoch"] for h in history] == [1, 2]
    assert set(history[0]) == {"epoch", "train_loss", "train_acc", "val_loss", "val_acc"}
    _, va = tiny_loaders()
    assert train.evaluate(model, va)["accuracy"] == max(h["val_acc"] for h in history)


def test_fit_learns_something():
    config.seed_everything(0)
    model = LeNet5(num_classes=2)
    tr, va = tiny_loaders()
    before = train.evaluate(model, va)["loss"]
    train.fit(model, tr, epochs=5, lr=0.05)
    assert train.evaluate(model, va)["loss"] < before


def test_after_step_runs_after_each_step():
    calls = []
    tr, _ = tiny_loaders()
    train.fit(LeNet5(num_classes=2), tr, epochs=1, after_step=lambda m: calls.append(1))
    assert len(calls) == len(tr)


def test_a_loss_hook_of_zero_leaves_the_weights_unchanged():
    """The hook replaces the cross-entropy: an objective with zero gradient moves nothing (SGD with
    momentum and Adam alike), while the default objective does move the weights."""
    tr, _ = tiny_loaders()
    for optimizer in ("sgd", "adam"):
        config.seed_everything(0)
        model = LeNet5(num_classes=2)
        start = [p.detach().clone() for p in model.parameters()]
        history = train.fit(model, tr, epochs=1, lr=0.05, optimizer=optimizer,
                            loss=lambda m, logits, x, y: 0 * logits.sum())
        assert all(torch.equal(p, q) for p, q in zip(model.parameters(), start)), optimizer
        assert history[0]["train_loss"] == 0
    train.fit(model, tr, epochs=1, lr=0.05)
    assert not all(torch.equal(p, q) for p, q in zip(model.parameters(), start))


def test_loss_hook_gets_the_model_logits_and_batch():
    tr, _ = tiny_loaders()
    seen = []

    def objective(model, logits, x, y):
        seen.append((logits.shape, x.shape, y.shape))
        return torch.nn.functional.cross_entropy(logits, y) + 0.01 * sum(p.abs().sum() for p in model.parameters())

    train.fit(LeNet5(num_classes=2), tr, epochs=1, loss=objective)
    assert len(seen) == len(tr)
    assert seen[0] == (torch.Size([16, 2]), torch.Size([16, 1, 28, 28]), torch.Size([16]))


def test_before_step_sees_the_gradients_before_the_step():
    tr, _ = tiny_loaders()
    config.seed_everything(0)
    model = LeNet5(num_classes=2)
    weight = model.classifier[-1].weight
    seen = []

    def look(m):  # the gradient is there, the weights have not moved yet
        seen.append((weight.grad is not None and bool(weight.grad.abs().sum() > 0), weight.detach().clone()))

    before = weight.detach().clone()
    train.fit(model, tr, epochs=1, lr=0.05, before_step=look)
    assert len(seen) == len(tr) and all(has_grad for has_grad, _ in seen)
    assert torch.equal(seen[0][1], before)  # the first call came before the first step
    assert not torch.equal(seen[1][1], before)  # and the second after it


def test_before_step_changes_what_the_step_does():
    """Zeroing every gradient in before_step freezes the model: the hook runs before the update."""
    tr, _ = tiny_loaders()
    model = LeNet5(num_classes=2)
    start = [p.detach().clone() for p in model.parameters()]
    train.fit(model, tr, epochs=1, lr=0.05, before_step=lambda m: [p.grad.zero_() for p in m.parameters()])
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), start))


def test_warmup_scales_the_first_adam_steps():
    """Adam's first step moves each weight by about lr; with warmup=W it moves by about lr / W."""
    tr, _ = tiny_loaders()

    def first_step_change(warmup):
        config.seed_everything(0)
        model = LeNet5(num_classes=2)
        start = model.classifier[-1].weight.detach().clone()
        moves = []
        train.fit(model, tr, epochs=1, lr=0.01, optimizer="adam", warmup=warmup,
                  after_step=lambda m: moves.append((m.classifier[-1].weight - start).abs().max().item()))
        return moves[0]

    assert first_step_change(0) == pytest.approx(0.01, rel=0.05)
    assert first_step_change(10) == pytest.approx(0.001, rel=0.05)


@pytest.mark.parametrize("kwargs, message", [(dict(epochs=0), "epochs must be a positive int"),
                                             (dict(warmup=-1), "warmup must be a non-negative int"),
                                             (dict(lr=0), "lr must be positive"),
                                             (dict(optimizer="rmsprop"), "optimizer must be 'sgd' or 'adam'"),
                                             (dict(patience=0), "patience must be a positive int")])
def test_fit_rejects_bad_arguments(kwargs, message):
    tr, _ = tiny_loaders()
    with pytest.raises(ValueError, match=message):
        train.fit(LeNet5(num_classes=2), tr, **kwargs)


@pytest.mark.parametrize("hook", ["loss", "before_step", "after_step"])
def test_fit_rejects_hooks_that_are_not_callable(hook):
    tr, _ = tiny_loaders()
    with pytest.raises(TypeError, match="must be callables or None"):
        train.fit(LeNet5(num_classes=2), tr, **{hook: "not a function"})


def test_evaluate_rejects_empty_loader_and_non_models():
    with pytest.raises(ValueError, match="at least one batch"):
        train.evaluate(LeNet5(), [])
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        train.evaluate("model", [])


def test_evaluate_gives_per_image_correctness_and_restores_the_flag_on_error():
    tr, va = tiny_loaders()
    model = LeNet5(num_classes=2).train()
    out = train.evaluate(model, va)
    assert out["correct"].dtype == torch.bool and len(out["correct"]) == 64
    assert out["accuracy"] == out["correct"].float().mean().item() and model.training

    def broken(x):
        raise RuntimeError("forward failed")

    model.forward = broken
    with pytest.raises(RuntimeError, match="forward failed"):
        train.evaluate(model, va)
    assert model.training
