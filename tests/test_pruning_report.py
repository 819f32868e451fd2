"""Size and latency tables, the one comparison of results, and the coupling figure, of pruned models."""
import matplotlib
import pytest
import torch
import torch.nn as nn
import torch.nn.utils.prune as torch_prune

import pandas as pd

from course_lib import measure, stats
from course_lib.measure import Result
from course_lib.pruning import compare, latency_table, plot_coupling, prune, size_table

matplotlib.use("Agg")
SHAPE = (3, 8, 8)


def net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 2))


def test_size_table_counts_by_hand_and_shows_masks_do_not_shrink():
    dense = net()
    masked = net()
    torch_prune.ln_structured(masked[0], "weight", amount=0.5, n=1, dim=0)
    small = prune(dense, {"0": [0, 1, 2, 3]}, SHAPE)
    table = size_table({"dense": dense, "masked": masked, "pruned": small}, SHAPE)
    # conv 3->8 (224) + BN (16) + conv 8->4 (292) + linear 64->2 (130); pruned: 3->4, BN 4, 4->4
    assert table["params"].tolist() == [662, 662, 112 + 8 + 148 + 130]
    macs_dense = 8 * 64 * 27 + 4 * 16 * 72 + 2 * 64
    assert table.loc["dense", "FLOPs"] == table.loc["masked", "FLOPs"] == 2 * macs_dense
    assert table.loc["pruned", "FLOPs"] == 2 * (4 * 64 * 27 + 4 * 16 * 36 + 2 * 64)
    assert table.loc["masked", "bytes"] > table.loc["dense", "bytes"] > table.loc["pruned", "bytes"]
    assert table.loc["pruned", "params %"] == round(100 * 398 / 662, 1)


def test_latency_table_has_one_positive_entry_per_model_and_batch_size():
    table = latency_table({"a": net(), "b": net()}, SHAPE, batch_sizes=(1, 4), rounds=2, repeats=3, warmup=1)
    assert list(table.index) == ["a", "b"]
    assert list(table.columns) == ["latency ms (batch 1)", "latency ms (batch 4)"]
    assert (table.to_numpy() > 0).all()


def test_latency_table_spread_is_the_range_of_the_rounds():
    table = latency_table({"a": net()}, SHAPE, batch_sizes=(1, 4), rounds=3, repeats=3, warmup=1, spread=True)
    assert list(table.columns) == ["latency ms (batch 1)", "latency ms (batch 4)", "spread % (batch 1)",
                                   "spread % (batch 4)"]
    assert (table.filter(like="spread").to_numpy() >= 0).all()
    one_round = latency_table({"a": net()}, SHAPE, batch_sizes=(1,), rounds=1, repeats=3, warmup=1, spread=True)
    assert one_round.loc["a", "spread % (batch 1)"] == 0


