"""A tiny protobuf encoder that writes Caffe ``NetParameter`` files for the tests.

It is written from caffe.proto (BVLC/caffe ``src/caffe/proto/caffe.proto``) and shares
no code with :mod:`mmseg_fcn_classic.converters.caffe`, so a parser bug cannot cancel
out against an encoder bug.

    NetParameter      name = 1, layers = 2 (V1LayerParameter), layer = 100
    LayerParameter    name = 1, type = 2, bottom = 3, top = 4, blobs = 7
    V1LayerParameter  bottom = 2, top = 3, name = 4, type = 5 (enum), blobs = 6
    BlobProto         num = 1, channels = 2, height = 3, width = 4, data = 5,
                      diff = 6, shape = 7, double_data = 8
    BlobShape         dim = 1 (packed int64)
"""
import struct
from typing import Iterable, List, Optional, Sequence

import numpy as np

V1_TYPES = {'Convolution': 4, 'Data': 5, 'Dropout': 6, 'InnerProduct': 14,
            'LRN': 15, 'Pooling': 17, 'ReLU': 18, 'Softmax': 20,
            'SoftmaxWithLoss': 21, 'Deconvolution': 39}


def varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def key(number: int, wire: int) -> bytes:
    return varint(number << 3 | wire)


def length_delimited(number: int, payload: bytes) -> bytes:
    return key(number, 2) + varint(len(payload)) + payload


def string(number: int, text: str) -> bytes:
    return length_delimited(number, text.encode())


def int_field(number: int, value: int) -> bytes:
    return key(number, 0) + varint(value)


def blob(array: np.ndarray, legacy_dims: bool = False, packed: bool = True,
         double: bool = False, dims: Optional[Sequence[int]] = None,
         with_diff: bool = False) -> bytes:
    """Encode a BlobProto; ``dims`` overrides the shape written (legacy or shape)."""
    dims = list(array.shape if dims is None else dims)
    out = b''
    if legacy_dims:
        dims = [1] * (4 - len(dims)) + dims
        for number, d in zip((1, 2, 3, 4), dims):
            out += int_field(number, d)
    else:
        packed_dims = b''.join(varint(d) for d in dims)
        out += length_delimited(7, length_delimited(1, packed_dims))
    flat = np.asarray(array).reshape(-1)
    number, wire, fmt = (8, 1, '<d') if double else (5, 5, '<f')
    if packed:
        out += length_delimited(number, flat.astype(fmt).tobytes())
    else:
        out += b''.join(key(number, wire) + struct.pack(fmt, v) for v in flat)
    if with_diff:
        out += length_delimited(6, np.ones_like(flat, dtype='<f4').tobytes())
    return out


def layer(name: str, type_: str, blobs: Iterable[bytes] = (), v1: bool = False,
          bottom: Sequence[str] = (), top: Sequence[str] = ()) -> bytes:
    """Encode one layer as a NetParameter field (``layers`` if v1 else ``layer``)."""
    if v1:
        body = b''.join(string(2, b) for b in bottom)
        body += b''.join(string(3, t) for t in top)
        body += string(4, name) + int_field(5, V1_TYPES[type_])
        body += b''.join(length_delimited(6, b) for b in blobs)
        return length_delimited(2, body)
    body = string(1, name) + string(2, type_)
    body += b''.join(string(3, b) for b in bottom) + b''.join(string(4, t) for t in top)
    body += b''.join(length_delimited(7, b) for b in blobs)
    return length_delimited(100, body)


def net(layers: List[bytes], name: str = 'net') -> bytes:
    return string(1, name) + b''.join(layers)
