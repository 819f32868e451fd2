import functools

import pytest
import torch
import torch.nn as nn

from course_lib import measure
from course_lib.pruning import (l1_norm, mask_outgoing, one_shot, plan_global, plan_random, plan_smallest, prune,
                                 prune_iteratively, recalibrate_bn, unit_flops)


def net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 16, 10), nn.ReLU(),
                         nn.Linear(10, 3)).eval()


SHAPE = (1, 8, 8)


def test_each_step_removes_exactly_n_units_and_the_history_matches_measure():
    model = net()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    run = prune_iteratively(model, l1_norm, SHAPE, per_step=3, steps=4)
    pruned, history = run.model, run.history
    assert history["step"].tolist() == [0, 1, 2, 3, 4]
    assert history["removed"].tolist() == [0, 3, 6, 9, 12]
    assert sum(len(k) for k in run.kept.values()) == 6 + 8 + 10 - 12
    assert run.file_bytes == measure.state_dict_bytes(pruned)
    last = measure.summary(pruned, SHAPE)
    assert history.iloc[-1][["params", "FLOPs", "bytes"]].tolist() == [last["params"], last["FLOPs"], last["bytes"]]
    assert history.iloc[-1]["FLOPs %"] == round(100 * last["FLOPs"] / measure.summary(model, SHAPE)["FLOPs"], 2)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items()), "the original changed"


def test_no_layer_is_ever_emptied():
    run = prune_iteratively(net(), l1_norm, SHAPE, per_step=0.5, steps=5)
    pruned, history = run.model, run.history
    assert all(m.weight.shape[0] >= 1 for m in pruned.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))
    assert history["removed"].iloc[-1] == 6 + 8 + 10 - 3  # everything but one unit per layer
    assert pruned(torch.randn(2, *SHAPE)).shape == (2, 3)


def test_composed_plans_name_the_original_units_and_keep_the_surgery_invariant():
    """After several steps the network computes what the original computes with the removed
    original units' outgoing connections cut (no fine-tuning in between)."""
    model = net()
    run = prune_iteratively(model, l1_norm, SHAPE, per_step=4, steps=3,
                            select=functools.partial(plan_global, normalise=None))
    assert all(k.tolist() == sorted(set(k.tolist())) for k in run.kept.values())  # a plan: sorted, distinct
    x = torch.randn(5, *SHAPE)
    with torch.no_grad():
        assert torch.allclose(run.model(x), mask_outgoing(model, run.kept, SHAPE).eval()(x), atol=1e-5)


def test_fine_tune_target_and_accuracy_rows():
    x = torch.randn(20, *SHAPE)
    loader = [(x, torch.zeros(20, dtype=torch.long))]
    calls = []
    history = prune_iteratively(net(), l1_norm, SHAPE, per_step=2, steps=10, fine_tune=calls.append,
                                loader=loader, target=lambda row: row["FLOPs %"] <= 60, latency_batch=2).history
    assert len(calls) == len(history) - 1
    assert history["FLOPs %"].iloc[-1] <= 60 and (history["FLOPs %"].iloc[:-1] > 60).all()
    assert {"accuracy", "latency ms"} <= set(history.columns) and history["accuracy"].between(0, 1).all()


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(per_step=0), ValueError, "per_step must be a positive int"),
    (dict(per_step=1.5), ValueError, "per_step must be a fraction"),
    (dict(steps=0), ValueError, "steps must be a positive int"),
    (dict(criterion="l1"), TypeError, "criterion must be a callable"),
    (dict(fine_tune=3), TypeError, "fine_tune, target, cost, accept and observe must be callables"),
    (dict(cost="flops"), TypeError, "fine_tune, target, cost, accept and observe must be callables"),
    (dict(observe="print"), TypeError, "fine_tune, target, cost, accept and observe must be callables"),
    (dict(layers=["9"]), ValueError, "layers must be a non-empty list of prunable layers"),
    (dict(model="net"), TypeError, "model must be a torch.nn.Module"),
])
def test_prune_iteratively_refuses_bad_arguments(kwargs, error, words):
    args = dict(model=net(), criterion=l1_norm, input_shape=SHAPE, per_step=2, steps=1) | kwargs
    with pytest.raises(error, match=words):
        prune_iteratively(**args)


