"""Criteria score every output unit (higher = more important) without touching the model; plans
keep the right units in the right number."""
import copy

import pytest
import torch
import torch.nn as nn
import torch_pruning as tp
import torchvision
from scipy.stats import spearmanr

from course_lib.pruning import (CRITERIA, aaws, agreement, bn_scale, filter_norms, l1_norm, l2_norm, n_keep,
                                nonzero_fraction, plan_global, plan_largest, plan_random, plan_smallest, plan_table,
                                random_scores, std_activation)


def small_net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 6, 3), nn.BatchNorm2d(6), nn.ReLU(), nn.Flatten(), nn.Linear(6 * 4 * 4, 5),
                         nn.ReLU(), nn.Linear(5, 2))


def test_l1_is_li_et_al_sum_of_absolute_weights_and_matches_torch_pruning():
    # torch-pruning's exact equivalent of Li et al.'s criterion (its default is group L2, normalised)
    torch.manual_seed(0)
    model = torchvision.models.vgg16_bn(num_classes=10)
    graph = tp.DependencyGraph().build_dependency(model, example_inputs=torch.randn(1, 3, 32, 32))
    importance = tp.importance.MagnitudeImportance(p=1, normalizer=None, group_reduction="first")
    names = ["features.0", "features.24", "classifier.0", "classifier.3"]
    ours = l1_norm(model, names)
    for name in names:
        layer = model.get_submodule(name)
        fn = tp.prune_conv_out_channels if isinstance(layer, nn.Conv2d) else tp.prune_linear_out_channels
        group = graph.get_pruning_group(layer, fn, idxs=list(range(layer.weight.shape[0])))
        assert torch.allclose(ours[name], importance(group), rtol=1e-5), name


def test_l2_and_filter_norms_by_hand():
    w = torch.tensor([[[[3.0, -4.0]]], [[[0.0, -1.0]]]])  # two filters of shape (1, 1, 2)
    assert filter_norms(w, 1).tolist() == [7.0, 1.0]
    assert filter_norms(w, 2).tolist() == [5.0, 1.0]
    model = small_net()
    expected = model[4].weight.detach().pow(2).sum(1).sqrt()
    assert torch.allclose(l2_norm(model, ["4"])["4"], expected)


def test_aaws_is_the_mean_absolute_weight_so_it_ranks_like_l1_within_a_layer_only():
    w = torch.tensor([[[[3.0, -4.0]]], [[[0.0, -1.0]]]])  # two filters of two weights each
    model = nn.Sequential(nn.Conv2d(1, 2, (1, 2)), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 2, 3))
    with torch.no_grad():
        model[0].weight.copy_(w)
        model[3].weight.copy_(torch.tensor([[1.0, 1.0, 1.0, 1.0], [2.0, 0.0, 0.0, 0.0], [0.5, 0.5, 0.25, 0.0]]))
    scores = aaws(model, ["0", "3"])
    assert scores["0"].tolist() == [3.5, 0.5] and scores["3"].tolist() == [1.0, 0.5, 0.3125]
    l1 = l1_norm(model, ["0", "3"])
    assert all(torch.equal(scores[n].argsort(), l1[n].argsort()) for n in scores)  # the same order in a layer
    # across layers the order can flip: the conv's weaker filter (2 weights) against the linear's last unit (4)
    assert l1["0"][1] < l1["3"][2] and scores["0"][1] > scores["3"][2]
    with pytest.raises(ValueError, match="'1' is not a Conv2d or Linear"):
        aaws(model, ["1"])


def test_criteria_do_not_change_the_model_and_random_is_reproducible():
    model = small_net()
    before = copy.deepcopy(model.state_dict())
    for criterion in (l1_norm, l2_norm, random_scores):
        scores = criterion(model, ["0", "4"])
        assert [len(scores["0"]), len(scores["4"])] == [6, 5]
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert torch.equal(random_scores(model, ["0"], seed=3)["0"], random_scores(model, ["0"], seed=3)["0"])
    assert not torch.equal(random_scores(model, ["0"], seed=3)["0"], random_scores(model, ["0"], seed=4)["0"])


