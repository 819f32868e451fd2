import numpy as np
import pytest
import torch

from course_lib.compression import codec, magnitude as M, quantize as Q
from course_lib.models.lenet import LeNet300100, LeNet5Caffe


@pytest.fixture(scope="module", params=[LeNet300100, LeNet5Caffe], ids=["lenet300100", "lenet5"])
def compressed(request):
    torch.manual_seed(0)
    model = request.param()
    M.apply_masks_(model, M.magnitude_masks(model, 1.5))
    shared = Q.quantize_model(model)
    return model, shared, codec.encode_model(model, shared)


def test_file_roundtrip_gives_the_same_model(compressed, tmp_path):
    model, shared, data = compressed
    size = codec.save(tmp_path / "m.dcmp", model, shared)
    assert size == len(data) == (tmp_path / "m.dcmp").stat().st_size
    back = codec.load(tmp_path / "m.dcmp", model)
    expected = Q.with_shared_weights(model, shared)
    for (k, a), (_, b) in zip(back.state_dict().items(), expected.state_dict().items()):
        assert torch.equal(a, b), k
    x = torch.randn(5, 1, 28, 28)
    assert torch.equal(back(x), expected(x))


def test_file_is_much_smaller_than_fp32(compressed):
    model, _, data = compressed
    kept = sum((m.weight != 0).sum().item() for m in M.prunable_layers(model).values())
    biases = sum(m.bias.numel() for m in M.prunable_layers(model).values())
    # at most a byte per weight index and per relative index, plus fillers, codebooks, biases
    assert len(data) < 2 * kept + 4 * biases + 4 * 2 * 256 + 4000
    assert codec.fp32_bytes(model) / len(data) > 10


def test_truncated_or_corrupted_file_is_a_clear_error(compressed):
    model, _, data = compressed
    for bad in (data[:-1], data[: len(data) // 2], data[:7]):
        with pytest.raises(ValueError, match="truncated|corrupted|header"):
            codec.decode_model(bad, model)
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x10
    with pytest.raises(ValueError, match="corrupted"):
        codec.decode_model(bytes(flipped), model)
    with pytest.raises(ValueError, match="header"):
        codec.decode_model(b"PK" + data[2:], model)


def test_wrong_architecture_is_rejected(compressed):
    model, _, data = compressed
    other = LeNet5Caffe() if isinstance(model, LeNet300100) else LeNet300100()
    with pytest.raises(ValueError, match="architecture"):
        codec.decode_model(data, other)


def test_layer_streams_count_fillers():
    s = Q.SharedWeights(torch.tensor([0.0, 1.0]), torch.zeros(2, 50, dtype=torch.int64), 1)
    s.indices[1, 49] = 1  # position 99: 99 zeros before it, spans of 32 -> 3 fillers
    w_sym, d_sym = codec.layer_streams(s, 5)
    assert w_sym.tolist() == [0, 0, 0, 1] and d_sym.tolist() == [31, 31, 31, 3]


def test_bad_arguments_name_the_argument(compressed):
    model, shared, _ = compressed
    with pytest.raises(ValueError, match="index_bits"):
        codec.encode_model(model, shared, index_bits=0)
    with pytest.raises(ValueError, match="shared"):
        codec.encode_model(model, {})
    with pytest.raises(TypeError, match="data"):
        codec.decode_model(np.zeros(3), model)
    with pytest.raises(TypeError, match="model"):
        codec.decode_model(b"DCMP", "lenet")
