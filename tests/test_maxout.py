"""Maxout units and maxout neuron pruning: the module computes the max over its pieces; the
surgery removes pieces (and emptied units) so that the pruned network equals the original with
the removed pieces forced to -inf; the win counts are what the recorder sees."""
import random

import pytest
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

from course_lib import measure
from course_lib.models.maxout import Maxout, MaxoutLeNet5, maxout_head, with_maxout_head
from course_lib.models.vgg import vgg16
from course_lib.pruning import (dependencies, l1_norm, mask_outgoing, plot_coupling, prune, record, taylor, unit_flops,
                                win_fraction)

from test_pruning_surgery import randomize_norms


def hand_maxout(x, pieces):
    """The max over each unit's consecutive channels, written out unit by unit."""
    out, start = [], 0
    for p in pieces:
        out.append(x[:, start:start + p].max(dim=1).values)
        start += p
    return torch.stack(out, dim=1)


@pytest.mark.parametrize("shape", [(5, 9), (3, 9, 4, 4)])
@pytest.mark.parametrize("pieces", [(3, 3, 3), (2, 4, 1, 2), (1,) * 9])
def test_maxout_is_the_max_over_each_units_pieces(shape, pieces):
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(0))
    m = Maxout(pieces)
    assert torch.equal(m(x), hand_maxout(x, pieces))
    assert (m.units, m.channels) == (len(pieces), 9)


def test_equal_builds_units_of_k_consecutive_pieces():
    m = Maxout.equal(12, 3)
    assert m.pieces == (3,) * 4
    assert m.unit_of().tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]


@pytest.mark.parametrize("channels, k, words", [(12, 1, "int >= 2"), (12, 0, "k"), (10, 3, "divisible"),
                                                (12, 2.0, "k"), (0, 2, "channels"), (12, True, "k")])
def test_equal_refuses_bad_arguments(channels, k, words):
    with pytest.raises((ValueError, TypeError), match=words):
        Maxout.equal(channels, k)


@pytest.mark.parametrize("pieces", [(), (2, 0), (2, -1), (2, 1.5), (True, 2), "22", 3])
def test_refuses_bad_pieces(pieces):
    with pytest.raises((ValueError, TypeError), match="pieces"):
        Maxout(pieces)


def test_refuses_input_of_the_wrong_width():
    with pytest.raises(ValueError, match=r"\(N, 6, \.\.\.\)"):
        Maxout((3, 3))(torch.randn(2, 5))


def test_wins_count_every_competition_once():
    x = torch.randn(4, 6, 3, 3, generator=torch.Generator().manual_seed(1))
    m = Maxout((2, 3, 1))
    wins = m.wins(x)
    by_hand = torch.zeros(6, dtype=torch.int64)
    for n in range(4):
        for i in range(3):
            for j in range(3):
                by_hand[x[n, 0:2, i, j].argmax()] += 1
                by_hand[2 + x[n, 2:5, i, j].argmax()] += 1
                by_hand[5] += 1
    assert torch.equal(wins, by_hand)


@pytest.mark.parametrize("silenced", [[], [1, 3]])
def test_gradient_is_that_of_the_max_over_the_live_pieces(silenced):
    x = torch.randn(8, 6, generator=torch.Generator().manual_seed(2))  # no ties
    m = Maxout((3, 2, 1))
    m.silence_(torch.tensor(silenced, dtype=torch.int64))
    live = x.clone()
    live[:, silenced] = float("-inf")
    weights = torch.randn(3, generator=torch.Generator().manual_seed(3))
    got, want = x.clone().requires_grad_(True), live.clone().requires_grad_(True)
    (m(got) * weights).sum().backward()
    (hand_maxout(want, (3, 2, 1)) * weights).sum().backward()
    assert torch.isfinite(got.grad).all() and torch.equal(got.grad, want.grad)


def test_keep_and_silence():
    m = Maxout((2, 3, 1))
    assert m.units_kept(torch.tensor([1, 2, 4])).tolist() == [0, 1]
    assert m.keep_(torch.tensor([1, 2, 4])).tolist() == [0, 1]  # unit 2 lost its only piece
    assert m.pieces == (1, 2)
    for bad, words in ((torch.tensor([], dtype=torch.int64), "at least one"), (torch.tensor([0, 5]), "0..2"),
                       (torch.tensor([1, 1]), "distinct"), (torch.tensor([0.0]), "tensor of channel indices")):
        with pytest.raises((ValueError, TypeError), match=words):
            m.keep_(bad)
    m = Maxout((2, 2))
    m.silence_(torch.tensor([0]))
    x = torch.randn(3, 4)
    assert torch.equal(m(x), torch.stack([x[:, 1], x[:, 2:].max(1).values], 1))
    with pytest.raises(ValueError, match="without any piece"):
        m.silence_(torch.tensor([1]))
    assert m(x).isfinite().all()  # the refused call changed nothing
    with pytest.raises(ValueError, match="silenced"):
        m.keep_(torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="0..3"):
        m.silence_(torch.tensor([4]))