@pytest.mark.parametrize("call, error, words", [
    (lambda m: l1_norm(m, "0"), TypeError, "layers"),
    (lambda m: l1_norm(m, ["1"]), ValueError, "'1' is not a Conv2d or Linear"),
    (lambda m: l1_norm("net", ["0"]), TypeError, "model"),
    (lambda m: random_scores(m, ["0"], seed=-1), ValueError, "seed"),
    (lambda m: filter_norms(torch.ones(3), 1), ValueError, "weight"),
    (lambda m: filter_norms(torch.ones(3, 3), 3), ValueError, "p must be 1 or 2"),
])
def test_criteria_refuse_bad_arguments(call, error, words):
    with pytest.raises(error, match=words):
        call(small_net())


def test_plans_keep_the_right_units():
    scores = {"a": torch.tensor([0.5, 0.1, 0.9, 0.3, 0.7]), "b": torch.tensor([2.0, 1.0])}
    assert plan_smallest(scores, 0.4)["a"].tolist() == [0, 2, 4]  # drops 0.1 and 0.3
    assert plan_largest(scores, 0.4)["a"].tolist() == [0, 1, 3]  # drops 0.9 and 0.7
    assert plan_smallest(scores, {"a": 0.2})["b"].tolist() == [0, 1]  # layers not named: ratio 0
    keep = plan_random(scores, 0.6, seed=1)["a"]
    assert len(keep) == 2 and keep.tolist() == sorted(set(keep.tolist()))
    assert torch.equal(keep, plan_random(scores, 0.6, seed=1)["a"])


def test_one_selection_contract_an_amount_is_units_a_ratio_or_per_layer():
    scores = {"a": torch.tensor([0.5, 0.1, 0.9, 0.3, 0.7]), "b": torch.tensor([2.0, 1.0, 3.0])}
    for select in (plan_smallest, plan_largest, plan_random):
        assert [len(k) for k in select(scores, 2).values()] == [3, 1]  # an int: units removed from every layer
        assert [len(k) for k in select(scores, 0.4).values()] == [3, 2]  # a ratio of every layer
        assert [len(k) for k in select(scores, {"a": 1, "b": 0.34}).values()] == [4, 2]  # per layer
    assert plan_smallest(scores, 2)["a"].tolist() == [0, 2, 4] and plan_smallest(scores, 2)["b"].tolist() == [2]
    assert len(plan_global(scores, 3)["a"]) + len(plan_global(scores, 3)["b"]) == 5  # 3 units in all
    with pytest.raises(TypeError, match="plan_global ranks all layers together"):
        plan_global(scores, {"a": 0.5})


def test_n_keep_rounds_and_never_empties_a_layer():
    assert [n_keep(10, r) for r in (0.0, 0.14, 0.15, 0.5, 0.99)] == [10, 9, 8, 5, 1]
    assert n_keep(1, 0.9) == 1


def test_plan_table_counts():
    scores = {"a": torch.arange(8.0), "b": torch.arange(4.0)}
    table = plan_table(plan_smallest(scores, {"a": 0.25}), scores)
    assert table.set_index("layer").loc["a", ["units", "kept", "removed"]].tolist() == [8, 6, 2]
    assert table.set_index("layer").loc["b", "removed %"] == 0.0


@pytest.mark.parametrize("scores, amount, error, words", [
    ({"a": torch.ones(3)}, 1.0, ValueError,
     "amount for layer 'a' must be a ratio in \\[0, 1\\) or a number of units in \\[0, 2\\]"),
    ({"a": torch.ones(3)}, -0.1, ValueError, "amount for layer 'a'"),
    ({"a": torch.ones(3)}, 3, ValueError, "number of units in \\[0, 2\\], got 3"),
    ({"a": torch.ones(3)}, -1, ValueError, "amount for layer 'a'"),
    ({"a": torch.ones(3), "b": torch.ones(5)}, {"b": 5}, ValueError, "amount for layer 'b'.*\\[0, 4\\], got 5"),
    ({"a": torch.ones(3)}, {"z": 0.5}, ValueError, "amount names layers without scores"),
    ({"a": torch.ones(3)}, True, ValueError, "amount"),
    ({"a": torch.ones(3)}, "half", ValueError, "amount"),
    ({"a": [1, 2]}, 0.5, TypeError, "scores"),
    ([torch.ones(3)], 0.5, TypeError, "scores"),
])
def test_plans_refuse_bad_arguments(scores, amount, error, words):
    for select in (plan_smallest, plan_largest, plan_random):
        with pytest.raises(error, match=words):
            select(scores, amount)