@pytest.mark.parametrize("call, error, words", [
    (lambda: size_table({}, SHAPE), TypeError, "models"),
    (lambda: size_table([net()], SHAPE), TypeError, "models"),
    (lambda: size_table({"a": "net"}, SHAPE), TypeError, "model"),
    (lambda: latency_table({"a": net()}, SHAPE, rounds=0), ValueError, "rounds"),
    (lambda: latency_table({"a": net()}, SHAPE, batch_sizes=()), ValueError, "batch_sizes"),
    (lambda: latency_table({"a": net()}, SHAPE, batch_sizes=(0,)), ValueError, "batch_size"),
    (lambda: latency_table({"a": net()}, SHAPE, spread=1), TypeError, "spread"),
])
def test_tables_refuse_bad_arguments(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_coupling_figure_shades_rows_and_columns():
    fig = plot_coupling(net(), {"0": [0, 2, 3, 4, 6, 7]}, SHAPE)
    conv, norm, consumer, *colour_bars = fig.axes
    assert len(colour_bars) == 3  # one colour scale per panel
    assert len(conv.patches) == len(norm.patches) == len(consumer.patches) == 2
    assert "[1, 5]" in fig._suptitle.get_text()
    matplotlib.pyplot.close(fig)


def test_coupling_figure_follows_flatten_blocks():
    fig = plot_coupling(net(), {"4": [0, 1, 2]}, SHAPE)  # conv 8->4 then flatten: blocks of 4 x 4 = 16 columns
    consumer = fig.axes[len(fig.axes) // 2 - 1]  # the last panel (no BatchNorm here); its colour bars follow
    span = consumer.patches[0].get_x(), consumer.patches[0].get_width()
    assert span == pytest.approx((3 * 16 - 0.5, 16))
    matplotlib.pyplot.close(fig)


@pytest.mark.parametrize("plan, words", [({"7": [0]}, "not a prunable layer"), ({"0": list(range(8))}, "at least one"),
                                         ({"0": [8]}, "0..7"), ({}, "exactly one layer"), ([0], "exactly one layer")])
def test_coupling_figure_refuses_bad_arguments(plan, words):
    with pytest.raises(ValueError, match=words):
        plot_coupling(net(), plan, SHAPE)


def test_compare_measures_every_result_the_same_way_against_the_first():
    dense, small = net(), prune(net(), {"0": [0, 1, 2, 3]}, SHAPE)
    x = torch.randn(40, *SHAPE)
    with torch.no_grad():
        y = dense.eval()(x).argmax(1)
    loader = [(x[:25], y[:25]), (x[25:], y[25:])]
    table = compare({"dense": dense, "pruned": Result(small, kept={"0": torch.arange(4)}, file_bytes=1234)}, SHAPE,
                    loader, batch_sizes=(1, 4), rounds=2)
    sizes = size_table({"dense": dense, "pruned": small}, SHAPE)
    assert table["params"].tolist() == sizes["params"].tolist() and table["FLOPs"].tolist() == sizes["FLOPs"].tolist()
    assert table["file bytes"].tolist() == [measure.state_dict_bytes(dense), 1234]  # a Result's own file counts
    assert table.loc["pruned", "file bytes %"] == round(100 * 1234 / measure.state_dict_bytes(dense), 1)
    by_hand = stats.paired_comparison(stats.correct(dense, loader), stats.correct(small, loader))
    assert table.loc["dense", "accuracy %"] == 100 and table.loc["dense", "vs reference (pp)"] == 0
    assert table.loc["pruned", "accuracy %"] == pytest.approx(100 * by_hand["acc_b"])
    assert table.loc["pruned", "vs reference (pp)"] == round(100 * by_hand["diff"], 2)
    assert table.loc["pruned", "95 % CI low (pp)"] == round(100 * by_hand["ci_low"], 2)
    assert table.loc["pruned", "p"] == by_hand["p_value"] and table.loc["dense", "p"] == 1.0
    assert {"latency ms (batch 1)", "latency ms (batch 4)", "spread % (batch 4)"} <= set(table.columns)
    assert table["speed-up (batch 4)"].tolist() == pytest.approx(
        [1.0, table.loc["dense", "latency ms (batch 4)"] / table.loc["pruned", "latency ms (batch 4)"]])
    assert table["FLOPs reduction"].tolist() == pytest.approx([1.0, sizes.loc["dense", "FLOPs"] / sizes.loc["pruned", "FLOPs"]])
    assert "accuracy %" not in compare({"dense": dense}, SHAPE, batch_sizes=(1,), rounds=1).columns


def test_a_result_holds_the_model_what_was_kept_and_the_bytes_of_its_file():
    model = net()
    run = Result(model, history=pd.DataFrame({"step": [0]}))
    assert run.file_bytes == measure.state_dict_bytes(model) and run.kept is None
    for kwargs, error, words in ((dict(model="net"), TypeError, "model"), (dict(history=[1]), TypeError, "history"),
                                 (dict(kept=[0]), TypeError, "kept"), (dict(file_bytes=0), ValueError, "file_bytes")):
        with pytest.raises(error, match=words):
            Result(**(dict(model=model) | kwargs))
    with pytest.raises(TypeError, match="results must be a non-empty dict"):
        compare({}, SHAPE)
    with pytest.raises(TypeError, match="results\\['b'\\] must be a Result or an nn.Module"):
        compare({"a": model, "b": "net"}, SHAPE)