def test_cost_is_recomputed_on_the_current_network_every_step():
    seen = []

    def cost(model, layers):
        seen.append([model.get_submodule(name).weight.shape[0] for name in layers])
        return unit_flops(model, SHAPE, layers)

    history = prune_iteratively(net(), l1_norm, SHAPE, per_step=3, steps=3, cost=cost).history
    assert seen[0] == [6, 8, 10] and [sum(sizes) for sizes in seen] == [24, 21, 18]  # the current network's
    assert history["removed"].tolist() == [0, 3, 6, 9]


def test_a_rejected_step_is_undone_and_ends_the_loop():
    model = net()
    limit = measure.count_params(model) - 500
    run = prune_iteratively(model, l1_norm, SHAPE, per_step=2, steps=10, accept=lambda row: row["params"] >= limit)
    pruned, history = run.model, run.history
    assert history["accepted"].tolist()[:-1] == [True] * (len(history) - 1) and not history["accepted"].iloc[-1]
    kept_row = history.iloc[-2]
    assert measure.count_params(pruned) == kept_row["params"] >= limit
    assert 6 + 8 + 10 - sum(len(k) for k in run.kept.values()) == kept_row["removed"]  # the undone step's are back
    with pytest.raises(TypeError, match="accept"):
        prune_iteratively(model, l1_norm, SHAPE, per_step=2, steps=1, accept=0.5)


def test_the_loop_ends_when_the_selection_removes_nothing():
    keep_all = lambda scores, n: {name: torch.arange(len(s)) for name, s in scores.items()}  # noqa: E731
    calls = []
    history = prune_iteratively(net(), l1_norm, SHAPE, per_step=2, steps=5, select=keep_all,
                                fine_tune=calls.append).history
    assert len(history) == 1 and not calls


def test_observe_sees_every_step_the_scored_network_its_scores_and_plan():
    seen = []

    def observe(step, model, scores, plan):  # another criterion scored on the same network
        assert torch.equal(scores["0"], l1_norm(model, ["0"])["0"])
        seen.append((step, {n: model.get_submodule(n).weight.shape[0] for n in scores},
                     {n: len(k) for n, k in plan.items()}))

    history = prune_iteratively(net(), l1_norm, SHAPE, per_step=3, steps=3, observe=observe).history
    assert [s for s, _, _ in seen] == [1, 2, 3]
    # the network observed is the one before the step's surgery: its units minus the plan's are what was cut
    for (step, units, kept), removed in zip(seen, history["removed"].diff().iloc[1:]):
        assert sum(units.values()) - sum(kept.values()) == removed == 3
    assert sum(seen[1][1].values()) == sum(seen[0][1].values()) - 3


def test_one_shot_is_select_then_surgery_and_leaves_the_model_alone():
    model = net()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    scores = l1_norm(model, ["0", "4"])
    run = one_shot(model, scores, {"0": 0.5, "4": 0.25}, SHAPE)
    plan = plan_smallest(scores, {"0": 0.5, "4": 0.25})
    assert {k: v.tolist() for k, v in run.kept.items()} == {k: v.tolist() for k, v in plan.items()}
    x = torch.randn(4, *SHAPE)
    assert torch.equal(run.model(x), prune(model, plan, SHAPE)(x))
    assert torch.allclose(run.model(x), mask_outgoing(model, plan, SHAPE)(x), atol=1e-6)
    assert run.history is None and run.file_bytes == measure.state_dict_bytes(run.model)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items()), "the original changed"


def test_one_shot_with_another_selection_and_a_calibration_loader():
    model = net()
    loader = [(torch.randn(16, *SHAPE), torch.zeros(16, dtype=torch.long)) for _ in range(2)]
    scores = l1_norm(model, ["0"])
    run = one_shot(model, scores, 2, SHAPE, select=functools.partial(plan_random, seed=3), calibration_loader=loader)
    plan = plan_random(scores, 2, seed=3)
    assert torch.equal(run.kept["0"], plan["0"])
    expected = recalibrate_bn(prune(model, plan, SHAPE), loader)
    assert torch.equal(run.model[1].running_mean, expected[1].running_mean)
    assert not torch.equal(run.model[1].running_mean, prune(model, plan, SHAPE)[1].running_mean)


def test_one_shot_bad_inputs():
    model = net()
    scores = l1_norm(model, ["0"])
    with pytest.raises(TypeError, match="select"):
        one_shot(model, scores, 2, SHAPE, select="smallest")
    with pytest.raises(TypeError, match="model"):
        one_shot("net", scores, 2, SHAPE)
    with pytest.raises(ValueError, match="amount"):
        one_shot(model, scores, 1.5, SHAPE)
