"""The compressed model as a real file: pruned + quantized weights, relative indices, Huffman.

Layout (little-endian), version 1::

    b"DCMP" | u8 version | u16 number of coded layers | u16 number of raw tensors
    per coded layer:  name | u8 ndim, u32 x ndim shape | u8 weight bits | u8 index bits
                      | u16 k, f32 x k codebook (codebook[0] = 0)
                      | u32 stored entries (non-zeros + filler zeros)
                      | Huffman table of the weight indices | of the relative indices
                      | u32 bytes, weight-index bit stream | u32 bytes, relative-index bit stream
    per raw tensor:   name | u8 dtype | u8 ndim, u32 x ndim shape | raw bytes   (biases: fp32)
    u32 CRC-32 of everything before it

    name = u16 length + UTF-8; Huffman table = u16 count + u8 code length per symbol.

Biases and any other state (buffers) are stored uncompressed as fp32 and counted in the file size.
A truncated or corrupted file raises ``ValueError``; it never yields a silently wrong model.
"""
import copy
import struct
import zlib
from pathlib import Path

import numpy as np
import torch

from ..files import atomic_write
from ..measure import Result
from ..validate import check_model
from . import huffman, sparse
from .magnitude import bits_per_layer, prunable_layers
from .quantize import SharedWeights

MAGIC, VERSION = b"DCMP", 1
DTYPES = {0: torch.float32, 1: torch.int64}


def layer_streams(shared, index_bits):
    """The symbol streams of one layer: ``(weight symbols, relative-index symbols)``, both int64
    of one length (stored entries); a relative index d in [1, 2^b] is the symbol d - 1."""
    if not isinstance(shared, SharedWeights):
        raise TypeError(f"shared must be SharedWeights, got {type(shared).__name__}")
    values, diffs = sparse.encode_relative(shared.indices.numpy(), index_bits)
    return values.astype(np.int64), diffs - 1


def _table(symbols, n_symbols):
    """Huffman code lengths for a stream (a one-symbol code when the stream is empty)."""
    counts = np.bincount(symbols, minlength=n_symbols)
    if symbols.size == 0:
        counts[0] = 1
    return huffman.code_lengths(counts)


def _name(text):
    raw = text.encode("utf-8")
    return struct.pack("<H", len(raw)) + raw


def _shape(shape):
    return struct.pack(f"<B{len(shape)}I", len(shape), *shape)


def _blob(raw):
    return struct.pack("<I", len(raw)) + raw


def encode_layer(name, shared, index_bits):
    """The bytes of one coded layer record (see the module docstring)."""
    w_sym, d_sym = layer_streams(shared, index_bits)
    w_len = _table(w_sym, max(shared.codebook.numel(), 1))
    d_len = _table(d_sym, 1 << index_bits)
    return b"".join([
        _name(name), _shape(shared.indices.shape), struct.pack("<BB", shared.bits, index_bits),
        struct.pack("<H", shared.codebook.numel()), shared.codebook.numpy().astype("<f4").tobytes(),
        struct.pack("<I", w_sym.size),
        struct.pack("<H", w_len.size), w_len.astype(np.uint8).tobytes(),
        struct.pack("<H", d_len.size), d_len.astype(np.uint8).tobytes(),
        _blob(huffman.encode(w_sym, w_len)), _blob(huffman.encode(d_sym, d_len))])


def encode_model(model, shared, index_bits=None):
    """The compressed file's bytes for ``model`` whose conv / linear weights are ``shared``
    (``{layer name: SharedWeights}``, e.g. from :func:`quantize.quantize_model`). Every other
    entry of the state_dict (biases, buffers) is stored raw."""
    bits = bits_per_layer(model, index_bits, "index_bits")
    if not isinstance(shared, dict) or set(shared) != set(bits):
        raise ValueError(f"shared must hold SharedWeights for exactly the layers {list(bits)}")
    coded = {f"{name}.weight" for name in shared}
    raw = {k: v for k, v in model.state_dict().items() if k not in coded}
    codes = {v: k for k, v in DTYPES.items()}
    parts = [MAGIC, struct.pack("<BHH", VERSION, len(shared), len(raw))]
    parts += [encode_layer(name, shared[name], bits[name]) for name in shared]
    for key, t in raw.items():
        if t.dtype not in codes:
            raise TypeError(f"state_dict entry {key!r} has dtype {t.dtype}; the codec stores {list(codes)}")
        parts += [_name(key), struct.pack("<B", codes[t.dtype]), _shape(t.shape),
                  t.detach().cpu().contiguous().numpy().tobytes()]
    body = b"".join(parts)
    return body + struct.pack("<I", zlib.crc32(body))


