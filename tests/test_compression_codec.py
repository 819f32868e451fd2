import struct
import tracemalloc
import zlib

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


def test_size_report_huffman_gain_is_entries_times_saving_minus_tables(compressed):
    model, shared, _ = compressed
    report = codec.size_report(model, shared)
    assert (report["entries"] >= report["#weights"] * report["kept % (P)"] / 100).all()  # fillers on top
    for _, row in report.iterrows():
        fixed = row["entries"] * (row["weight bits (P+Q)"] + row["index bits (P+Q)"])
        coded = row["entries"] * (row["weight bits (P+Q+H)"] + row["index bits (P+Q+H)"])  # whole bytes
        symbols = shared[row["layer"]].codebook.numel() + 2 ** row["index bits (P+Q)"]
        assert row["table bits"] == 8 * symbols  # a byte per symbol of each alphabet
        gain = (row["rate P+Q %"] - row["rate P+Q+H %"]) / 100 * 32 * row["#weights"]
        assert gain == pytest.approx(fixed - coded - row["table bits"])
        # the two streams are padded to whole bytes: at most 7 bits each above their code lengths
        assert 0 <= row["entries"] * row["saved bits/entry"] - (fixed - coded) <= 14 + 1e-6


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


def crafted(records, n_layers=1, n_raw=0):
    """A file with a valid header and checksum around hand-made record bytes."""
    body = codec.MAGIC + struct.pack("<BHH", codec.VERSION, n_layers, n_raw) + records
    return body + struct.pack("<I", zlib.crc32(body))


def name(text):
    return struct.pack("<H", len(text)) + text.encode()


def shape(dims):
    return struct.pack(f"<B{len(dims)}I", len(dims), *dims)


def layer_record(key, dims, entries, k=2):
    return (name(key) + shape(dims) + struct.pack("<BBH", 4, 5, k)
            + np.zeros(k, "<f4").tobytes() + struct.pack("<I", entries)
            + struct.pack("<H", 1) + b"\x01" + struct.pack("<H", 1) + b"\x01"
            + struct.pack("<I", 0) + struct.pack("<I", 0))


@pytest.mark.parametrize("data, match", [
    (crafted(layer_record("1", (60000, 60000), 10)), r"1.weight is declared \(60000, 60000\)"),
    (crafted(layer_record("1", (300, 784), 2 ** 31)), "declares 2147483648 entries for 1"),
    (crafted(layer_record("9", (3, 4), 1)), "no entry '9.weight'"),
    (crafted(name("1.bias") + struct.pack("<B", 0) + shape((2 ** 30,)), 0, 1),
     r"1.bias is declared \(1073741824,\)"),
], ids=["huge layer", "huge entry count", "unknown layer", "huge raw tensor"])
def test_crafted_sizes_are_refused_before_allocating(data, match):
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=match):
            codec.decode_model(data, LeNet300100())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2 ** 20, f"decoding a crafted file allocated {peak / 2 ** 20:.0f} MiB"


def test_save_result_is_the_decoded_file_with_its_size_and_masks(compressed, tmp_path):
    model, shared, data = compressed
    result = codec.save_result(tmp_path / "m.dcmp", model, shared)
    assert result.file_bytes == (tmp_path / "m.dcmp").stat().st_size == len(data)
    back = codec.load(tmp_path / "m.dcmp", model)
    x = torch.randn(3, 1, 28, 28)
    assert torch.equal(result.model(x), back(x))
    layers = M.prunable_layers(model)
    assert set(result.kept) == set(shared) and all(
        torch.equal(mask, layers[name].weight != 0) for name, mask in result.kept.items())
    assert result.history is None


def test_save_result_refuses_what_save_refuses(compressed, tmp_path):
    model, shared, _ = compressed
    with pytest.raises(TypeError, match="model"):
        codec.save_result(tmp_path / "m.dcmp", "not a model", shared)
    assert not (tmp_path / "m.dcmp").exists()
