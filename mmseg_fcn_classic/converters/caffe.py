"""Read Caffe ``.caffemodel`` files without Caffe or protobuf.

A ``.caffemodel`` is a binary protobuf ``NetParameter``. Only the few fields that
hold weights are decoded; everything else is skipped by its wire type. Field
numbers, from BVLC/caffe ``src/caffe/proto/caffe.proto``::

    NetParameter      layer = 100 (LayerParameter), layers = 2 (V1LayerParameter)
    LayerParameter    name = 1, type = 2 (string), blobs = 7
    V1LayerParameter  name = 4, type = 5 (enum LayerType), blobs = 6
    BlobProto         num = 1, channels = 2, height = 3, width = 4 (legacy dims),
                      data = 5 (packed float), diff = 6, shape = 7,
                      double_data = 8 (packed double)
    BlobShape         dim = 1 (packed int64)

``VGG_ILSVRC_16_layers.caffemodel`` uses the legacy V1 ``layers`` with 4-D
num/channels/height/width dims; the released FCN models use ``layer`` and
``shape``. Malformed input of any kind raises :class:`CaffeFormatError` naming the
file, in time proportional to its size (no recursion: nested groups are skipped
with a bounded stack; at most :data:`MAX_BLOB_AXES` non-negative dims per blob).
:func:`caffe_to_reference` turns the parsed layers into the
reference layer names (the layout pytorch-fcn also uses), and
:func:`convert_caffe` goes on to our state dict.
"""
import math
import mmap
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple, Union

import numpy as np
import torch

from ..models.utils import fcn_spec
from .late_fusion import convert_late_fusion_state_dict
from .pytorch_fcn import (ALEXNET_BACKBONE_LAYERS, BACKBONE_LAYERS, DECONV_LAYERS,
                          SCORE_LAYERS, convert_reference_state_dict,
                          with_head_layers)

# Protobuf wire types.
VARINT, FIXED64, LEN, START_GROUP, END_GROUP, FIXED32 = 0, 1, 2, 3, 4, 5
#: Deepest group nesting skipped (protobuf's own parsers stop at 100 levels).
MAX_GROUP_DEPTH = 100
#: Most axes of a blob (Caffe's ``kMaxBlobAxes``).
MAX_BLOB_AXES = 32

#: ``V1LayerParameter.LayerType`` enum values -> the new-style type strings.
V1_LAYER_TYPES = {
    0: 'None', 1: 'Accuracy', 2: 'BNLL', 3: 'Concat', 4: 'Convolution', 5: 'Data',
    6: 'Dropout', 7: 'EuclideanLoss', 8: 'Flatten', 9: 'HDF5Data',
    10: 'HDF5Output', 11: 'Im2col', 12: 'ImageData', 13: 'InfogainLoss',
    14: 'InnerProduct', 15: 'LRN', 16: 'MultinomialLogisticLoss', 17: 'Pooling',
    18: 'ReLU', 19: 'Sigmoid', 20: 'Softmax', 21: 'SoftmaxWithLoss', 22: 'Split',
    23: 'TanH', 24: 'WindowData', 25: 'Eltwise', 26: 'Power',
    27: 'SigmoidCrossEntropyLoss', 28: 'HingeLoss', 29: 'MemoryData',
    30: 'ArgMax', 31: 'Threshold', 32: 'DummyData', 33: 'Slice', 34: 'MVN',
    35: 'AbsVal', 36: 'Silence', 37: 'ContrastiveLoss', 38: 'Exp',
    39: 'Deconvolution'
}

#: The constant of each at-once ``Scale`` layer (voc-fcn8s-atonce/net.py); the
#: head applies these itself, so the blobs are checked and then dropped.
ATONCE_SCALES = {f'scale_{skip}': s for skip, s in fcn_spec.AT_ONCE_SCALES.items()}

#: The layer whose output each InnerProduct layer of VGG16 flattens.
FC_INPUTS = {name: BACKBONE_LAYERS[i - 1] for i, name in enumerate(BACKBONE_LAYERS)
             if name.startswith('fc')}
#: The same for AlexNet (``bvlc_alexnet``'s fc6 is 4096 x 9216 over conv5's
#: 256 x 6 x 6).
ALEXNET_FC_INPUTS = {name: ALEXNET_BACKBONE_LAYERS[i - 1]
                     for i, name in enumerate(ALEXNET_BACKBONE_LAYERS)
                     if name.startswith('fc')}
