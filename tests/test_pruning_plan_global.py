import pytest
import torch

from course_lib.pruning.plan import normalised, plan_global


def t(*values):
    return torch.tensor(values, dtype=torch.float32)


def removed(plan, scores):
    return {name: sorted(set(range(len(s))) - set(plan[name].tolist())) for name, s in scores.items()}


@pytest.mark.parametrize("scores, want", [
    # a: eight units of 2 (l2 norm 5.66, mean 2, sum 16, max 2); b: (1, 1.2) (l2 norm 1.56, mean 1.1, sum 2.2, max 1.2)
    ({"a": t(*[2.0] * 8), "b": t(1.0, 1.2)}, {None: "b", "l2": "a", "mean": "b", "sum": "a", torch.max: "b"}),
    # a: eight units of 20 (l2 56.6, mean 20, sum 160); b: (30, 36) (l2 46.9, mean 33, sum 66)
    ({"a": t(*[20.0] * 8), "b": t(30.0, 36.0)}, {None: "a", "l2": "a", "mean": "b", "sum": "a"}),
])
def test_each_normalisation_removes_the_unit_it_ranks_lowest(scores, want):
    for normalise, layer in want.items():
        gone = removed(plan_global(scores, 1, normalise=normalise), scores)
        assert gone == {name: [0] if name == layer else [] for name in scores}, normalise


def test_cost_aware_ranking_removes_the_expensive_unit_at_equal_scores():
    scores = {"a": t(1, 1), "b": t(1, 1)}
    assert removed(plan_global(scores, 1, normalise=None), scores) == {"a": [0], "b": []}
    costly_b = plan_global(scores, 1, normalise=None, cost={"a": 1, "b": 10})
    assert removed(costly_b, scores) == {"a": [], "b": [0]}
    per_unit = plan_global(scores, 1, normalise=None, cost={"a": torch.tensor([1.0, 5.0])})
    assert removed(per_unit, scores) == {"a": [1], "b": []}


def test_min_keep_fractions_and_round_to():
    scores = {"a": t(1, 2, 3), "b": t(10, 20)}
    assert removed(plan_global(scores, 3, normalise=None), scores) == {"a": [0, 1], "b": [0]}
    # with two units kept per layer only a0 can go: fewer units than asked are removed
    assert removed(plan_global(scores, 3, normalise=None, min_keep=2), scores) == {"a": [0], "b": []}
    assert sum(len(v) for v in removed(plan_global(scores, 0.4, normalise=None), scores).values()) == 2
    big = {"a": torch.arange(1.0, 17.0)}  # remove 5 of 16 -> 11 kept -> rounded to 8
    assert plan_global(big, 5, normalise=None, round_to=8)["a"].tolist() == list(range(8, 16))
    assert all(p.dtype == torch.int64 for p in plan_global(scores, 2).values())


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(amount=5), ValueError, "amount must be an int in"),
    (dict(amount=-1), ValueError, "amount must be an int in"),
    (dict(amount=1.5), ValueError, "amount must be a fraction"),
    (dict(amount=True), ValueError, "amount must be an int in"),
    (dict(normalise="max"), ValueError, "normalise must be one of"),
    (dict(min_keep=0), ValueError, "min_keep must be a positive int"),
    (dict(round_to=0), ValueError, "round_to must be a positive int"),
    (dict(cost={"a": -1}), ValueError, "cost must be None or a dict"),
    (dict(cost={"a": torch.ones(5)}), ValueError, "cost must be None or a dict"),
    (dict(cost=[1, 2]), ValueError, "cost must be None or a dict"),
    (dict(scores={"a": [1, 2]}), TypeError, "scores must be a dict"),
])
def test_plan_global_refuses_bad_arguments(kwargs, error, words):
    args = dict(scores={"a": t(1, 2, 3), "b": t(10, 20)}, amount=2) | kwargs
    with pytest.raises(error, match=words):
        plan_global(**args)


def test_infinite_scores_are_never_removed():
    scores = {"a": torch.tensor([0.1, float("inf"), 0.3]), "b": torch.tensor([float("inf"), 0.2])}
    plan = plan_global(scores, 4, normalise=None)
    assert plan["a"].tolist() == [1] and plan["b"].tolist() == [0]  # 3 removed: the infinite ones stay
    with pytest.raises(ValueError, match="normalise=None"):
        plan_global(scores, 1)
    five = {"a": torch.tensor([float("inf")] * 5 + [0.1])}
    assert plan_global(five, 1, normalise=None, round_to=2)["a"].tolist() == [0, 1, 2, 3, 4]  # rounding spares them


def test_normalised_by_name_or_callable():
    scores = {"a": t(1, 2, 3), "b": t(0, 0)}
    assert normalised(scores, "sum")["a"].tolist() == pytest.approx([1 / 6, 2 / 6, 3 / 6])
    assert normalised(scores, "mean")["a"].tolist() == pytest.approx([0.5, 1.0, 1.5])
    assert normalised(scores, lambda s: s.max())["a"].tolist() == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert normalised(scores, "sum")["b"].tolist() == [0, 0]  # an all-zero layer stays zero
    with pytest.raises(ValueError, match="normalise must be one of .* or a callable"):
        normalised(scores, "max")