class _Reader:
    """Reads a byte string front to back; running past the end is a clear ``ValueError``."""

    def __init__(self, data):
        self.data, self.at = data, 0

    def take(self, n, what):
        if self.at + n > len(self.data):
            raise ValueError(f"compressed model is truncated while reading {what}")
        out = self.data[self.at:self.at + n]
        self.at += n
        return out

    def unpack(self, fmt, what):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt), what))

    def name(self):
        (n,) = self.unpack("<H", "a name")
        return self.take(n, "a name").decode("utf-8")

    def shape(self, what):
        (ndim,) = self.unpack("<B", what)
        return self.unpack(f"<{ndim}I", what)

    def lengths(self, what):
        (n,) = self.unpack("<H", what)
        return np.frombuffer(self.take(n, what), dtype=np.uint8).astype(np.int64)


def _expect(expected, key, shape):
    """Check a declared ``shape`` against the architecture *before* anything is allocated: a
    crafted size must cost an error, not memory."""
    if key not in expected:
        raise ValueError(f"compressed model does not fit the given architecture: it has no entry {key!r}")
    wanted = expected.pop(key)
    if tuple(shape) != wanted:
        raise ValueError(f"compressed model does not fit the given architecture: {key} is declared "
                         f"{tuple(shape)}, the architecture has {wanted}")


def decode_layer(reader, expected):
    """``(name, SharedWeights, index bits)`` of the next coded layer record of ``reader``.

    ``expected`` is ``{state_dict key: shape}`` of the architecture; the record's key is checked
    against it (and removed from it) before any array is built, and every count against the
    bytes present, so a crafted file cannot make the decoder allocate more than it holds.
    """
    name = reader.name()
    shape = reader.shape(f"the shape of {name}")
    _expect(expected, f"{name}.weight", shape)
    size = int(np.prod(shape))
    w_bits, i_bits = reader.unpack("<BB", f"the bit widths of {name}")
    (k,) = reader.unpack("<H", f"the codebook size of {name}")
    codebook = torch.from_numpy(np.frombuffer(reader.take(4 * k, f"the codebook of {name}"), dtype="<f4").copy())
    (n,) = reader.unpack("<I", f"the entry count of {name}")
    if n > size:
        raise ValueError(f"compressed model declares {n} entries for {name}, which has only {size} weights")
    w_len, d_len = reader.lengths(f"a Huffman table of {name}"), reader.lengths(f"a Huffman table of {name}")
    (nw,) = reader.unpack("<I", f"a stream length of {name}")
    w_sym = huffman.decode(reader.take(nw, f"the weight stream of {name}"), w_len, n)
    (nd,) = reader.unpack("<I", f"a stream length of {name}")
    d_sym = huffman.decode(reader.take(nd, f"the index stream of {name}"), d_len, n)
    if w_sym.size and w_sym.max() >= k:
        raise ValueError(f"weight indices of {name} exceed its codebook of {k} entries")
    indices = sparse.decode_relative(w_sym, d_sym + 1, size).reshape(shape)
    return name, SharedWeights(codebook, torch.from_numpy(indices), w_bits), i_bits


def decode_model(data, model):
    """A copy of ``model`` (the architecture; its weights are ignored) loaded from the bytes of
    :func:`encode_model`. Raises ``ValueError`` if ``data`` is truncated, corrupted or does not
    fit ``model``."""
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    check_model(model)
    if len(data) < len(MAGIC) + 9 or data[:len(MAGIC)] != MAGIC:
        raise ValueError("not a compressed model: the file does not start with the DCMP header")
    body, (crc,) = data[:-4], struct.unpack("<I", data[-4:])
    if zlib.crc32(body) != crc:
        raise ValueError("compressed model is corrupted or truncated: CRC-32 checksum mismatch")
    reader = _Reader(bytes(body))
    reader.take(len(MAGIC), "the magic")
    version, n_layers, n_raw = reader.unpack("<BHH", "the header")
    if version != VERSION:
        raise ValueError(f"compressed model has format version {version}; this reader reads {VERSION}")
    expected = {key: tuple(t.shape) for key, t in model.state_dict().items()}
    state = {}
    for _ in range(n_layers):
        name, shared, _ = decode_layer(reader, expected)
        state[f"{name}.weight"] = shared.dense()
    for _ in range(n_raw):
        key = reader.name()
        (code,) = reader.unpack("<B", f"the dtype of {key}")
        if code not in DTYPES:
            raise ValueError(f"unknown dtype code {code} for {key}")
        shape = reader.shape(f"the shape of {key}")
        _expect(expected, key, shape)
        dtype = DTYPES[code]
        nbytes = int(np.prod(shape)) * torch.empty(0, dtype=dtype).element_size()
        state[key] = torch.frombuffer(bytearray(reader.take(nbytes, key)), dtype=dtype).reshape(shape)
    if reader.at != len(body):
        raise ValueError("compressed model has unexpected bytes after its last record")
    out = copy.deepcopy(model)
    try:
        out.load_state_dict(state)
    except RuntimeError as err:
        raise ValueError(f"compressed model does not fit the given architecture: {err}") from None
    return out