#: Layers with a weight and a bias, read under their reference names in this order
#: (each trunk's convs before the fc layers that flatten them; ``fc8``: the
#: ImageNet classifier, passed on to be dropped).
WEIGHT_LAYERS = tuple(dict.fromkeys(
    [n for n in BACKBONE_LAYERS + ALEXNET_BACKBONE_LAYERS if n not in FC_INPUTS]
    + [n for n in BACKBONE_LAYERS + ALEXNET_BACKBONE_LAYERS if n in FC_INPUTS]
    + ['fc8'] + list(with_head_layers(SCORE_LAYERS))))

#: Layers of zoo nets renamed from the VGG16 ones (the blobs are read under the
#: VGG16 name): nyud-fcn32s-color-d's 4-channel (B, G, R, depth) first conv.
LAYER_ALIASES = {'conv1_1_bgrd': 'conv1_1'}


def modality_suffixes(names) -> List[str]:
    """The modality suffixes of a late-fusion net's trunks, in file order.

    nyud-fcn32s-color-hha names each trunk's layers ``conv1_1color`` ...
    ``score_frcolor`` and ``conv1_1hha`` ... (``fcn_spec.late_fusion_name``); a
    one-trunk net gives ``['']``.

    Example:
        >>> modality_suffixes(['conv1_1color', 'conv1_2color', 'conv1_1hha'])
        ['color', 'hha']
        >>> modality_suffixes(['conv1_1', 'conv1_2']), modality_suffixes(['conv1_1_bgrd'])
        ([''], [''])
    """
    first = BACKBONE_LAYERS[0]
    suffixes = [n[len(first):] for n in names
                if n.startswith(first) and n not in LAYER_ALIASES]
    suffixes = [x for x in dict.fromkeys(suffixes) if x.isalnum() or x == '']
    return suffixes if suffixes and suffixes != [''] else ['']


class CaffeFormatError(ValueError):
    """A file is not a (complete) Caffe ``NetParameter``."""


@dataclass
class CaffeLayer:
    """One Caffe layer: its name, type string and parameter blobs."""
    name: str
    type: str
    blobs: List[np.ndarray] = field(default_factory=list)


class _Reader:
    """Protobuf wire-format reader over ``buf[start:end]``.

    Iterate :meth:`fields` for ``(field_number, wire_type)`` and consume each
    value with :meth:`varint`, :meth:`span` or :meth:`skip` before the next.
    """

    def __init__(self, buf: memoryview, start: int = 0, end: Optional[int] = None):
        self.buf = buf
        self.pos = start
        self.end = len(buf) if end is None else end

    def varint(self) -> int:
        buf, pos, end = self.buf, self.pos, self.end
        result = shift = 0
        while True:
            if pos >= end:
                raise CaffeFormatError(f'truncated protobuf: varint runs past '
                                       f'byte {end}')
            byte = buf[pos]
            pos += 1
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                self.pos = pos
                return result
            shift += 7
            if shift >= 70:
                raise CaffeFormatError(f'malformed protobuf: varint longer than '
                                       f'10 bytes at byte {pos}')

    def span(self) -> Tuple[int, int]:
        """Read a length-delimited value; return its ``(start, end)``."""
        length = self.varint()
        start = self.pos
        if start + length > self.end:
            raise CaffeFormatError(
                f'truncated protobuf: a {length}-byte field at byte {start} ends '
                f'past byte {self.end}')
        self.pos = start + length
        return start, self.pos

    def fixed(self, size: int) -> int:
        start = self.pos
        if start + size > self.end:
            raise CaffeFormatError(f'truncated protobuf: fixed{8 * size} value at '
                                   f'byte {start}')
        self.pos = start + size
        return start

    def skip(self, wire: int, field_number: int = 0) -> None:
        """Skip one value; a group is skipped with an explicit stack (no recursion),
        nested at most :data:`MAX_GROUP_DEPTH` deep."""
        if wire == VARINT:
            self.varint()
        elif wire == FIXED64:
            self.fixed(8)
        elif wire == LEN:
            self.span()
        elif wire == FIXED32:
            self.fixed(4)
        elif wire == START_GROUP:
            open_groups = [field_number]
            for number, inner in self.fields():
                if inner == END_GROUP:
                    if number != open_groups.pop():
                        raise CaffeFormatError('malformed protobuf: mismatched '
                                               f'group end at byte {self.pos}')
                    if not open_groups:
                        return
                elif inner == START_GROUP:
                    open_groups.append(number)
                    if len(open_groups) > MAX_GROUP_DEPTH:
                        raise CaffeFormatError(
                            f'malformed protobuf: groups nested over '
                            f'{MAX_GROUP_DEPTH} deep at byte {self.pos}')
                else:
                    self.skip(inner, number)
            raise CaffeFormatError('truncated protobuf: unterminated group')
        else:
            raise CaffeFormatError(f'malformed protobuf: wire type {wire} at byte '
                                   f'{self.pos}')

    def fields(self):
        while self.pos < self.end:
            key = self.varint()
            number, wire = key >> 3, key & 7
            if number == 0 or wire > 5:
                raise CaffeFormatError(f'malformed protobuf: bad field key {key} '
                                       f'at byte {self.pos}')
            yield number, wire

    def string(self) -> str:
        start, end = self.span()
        return bytes(self.buf[start:end]).decode('utf-8', errors='replace')