def random_maxout_chain(seed):
    """conv(-BN)-Maxout(-pool) ... Flatten ... Linear(-BN1d)-Maxout ... Linear, input (3, 12, 12),
    units of 1 to 3 pieces."""
    rng, layers, channels, side = random.Random(seed), [], 3, 12
    for _ in range(rng.randint(1, 2)):
        pieces = [rng.randint(1, 3) for _ in range(rng.randint(2, 4))]
        layers.append(nn.Conv2d(channels, sum(pieces), 3, padding=1))
        layers += [nn.BatchNorm2d(sum(pieces))] if rng.random() < 0.5 else []
        layers.append(Maxout(pieces))
        if rng.random() < 0.5:
            layers.append(nn.MaxPool2d(2))
            side //= 2
        channels = len(pieces)
    layers.append(nn.Flatten())
    features = channels * side * side
    for _ in range(rng.randint(1, 2)):
        pieces = [rng.randint(1, 3) for _ in range(rng.randint(2, 5))]
        layers.append(nn.Linear(features, sum(pieces)))
        layers += [nn.BatchNorm1d(sum(pieces))] if rng.random() < 0.3 else []
        layers += [Maxout(pieces), nn.Dropout(0.2)]
        features = len(pieces)
    layers.append(nn.Linear(features, 3))
    torch.manual_seed(seed)
    return randomize_norms(nn.Sequential(*layers), torch.Generator().manual_seed(seed))


def forced_minus_infinity(model, plan, x):
    """Reference, independent of the surgery: ``model``'s output on ``x`` with hooks on each Maxout
    that set the removed pieces' inputs to -inf and the outputs of units left without any piece
    to 0 (disconnected)."""
    hooks, pairs, last = [], [], None
    for name, m in model.named_modules():  # module order is forward order in these Sequentials
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            last = (name, m)
        elif isinstance(m, Maxout):
            pairs.append((last, m))
    for (name, layer), maxout in pairs:
        if name not in plan:
            continue
        removed = torch.ones(layer.weight.shape[0], dtype=torch.bool)
        removed[plan[name]] = False
        unit_of = torch.repeat_interleave(torch.arange(len(maxout.pieces)), torch.tensor(maxout.pieces))
        emptied = torch.tensor([bool(removed[unit_of == u].all()) for u in range(len(maxout.pieces))])

        def before(mod, args, removed=removed):
            x = args[0].clone()
            x[:, removed] = float("-inf")
            return (x,)

        def after(mod, args, out, emptied=emptied):
            out = out.clone()
            out[:, emptied] = 0
            return out

        hooks += [maxout.register_forward_pre_hook(before), maxout.register_forward_hook(after)]
    try:
        with torch.no_grad():
            return model(x)
    finally:
        for h in hooks:
            h.remove()


def random_plan(model, seed):
    """Keep a random non-empty subset of the pieces of some layers (never the output layer)."""
    gen, rng = torch.Generator().manual_seed(seed), random.Random(seed)
    layers = [(n, m) for n, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))][:-1]
    return {name: sorted(torch.randperm(m.weight.shape[0], generator=gen)[:rng.randint(1, m.weight.shape[0])].tolist())
            for name, m in layers if rng.random() < 0.8}


@pytest.mark.parametrize("seed", range(40))
def test_pruned_equals_original_with_removed_pieces_at_minus_infinity(seed):
    model = random_maxout_chain(seed)
    plan = random_plan(model, seed)
    x = torch.randn(6, 3, 12, 12, generator=torch.Generator().manual_seed(seed))
    pruned, masked = prune(model, plan, (3, 12, 12)), mask_outgoing(model, plan, (3, 12, 12))
    reference = forced_minus_infinity(model, plan, x)
    with torch.no_grad():
        assert torch.allclose(pruned(x), reference, atol=1e-5)
        assert torch.allclose(masked(x), reference, atol=1e-5)
    kept = {name: len(idx) for name, idx in plan.items()}
    for name, m in pruned.named_modules():
        if name in kept:
            assert m.weight.shape[0] == kept[name]


