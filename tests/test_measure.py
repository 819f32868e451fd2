import pytest
import torch
import torch.nn as nn

from course_lib import measure
from course_lib.models.lenet import LeNet5, LeNet5Caffe, LeNet5Classic, LeNet300100
from course_lib.models.vgg import vgg16

MODELS = [
    (LeNet5Classic(), (1, 32, 32)),
    (LeNet5(), (1, 28, 28)),
    (LeNet5Caffe(), (1, 28, 28)),
    (LeNet300100(), (784,)),
    (vgg16(batch_norm=True, width=0.25, input_size=64, in_channels=1, num_classes=10, hidden=64), (1, 64, 64)),
    (nn.Sequential(nn.Conv2d(4, 8, 3, groups=2, stride=2), nn.Conv2d(8, 8, 3, groups=8, padding=1)), (4, 9, 9)),
]


@pytest.mark.parametrize("model, shape", MODELS)
def test_flops_equal_flop_counter_mode_total_and_per_layer(model, shape):
    table = measure.layer_table(model, shape)
    total, per_module = measure.flop_counter(model, shape)
    assert table["FLOPs"].sum() == total
    for name, flops in zip(table["layer"], table["FLOPs"]):
        assert per_module.get(name, 0) == flops, name
    assert (table["FLOPs"] == 2 * table["MACs"]).all()


def test_vgg16_full_size_flops_are_thinets_figure():
    total, _ = measure.flop_counter(vgg16(), (3, 224, 224))
    assert total == 30_940_528_640  # ThiNet: 30.94 GFLOPs, 2 ops per MAC


@pytest.mark.parametrize("model, shape", MODELS[:4])
def test_table_params_add_up(model, shape):
    table = measure.layer_table(model, shape)
    assert table["params"].sum() == measure.count_params(model)


def test_layer_table_leaves_model_mode_alone():
    model = LeNet5().train()
    measure.layer_table(model, (1, 28, 28))
    assert model.training


@pytest.mark.parametrize("shape", [(), (1, 0, 28), [1, 28.0, 28], "1x28x28"])
def test_bad_input_shape(shape):
    with pytest.raises(ValueError, match="input_shape must be a tuple of positive ints"):
        measure.layer_table(LeNet5(), shape)


def test_model_that_cannot_take_the_shape_says_so():
    with pytest.raises(ValueError, match=r"LeNet5 expects input of shape \(N, 1, 28, 28\)"):
        measure.layer_table(LeNet5(), (1, 32, 32))


def test_not_a_module():
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        measure.count_params([1, 2])


def test_state_dict_bytes_equal_the_file(tmp_path):
    model = LeNet5()
    size = measure.save_checkpoint(model, tmp_path / "m.pt")
    assert size == measure.state_dict_bytes(model) == (tmp_path / "m.pt").stat().st_size
    # fp32 weights dominate the file: a bit more than 4 bytes per parameter
    assert 4 * measure.count_params(model) < size < 4 * measure.count_params(model) + 20_000


def test_checkpoint_round_trip(tmp_path):
    model, other = LeNet5Caffe(), LeNet5Caffe()
    measure.save_checkpoint(model, tmp_path / "sub" / "c.pt")
    other.load_state_dict(measure.load_checkpoint(tmp_path / "sub" / "c.pt"))
    for a, b in zip(model.state_dict().values(), other.state_dict().values()):
        assert torch.equal(a, b)


def test_corrupt_checkpoint_is_reported_and_left_alone(tmp_path):
    path = tmp_path / "c.pt"
    measure.save_checkpoint(LeNet5(), path)
    truncated = path.read_bytes()[:1000]
    path.write_bytes(truncated)
    with pytest.raises(measure.CheckpointError, match="unreadable"):
        measure.load_checkpoint(path)
    assert path.read_bytes() == truncated


def test_missing_checkpoint():
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        measure.load_checkpoint("nowhere/c.pt")


def test_failed_save_keeps_the_old_file(tmp_path):
    path = tmp_path / "c.pt"
    measure.save_checkpoint(LeNet5(), path)
    before = path.read_bytes()
    with pytest.raises(Exception):
        measure.save_checkpoint({"w": lambda: None}, path)  # not picklable by torch.save
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]


def test_save_rejects_non_state():
    with pytest.raises(TypeError, match="model_or_state must be"):
        measure.save_checkpoint(3, "x.pt")


def test_latency_reports_median_and_threads():
    result = measure.latency(LeNet5(), (1, 28, 28), repeats=5, warmup=1, threads=1)
    assert result["threads"] == 1 and result["batch_size"] == 1
    assert 0 < result["q1_ms"] <= result["median_ms"] <= result["q3_ms"]


@pytest.mark.parametrize("kwargs, message", [(dict(repeats=0), "repeats"), (dict(batch_size=-1), "batch_size"),
                                             (dict(warmup=-1), "warmup"), (dict(threads=0), "threads")])
def test_latency_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        measure.latency(LeNet5(), (1, 28, 28), **kwargs)


def test_summary_is_consistent():
    s = measure.summary(LeNet5(), (1, 28, 28))
    assert s["FLOPs"] == 2 * s["MACs"] and s["params"] == 61_706


def test_counts_follow_the_model_device():
    # "meta" stands in for a GPU: a model whose parameters are not on the CPU gets its input there
    on_meta = LeNet5().to("meta")
    assert measure.layer_table(on_meta, (1, 28, 28)).equals(measure.layer_table(LeNet5(), (1, 28, 28)))
    assert measure.flop_counter(on_meta, (1, 28, 28))[0] == measure.flop_counter(LeNet5(), (1, 28, 28))[0]


def test_latency_refuses_a_model_off_the_cpu():
    with pytest.raises(ValueError, match="model: latency measures the CPU"):
        measure.latency(LeNet5().to("meta"), (1, 28, 28))