def _signed64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _packed_array(r: _Reader, dtype: str) -> np.ndarray:
    start, end = r.span()
    size = np.dtype(dtype).itemsize
    if (end - start) % size:
        raise CaffeFormatError(f'malformed protobuf: packed {dtype} field of '
                               f'{end - start} bytes')
    return np.frombuffer(r.buf[start:end], dtype=dtype)


def _unpacked_run(r: _Reader, tag: int, dtype: str) -> np.ndarray:
    """Read a run of unpacked fixed-width values, the first tag already read.

    Old writers emit ``tag value tag value ...``; the run is decoded with numpy
    rather than one Python step per value. The run's end is searched in windows
    that double in size, so the time is proportional to the run's length, not to
    the rest of the message.
    """
    size = np.dtype(dtype).itemsize
    start = r.pos - 1  # the one-byte tag just read
    if r.pos + size > r.end:  # the value itself is cut off
        raise CaffeFormatError(f'truncated protobuf: {dtype} value at byte '
                               f'{r.pos}')
    following = r.pos + size
    if following >= r.end or r.buf[following] != tag:  # a lone value
        r.pos = following
        return np.frombuffer(r.buf, dtype=dtype, count=1, offset=start + 1)
    available = (r.end - start) // (size + 1)
    records = np.frombuffer(r.buf[start:start + available * (size + 1)],
                            dtype=np.uint8).reshape(available, size + 1)
    count, window = 0, 64
    while count < available:
        stop = min(available, count + window)
        bad = np.flatnonzero(records[count:stop, 0] != tag)
        if bad.size:
            count += int(bad[0])
            break
        count, window = stop, window * 2
    r.pos = start + count * (size + 1)
    return np.ascontiguousarray(records[:count, 1:]).view(dtype).reshape(-1)


def _parse_blob_shape(r: _Reader) -> List[int]:
    dims: List[int] = []
    for number, wire in r.fields():
        if number == 1 and wire == LEN:  # packed
            start, end = r.span()
            sub = _Reader(r.buf, start, end)
            while sub.pos < sub.end:
                dims.append(_signed64(sub.varint()))
                _check_axes(dims)
        elif number == 1 and wire == VARINT:  # unpacked
            dims.append(_signed64(r.varint()))
            _check_axes(dims)
        else:
            r.skip(wire, number)
    return dims


def _check_axes(dims: List[int]) -> None:
    if len(dims) > MAX_BLOB_AXES:
        raise CaffeFormatError(f'malformed blob shape: over {MAX_BLOB_AXES} axes')
    if dims and dims[-1] < 0:
        raise CaffeFormatError(f'malformed blob shape: negative dimension {dims[-1]}')