def test_plan_random_refuses_bad_seed():
    with pytest.raises(ValueError, match="seed"):
        plan_random({"a": torch.ones(3)}, 0.5, seed=1.5)


@pytest.mark.parametrize("n, ratio, round_to, kept", [
    (51, 0.0, 8, 48), (64, 0.3, 8, 48), (64, 0.25, 8, 48), (64, 0.2, 8, 48), (64, 0.15, 8, 56),
    (64, 0.9, 8, 8), (5, 0.5, 8, 5), (20, 0.0, 8, 16), (20, 0.5, 1, 10), (16, 0.95, 8, 8)])
def test_n_keep_rounds_to_a_multiple(n, ratio, round_to, kept):
    assert n_keep(n, ratio, round_to) == kept


def test_plans_round_kept_counts():
    scores = {"a": torch.arange(64.0), "b": torch.arange(20.0)}
    plan = plan_smallest(scores, 0.3, round_to=8)
    assert [len(plan["a"]), len(plan["b"])] == [48, 16]
    assert plan["a"].tolist() == list(range(16, 64))  # still the largest scores
    assert len(plan_largest(scores, 0.3, round_to=8)["a"]) == len(plan_random(scores, 0.3, round_to=8)["a"]) == 48
    with pytest.raises(ValueError, match="round_to"):
        plan_smallest(scores, 0.3, round_to=0)


def test_std_activation_by_hand_and_bn_scale_is_the_batchnorm_gamma():
    model = small_net().eval()
    with torch.no_grad():
        model[1].weight.copy_(torch.tensor([1.0, -2.0, 0.5, 0.0, 3.0, -0.1]))
    x = torch.randn(10, 3, 6, 6, generator=torch.Generator().manual_seed(1))
    loader = [(x[:4], torch.zeros(4, dtype=torch.long)), (x[4:], torch.zeros(6, dtype=torch.long))]
    with torch.no_grad():
        a = model[:3](x)  # after the BatchNorm and the ReLU
    expected = a.transpose(0, 1).flatten(1).std(1, unbiased=False)  # over images and positions
    assert torch.allclose(std_activation(model, ["0"], loader)["0"], expected, atol=1e-5)
    assert bn_scale(model, ["0"], (3, 6, 6))["0"].tolist() == pytest.approx([1.0, 2.0, 0.5, 0.0, 3.0, 0.1])
    with pytest.raises(ValueError, match="no BatchNorm after them"):
        bn_scale(model, ["4"], (3, 6, 6))


def test_criteria_by_name():
    assert {"l1", "l2", "aaws", "apoz", "mean_activation", "std_activation", "taylor", "hrank", "bn_scale", "random",
            "oracle"} <= set(CRITERIA)
    assert CRITERIA["l1"] is l1_norm and CRITERIA["apoz"] is nonzero_fraction
    model = small_net()
    assert torch.equal(CRITERIA["l2"](model, ["0"])["0"], l2_norm(model, ["0"])["0"])


def test_agreement_is_spearman_per_layer_and_pooled_after_rescaling():
    gen = torch.Generator().manual_seed(0)
    reference = {"a": torch.rand(8, generator=gen), "b": 10 * torch.rand(5, generator=gen)}
    scores = {"a": torch.rand(8, generator=gen), "b": torch.rand(5, generator=gen)}
    rho = agreement(scores, reference)
    for name in reference:
        assert rho[name] == pytest.approx(spearmanr(reference[name], scores[name]).statistic)
    pooled = torch.cat([scores["a"] / scores["a"].norm(), scores["b"] / scores["b"].norm()])
    assert rho["all together"] == pytest.approx(spearmanr(torch.cat(list(reference.values())), pooled).statistic)
    assert agreement(reference, reference)["all together"] < 1  # layers on different scales, each rescaled
    assert agreement(reference, reference, normalise=None)["all together"] == pytest.approx(1.0)
    assert all(agreement(reference, reference)[n] == pytest.approx(1.0) for n in reference)


@pytest.mark.parametrize("scores, reference, error, words", [
    ([1.0], {"a": torch.ones(2)}, TypeError, "dicts"),
    ({"a": torch.ones(2)}, {"b": torch.ones(2)}, ValueError, "same layers"),
    ({"a": torch.ones(3)}, {"a": torch.ones(2)}, ValueError, "same length"),
])
def test_agreement_refuses_bad_arguments(scores, reference, error, words):
    with pytest.raises(error, match=words):
        agreement(scores, reference)