def test_removing_pieces_that_never_win_changes_no_output_on_the_counting_data():
    torch.manual_seed(0)
    model = MaxoutLeNet5(k=3).eval()
    x = torch.randn(32, 1, 28, 28, generator=torch.Generator().manual_seed(3))
    loader = DataLoader(TensorDataset(x, torch.zeros(32, dtype=torch.long)), batch_size=8)
    layers = list(dependencies(model, (1, 28, 28)))
    wins = win_fraction(model, layers, loader)
    plan = {name: torch.nonzero(w > 0).flatten() for name, w in wins.items()}
    removed = sum(len(w) - len(plan[name]) for name, w in wins.items())
    assert removed > 50  # at initialisation many fully connected pieces never win on this data
    pruned = prune(model, plan, (1, 28, 28))
    assert measure.count_params(pruned) < measure.count_params(model)
    with torch.no_grad():
        assert torch.allclose(pruned(x), model(x), atol=1e-5)


def test_win_fraction_shares_one_between_a_units_pieces():
    model = MaxoutLeNet5(k=(2, 3, 2, 4)).eval()
    x = torch.randn(16, 1, 28, 28, generator=torch.Generator().manual_seed(4))
    loader = DataLoader(TensorDataset(x, torch.zeros(16, dtype=torch.long)), batch_size=5)
    groups = dependencies(model, (1, 28, 28))
    wins = win_fraction(model, list(groups), loader)
    for name, k in zip(groups, (2, 3, 2, 4)):
        assert torch.allclose(wins[name].view(-1, k).sum(1), torch.ones(wins[name].numel() // k))
    with torch.no_grad():  # by hand: the input of conv2's maxout, its units' winners at every position
        pieces = model.features[3](model.features[2](model.features[1](model.features[0](x))))
    slots = pieces.unflatten(1, (16, 3)).argmax(2)  # (16 images, 16 units, 10, 10)
    by_hand = torch.stack([(slots[:, c // 3] == c % 3).float().mean() for c in range(48)])
    assert torch.allclose(wins["features.3"], by_hand, atol=1e-6)


def test_keep_best_protects_exactly_each_units_most_winning_piece():
    model = MaxoutLeNet5(k=3).eval()
    x = torch.randn(16, 1, 28, 28, generator=torch.Generator().manual_seed(6))
    loader = DataLoader(TensorDataset(x, torch.zeros(16, dtype=torch.long)), batch_size=8)
    layers = list(dependencies(model, (1, 28, 28)))
    plain, protected = win_fraction(model, layers, loader), win_fraction(model, layers, loader, keep_best=True)
    for name in layers:
        best = plain[name].view(-1, 3).argmax(1)
        infinite = torch.isinf(protected[name]).view(-1, 3)
        assert torch.equal(infinite.sum(1), torch.ones(len(best), dtype=torch.int64))
        assert torch.equal(infinite.float().argmax(1), best)
        assert torch.equal(protected[name][~torch.isinf(protected[name])], plain[name][~infinite.flatten()])


def test_win_fraction_and_taps_refuse_layers_without_maxout():
    relu_net = nn.Sequential(nn.Flatten(), nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2))
    loader = DataLoader(TensorDataset(torch.randn(4, 4), torch.zeros(4, dtype=torch.long)), batch_size=2)
    with pytest.raises(ValueError, match="not followed by a Maxout"):
        win_fraction(relu_net, ["1"], loader)
    with pytest.raises(ValueError, match="no Maxout after them"):
        record(relu_net, loader, ["1"], lambda a, g: a.sum((0, 2)), tap="maxout")
    net = nn.Sequential(nn.Linear(4, 6), Maxout.equal(6, 2), nn.Linear(3, 2))
    with pytest.raises(ValueError, match="see maxout units"):
        record(net, loader, ["0"], lambda a, g: a.sum((0, 2)), tap="consumer")
    with pytest.raises(TypeError, match="reduce"):
        record(net, loader, ["0"], {"2": lambda a, g: a.sum((0, 2))})
    with pytest.raises(ValueError, match="at least one batch"):
        win_fraction(net, ["0"], [])
    with pytest.raises(TypeError, match="keep_best"):
        win_fraction(net, ["0"], loader, keep_best=1)
    with pytest.raises(ValueError, match="layers must be a non-empty list"):
        record(net, loader, None, lambda a, g: a.sum((0, 2)))


def test_dependencies_report_maxout_groups_and_refuse_what_they_cannot_follow():
    groups = dependencies(MaxoutLeNet5(k=2), (1, 28, 28))
    assert [g.maxout for g in groups.values()] == ["features.1", "features.4", "classifier.2", "classifier.4"]
    assert [g.units for g in groups.values()] == [12, 32, 240, 168]
    assert groups["features.3"].block == 25
    bad = {
        "second Maxout": nn.Sequential(nn.Linear(4, 8), Maxout.equal(8, 2), Maxout.equal(4, 2), nn.Linear(2, 2)),
        "before the Maxout": nn.Sequential(nn.Linear(4, 8), Maxout([1] * 8), nn.BatchNorm1d(8), nn.Linear(8, 2)),
        "takes 32 pieces, not the 2": nn.Sequential(nn.Conv2d(4, 2, 1), nn.Flatten(), Maxout.equal(32, 2),
                                                    nn.Linear(16, 2)),
    }
    for words, net in bad.items():
        with pytest.raises(ValueError, match=words):
            dependencies(net.eval(), (4, 4, 4) if words.startswith("takes") else (4,))


def test_other_criteria_and_flops_costs_work_on_maxout_models():
    model = MaxoutLeNet5(k=2).eval()
    layers = list(dependencies(model, (1, 28, 28)))
    x = torch.randn(8, 1, 28, 28, generator=torch.Generator().manual_seed(5))
    loader = DataLoader(TensorDataset(x, torch.randint(0, 10, (8,))), batch_size=4)
    for scores in (l1_norm(model, layers), taylor(model, layers, loader)):
        assert [len(s) for s in scores.values()] == [12, 32, 240, 168]
    cost = unit_flops(model, (1, 28, 28))
    before = measure.summary(model, (1, 28, 28))["FLOPs"]
    for name, units in zip(layers, [12, 32, 240, 168]):
        one_less = prune(model, {name: list(range(1, units))}, (1, 28, 28))  # unit 0 keeps its other piece
        assert before - measure.summary(one_less, (1, 28, 28))["FLOPs"] == pytest.approx(cost[name])


def test_maxout_lenet5_and_vgg_head_counts():
    model = MaxoutLeNet5(k=3)
    expected = (1 * 25 + 1) * 18 + (6 * 25 + 1) * 48 + (400 + 1) * 360 + (120 + 1) * 252 + (84 + 1) * 10
    assert measure.count_params(model) == expected
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    with pytest.raises(ValueError, match="k must be"):
        MaxoutLeNet5(k=(2, 2))
    head = maxout_head(32, 16, 10, k=(2, 4))
    assert [m.out_features for m in head if isinstance(m, nn.Linear)] == [32, 64, 10]
    vgg = vgg16(batch_norm=True, width=0.125, input_size=32, in_channels=1, num_classes=10, hidden=16)
    mvgg = with_maxout_head(vgg, k=2).eval()
    assert mvgg(torch.zeros(1, 1, 32, 32)).shape == (1, 10)
    groups = dependencies(mvgg, (1, 32, 32))
    assert groups["classifier.0"].maxout == "classifier.1"
    plan = {"classifier.0": list(range(0, 32, 2)), "classifier.3": [0, 1]}
    pruned = prune(mvgg, plan, (1, 32, 32))
    x = torch.randn(3, 1, 32, 32)
    with torch.no_grad():
        assert torch.allclose(pruned(x), forced_minus_infinity(mvgg, plan, x), atol=1e-5)
    single = vgg16(width=0.125, input_size=32, in_channels=1, num_classes=10, hidden=16)
    single.classifier = nn.Linear(16, 10)
    for bad in (nn.Sequential(nn.Linear(2, 2)), single):
        with pytest.raises(TypeError, match="three Linear"):
            with_maxout_head(bad)
    for dropout in (1.0, "0.5"):
        with pytest.raises(ValueError, match="dropout"):
            maxout_head(32, 16, 10, dropout=dropout)
    with pytest.raises(ValueError, match="k must be"):
        maxout_head(32, 16, 10, k=2.5)


def test_the_coupling_figure_refuses_maxout_groups():
    with pytest.raises(ValueError, match="feeds a Maxout"):
        plot_coupling(MaxoutLeNet5(k=2).eval(), {"classifier.1": list(range(100))}, (1, 28, 28))