def _parse_blob(r: _Reader) -> np.ndarray:
    """Decode one ``BlobProto`` into a float32 array of its declared shape."""
    shape = None
    legacy: Dict[int, int] = {}
    floats: List[np.ndarray] = []
    doubles: List[np.ndarray] = []
    for number, wire in r.fields():
        if number == 5 and wire == LEN:
            floats.append(_packed_array(r, '<f4'))
        elif number == 5 and wire == FIXED32:
            floats.append(_unpacked_run(r, (5 << 3) | FIXED32, '<f4'))
        elif number == 8 and wire == LEN:
            doubles.append(_packed_array(r, '<f8'))
        elif number == 8 and wire == FIXED64:
            doubles.append(_unpacked_run(r, (8 << 3) | FIXED64, '<f8'))
        elif number == 7 and wire == LEN:
            start, end = r.span()
            shape = _parse_blob_shape(_Reader(r.buf, start, end))
        elif number in (1, 2, 3, 4) and wire == VARINT:
            legacy[number] = _signed64(r.varint())
            if legacy[number] < 0:
                raise CaffeFormatError(f'malformed blob: negative legacy dimension '
                                       f'{legacy[number]}')
        else:  # diff (6), double_diff (9), unknown fields
            r.skip(wire, number)
    parts = floats if floats else doubles
    data = (np.concatenate(parts) if len(parts) > 1 else
            parts[0] if parts else np.zeros(0, np.float32))
    data = data.astype(np.float32)  # also copies out of the file buffer
    if shape is None:
        # Caffe's Blob::FromProto: any legacy dim makes a 4-D num/channels/h/w
        # shape, unset ones being 0.
        shape = ([legacy.get(i, 0) for i in (1, 2, 3, 4)] if legacy else
                 [data.size])
    if math.prod(shape) != data.size:
        raise CaffeFormatError(f'blob of shape {tuple(shape)} holds {data.size} '
                               f'values')
    return data.reshape(shape)


def _parse_layer(r: _Reader, v1: bool) -> CaffeLayer:
    name_field, type_field, blobs_field = (4, 5, 6) if v1 else (1, 2, 7)
    name, type_, blobs = '', '', []
    for number, wire in r.fields():
        if number == name_field and wire == LEN:
            name = r.string()
        elif number == type_field and v1 and wire == VARINT:
            code = r.varint()
            type_ = V1_LAYER_TYPES.get(code, f'V1LayerType{code}')
        elif number == type_field and not v1 and wire == LEN:
            type_ = r.string()
        elif number == blobs_field and wire == LEN:
            start, end = r.span()
            blobs.append(_parse_blob(_Reader(r.buf, start, end)))
        else:
            r.skip(wire, number)
    return CaffeLayer(name, type_, blobs)


def parse_net_parameter(buf: Union[bytes, bytearray, memoryview]) -> List[CaffeLayer]:
    """Decode the layers of a binary ``NetParameter``.

    Args:
        buf (bytes-like): The serialized message, e.g. a whole ``.caffemodel``.

    Returns:
        list[CaffeLayer]: Layers in file order, both ``layer`` (new) and
        ``layers`` (V1) entries, each with its blobs as float32 arrays.

    Raises:
        CaffeFormatError: Truncated or malformed data, or no layers at all.
    """
    r = _Reader(memoryview(buf).cast('B'))
    layers = []
    for number, wire in r.fields():
        if number in (2, 100) and wire == LEN:
            start, end = r.span()
            layers.append(_parse_layer(_Reader(r.buf, start, end), v1=number == 2))
        else:
            r.skip(wire, number)
    if not layers:
        raise CaffeFormatError('no layers found: not a Caffe NetParameter')
    return layers


def _sniff_error(path: str, head: bytes) -> Optional[str]:
    if head.startswith(b'PK\x03\x04'):
        return 'is a zip archive (a PyTorch checkpoint?), not a caffemodel'
    if head[:1] == b'\x80' and head[1:2] in (b'\x02', b'\x03', b'\x04', b'\x05'):
        return 'is a Python pickle (a PyTorch checkpoint?), not a caffemodel'
    if not head:
        return 'is empty'
    return None


def read_caffemodel(path: str) -> List[CaffeLayer]:
    """Read the layers and blobs of a ``.caffemodel`` file.

    The file is memory-mapped and blob data decoded with ``numpy.frombuffer``,
    so a 550 MB VGG16 model reads in seconds.

    Args:
        path (str): The ``.caffemodel`` file.

    Returns:
        list[CaffeLayer]: See :func:`parse_net_parameter`.

    Raises:
        CaffeFormatError: The message names ``path``.
    """
    # The map is not closed explicitly: it closes once the last view of it (held
    # by a traceback, say) is gone. Blob arrays are copies, so none outlive it.
    with open(path, 'rb') as f:
        problem = _sniff_error(path, f.read(4))
        if problem:
            raise CaffeFormatError(f'{path}: {problem}')
        buf = memoryview(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ))
    try:
        return parse_net_parameter(buf)
    except CaffeFormatError as e:
        message = f'{path}: {e}'
    raise CaffeFormatError(message)