def save(path, model, shared, index_bits=None):
    """Write :func:`encode_model`'s bytes to ``path`` atomically; returns the size on disk in bytes."""
    return atomic_write(path, encode_model(model, shared, index_bits))


def load(path, model):
    """The model stored at ``path`` by :func:`save`, in a copy of the architecture ``model``."""
    return decode_model(Path(path).read_bytes(), model)


def save_result(path, model, shared, index_bits=None):
    """Write ``model`` to ``path`` as :func:`save` does and read the file back, as the method's
    :class:`~course_lib.measure.Result`: ``model`` the network decoded from the file (what a
    deployment loads), ``kept`` the keep-masks ``{layer: weight != 0}`` of the coded layers and
    ``file_bytes`` the file's size on disk, so that :func:`course_lib.pruning.compare` puts Deep
    Compression beside the other methods by the bytes it really stores."""
    save(path, model, shared, index_bits)
    decoded = load(path, model)
    kept = {name: m.weight != 0 for name, m in prunable_layers(decoded).items() if name in shared}
    return Result(decoded, kept=kept, file_bytes=Path(path).stat().st_size)


def fp32_bytes(model):
    """Bytes of ``model``'s state_dict tensors stored as fp32: 4 x their elements.

    For the LeNets (no buffers) this is parameters x 4 bytes, the paper's uncompressed size
    (LeNet-300-100: 1,066,440 B = "1070 KB"); the compression rate is this over the file size.
    """
    return 4 * sum(t.numel() for t in check_model(model).state_dict().values())


def size_report(model, shared, index_bits=None):
    """Per-layer sizes in the format of Han et al. 2016's AlexNet table, as a DataFrame.

    Columns: ``#weights``; ``kept %`` (P); bits per stored weight index without / with Huffman
    (P+Q, P+Q+H); bits per relative index likewise; ``rate P+Q %`` and ``rate P+Q+H %`` = the
    layer's coded bits (entries incl. fillers x bits, + fp32 codebook, + Huffman tables for H)
    over its fp32 bits. Biases and the file's headers are not in the rows (see the file size).
    What decides whether Huffman coding shrinks a layer: ``entries`` (stored entries, fillers
    included), ``table bits`` (its two code tables, 8 bits a symbol) and ``saved bits/entry``
    (fixed-length bits minus the codes' average lengths, from the symbol counts).
    """
    import pandas as pd

    bits = bits_per_layer(model, index_bits, "index_bits")
    rows = []
    for name, s in shared.items():
        w_sym, d_sym = layer_streams(s, bits[name])
        w_len, d_len = _table(w_sym, s.codebook.numel()), _table(d_sym, 1 << bits[name])
        n, numel, k = max(w_sym.size, 1), s.indices.numel(), s.codebook.numel()
        w_h = 8 * len(huffman.encode(w_sym, w_len))
        d_h = 8 * len(huffman.encode(d_sym, d_len))
        tables = 8 * (w_len.size + d_len.size)
        saved = (s.bits + bits[name] - huffman.average_length(np.bincount(w_sym, minlength=w_len.size), w_len)
                 - huffman.average_length(np.bincount(d_sym, minlength=d_len.size), d_len)) if w_sym.size else 0.0
        rows.append({"layer": name, "#weights": numel, "kept % (P)": 100 * (s.indices != 0).sum().item() / numel,
                     "weight bits (P+Q)": s.bits, "weight bits (P+Q+H)": w_h / n,
                     "index bits (P+Q)": bits[name], "index bits (P+Q+H)": d_h / n,
                     "rate P+Q %": 100 * (w_sym.size * (s.bits + bits[name]) + 32 * k) / (32 * numel),
                     "rate P+Q+H %": 100 * (w_h + d_h + 32 * k + tables) / (32 * numel),
                     "fillers": int((w_sym == 0).sum()), "entries": w_sym.size, "table bits": tables,
                     "saved bits/entry": saved})
    return pd.DataFrame.from_records(rows)