def is_caffemodel(path: str) -> bool:
    """Whether ``path`` parses as a Caffe ``NetParameter`` with layers.

    Only the top-level field keys are walked (the layer bodies are skipped), so
    this is cheap even for large files.
    """
    try:
        with open(path, 'rb') as f:
            if _sniff_error(path, f.read(4)):
                return False
            r = _Reader(memoryview(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)))
        found = False
        for number, wire in r.fields():
            if number not in (1, 2, 3, 4, 5, 6, 7, 8, 100):
                return False
            found |= number in (2, 100) and wire == LEN
            r.skip(wire, number)
        return found
    except (CaffeFormatError, OSError, ValueError):
        return False


def _as_conv_weight(name: str, weight: np.ndarray, out_channels: int,
                    in_channels: int, report: dict) -> np.ndarray:
    """Turn an InnerProduct weight into the equivalent convolution weight.

    ``fc6`` of VGG16 is a 4096x25088 matrix over a flattened 512x7x7 input; as a
    convolution it is 4096x512x7x7, the kernel size following from the count.
    """
    if weight.ndim == 4 and weight.shape[:2] == (out_channels, in_channels):
        return weight
    count = weight.size
    if count % (out_channels * in_channels):
        raise CaffeFormatError(
            f'{name}: weight of shape {weight.shape} does not fit '
            f'{out_channels} outputs over {in_channels} input channels')
    kernel = math.isqrt(count // (out_channels * in_channels))
    if kernel * kernel * out_channels * in_channels != count:
        raise CaffeFormatError(f'{name}: weight of shape {weight.shape} is not a '
                               f'square kernel over {in_channels} channels')
    new_shape = (out_channels, in_channels, kernel, kernel)
    report['reshaped'].append([name, list(weight.shape), list(new_shape)])
    return weight.reshape(new_shape)


def _fc_feeder(name: str, ref: Dict[str, np.ndarray],
               suffix: str = '') -> Optional[str]:
    """The layer an InnerProduct layer flattens: VGG16's or AlexNet's, whichever
    the file holds (in the trunk of ``suffix`` for a late-fusion net)."""
    candidates = [table[name] for table in (FC_INPUTS, ALEXNET_FC_INPUTS)
                  if name in table]
    return next((c for c in candidates if f'{c}{suffix}.bias' in ref),
                candidates[0] if candidates else None)


def caffe_to_reference(
        layers: List[CaffeLayer]) -> Tuple[Dict[str, torch.Tensor], dict]:
    """Collect the blobs of a VGG16 / AlexNet / FCN Caffe net under reference names.

    The result uses the pytorch-fcn layout (``conv1_1.weight``, ``fc6.bias``,
    ``score_fr.weight``, ``upscore2.weight``, ...; ``conv1`` ... ``conv5`` for
    AlexNet; the head layers of a multi-head net keep their suffix:
    ``score_fr_sem.weight``), with InnerProduct ``fc6`` / ``fc7`` weights reshaped
    into convolution weights and legacy 4-D biases flattened (the ImageNet ``fc8``
    classifier is passed on as it is, to be dropped).
    ``Scale`` layers of the at-once net are checked against their constants and
    dropped. Zoo names: ``conv1_1_bgrd`` (early fusion) is read as ``conv1_1``; a
    late-fusion net's trunks keep their suffixed names (``conv1_1color.weight``,
    ``score_frhha.bias``, ...; :func:`modality_suffixes`, listed in the report's
    ``modalities``), its upsampling is shared.

    Args:
        layers (list[CaffeLayer]): From :func:`read_caffemodel`.

    Returns:
        tuple[dict, dict]: The reference state dict and a report with lists
        ``reshaped``, ``dropped`` and ``notes`` (plain Python types).
    """
    report = {'reshaped': [], 'dropped': [], 'notes': []}
    by_name = {}
    for layer in layers:
        if layer.blobs:
            name = LAYER_ALIASES.get(layer.name, layer.name)
            if name in by_name:
                raise CaffeFormatError(f'layer {layer.name!r} appears twice')
            if name != layer.name:
                report['notes'].append(f'layer {layer.name} read as {name}')
            by_name[name] = layer
    suffixes = modality_suffixes(by_name)
    if suffixes != ['']:
        report['modalities'] = suffixes
    ref: Dict[str, np.ndarray] = {}
    for suffix in suffixes:
        for base in WEIGHT_LAYERS:
            name = base + suffix
            layer = by_name.pop(name, None)
            if layer is None:
                continue
            if len(layer.blobs) != 2:
                raise CaffeFormatError(f'layer {name!r} has {len(layer.blobs)} '
                                       f'blobs, expected a weight and a bias')
            weight, bias = layer.blobs[0], layer.blobs[1].reshape(-1)
            if base != 'fc8' and (layer.type == 'InnerProduct' or weight.ndim != 4):
                feeder = _fc_feeder(base, ref, suffix)
                if feeder is None or f'{feeder}{suffix}.bias' not in ref:
                    raise CaffeFormatError(
                        f'InnerProduct layer {name!r} needs the layer feeding it '
                        f'({feeder}{suffix}) to know its input channels')
                weight = _as_conv_weight(name, weight, bias.size,
                                         ref[f'{feeder}{suffix}.bias'].size, report)
            ref[f'{name}.weight'] = weight
            ref[f'{name}.bias'] = bias
    for name in with_head_layers(DECONV_LAYERS):
        layer = by_name.pop(name, None)
        if layer is None:
            continue
        ref[f'{name}.weight'] = layer.blobs[0]
        if len(layer.blobs) > 1:
            if len(layer.blobs) > 2 or np.any(layer.blobs[1]):
                raise CaffeFormatError(
                    f'Deconvolution layer {name!r} has a non-zero bias; the '
                    f'reference nets (and our head) use bias_term=False')
            report['dropped'].append([f'{name} bias', 'all zero (bias_term=False '
                                      'in the reference nets)'])
    for name, constant in ATONCE_SCALES.items():
        layer = by_name.pop(name, None)
        if layer is None:
            continue
        values = np.concatenate([b.reshape(-1) for b in layer.blobs])
        if not np.allclose(values, constant, rtol=1e-5, atol=0):
            raise CaffeFormatError(
                f'Scale layer {name!r} holds {values[:4].tolist()}, not the '
                f'constant {constant} the at-once head applies')
        report['dropped'].append(
            [name, f'Scale constant {constant}, applied by the at-once head'])
    for name, layer in by_name.items():
        report['dropped'].append([name, f'unused {layer.type} layer with '
                                        f'{len(layer.blobs)} blobs'])
    return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in ref.items()}, \
        report


def convert_caffe(path_or_layers: Union[str, List[CaffeLayer]],
                  variant: Optional[str] = None
                  ) -> Tuple[Dict[str, torch.Tensor], dict]:
    """Convert a VGG16 or FCN ``.caffemodel`` into our state dict.

    Args:
        path_or_layers (str | list[CaffeLayer]): A ``.caffemodel`` path or the
            layers :func:`read_caffemodel` returned.
        variant (str, optional): ``'32s'``, ``'16s'``, ``'8s'``, ``'8s-atonce'``,
            ``'alexnet-32s'``, ``'vgg16'`` or ``'alexnet'``; detected from the
            layer names when None.

    Returns:
        tuple[dict, dict]: The state dict (``backbone.*`` / ``decode_head.*``
        keys for a whole FCN; bare backbone keys for VGG16) and the report of
        :func:`~.pytorch_fcn.convert_reference_state_dict`. For
        ``fcn8s-heavy-pascal.caffemodel``: ``backbone.fc6.weight`` of shape
        (4096, 512, 7, 7) and variant ``'8s'``. A late-fusion net
        (``nyud-fcn32s-color-hha``) goes through
        :func:`~.late_fusion.convert_late_fusion_state_dict`
        (``backbone.color.conv1_1.weight``, ``decode_head.score_frhha.weight``;
        ``modalities`` in the report).
    """
    source = path_or_layers if isinstance(path_or_layers, str) else None
    layers = (read_caffemodel(path_or_layers) if source is not None else
              path_or_layers)
    try:
        ref, caffe_report = caffe_to_reference(layers)
        if variant is None and any(n.startswith('scale_pool') for n, _ in
                                   caffe_report['dropped']):
            variant = '8s-atonce'
        if caffe_report.get('modalities'):  # two trunks (nyud-fcn32s-color-hha)
            state_dict, report = convert_late_fusion_state_dict(
                ref, caffe_report['modalities'], variant=variant)
        else:
            state_dict, report = convert_reference_state_dict(ref, variant=variant)
    except ValueError as e:
        raise CaffeFormatError(f'{source}: {e}' if source else str(e)) from None
    report['format'] = 'caffe'
    report['reshaped'] = caffe_report['reshaped'] + report['reshaped']
    report['dropped'] = caffe_report['dropped'] + report['dropped']
    report['notes'] = caffe_report['notes'] + report['notes']
    if source:
        report['source'] = os.path.abspath(source)
    return state_dict, report
