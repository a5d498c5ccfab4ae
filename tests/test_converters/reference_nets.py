"""Narrow reference FCN / VGG16 weights, written the way each source stores them.

* :func:`reference_arrays`: random weights under the reference layer names
  (``voc-fcn*/net.py``), convolution shaped.
* :func:`caffemodel_bytes`: those weights as a Caffe ``NetParameter``: new-style
  ``layer`` entries with ``shape`` (the released FCN models) or V1 ``layers``
  with legacy num/channels/height/width dims and InnerProduct fc layers
  (``VGG_ILSVRC_16_layers.caffemodel``).
* :func:`reference_forward`: the reference nets' forward pass in plain
  ``F.conv2d`` calls, from the arrays (pytorch-fcn's ``FCN*.forward``).
* FCN-AlexNet and the ImageNet AlexNet: :func:`alexnet_arrays`,
  :func:`alexnet_caffemodel_bytes`, :func:`alexnet_reference_forward` (Caffe's
  pooling and LRN written out: :func:`caffe_max_pool`, :func:`caffe_lrn`).
"""
from collections import OrderedDict
from typing import Dict, Optional

import numpy as np
import torch
import torch.nn.functional as F

from . import protobuf_encoder as pe

#: Narrow stand-ins for VGG16's 64, 128, 256, 512, 512 channels and 4096 fc units.
WIDTHS = (4, 6, 8, 10, 12)
FC_CHANNELS = 16
NUM_CLASSES = 5
STAGES = (2, 2, 3, 3, 3)
CONV_LAYERS = [f'conv{s}_{i}' for s, n in enumerate(STAGES, 1) for i in range(1, n + 1)]
DECONVS = {
    '32s': {'upscore': (64, 32)},
    '16s': {'upscore2': (4, 2), 'upscore16': (32, 16)},
    '8s': {'upscore2': (4, 2), 'upscore_pool4': (4, 2), 'upscore8': (16, 8)},
}
DECONVS['8s-atonce'] = DECONVS['8s']
SKIPS = {'32s': (), '16s': ('pool4', ), '8s': ('pool4', 'pool3'),
         '8s-atonce': ('pool4', 'pool3')}
ATONCE_SCALE = {'pool4': 0.01, 'pool3': 0.0001}
CROPS = {'32s': {'out': 19}, '16s': {'pool4': 5, 'out': 27},
         '8s': {'pool4': 5, 'pool3': 9, 'out': 31}}
CROPS['8s-atonce'] = CROPS['8s']


def _conv_writer(out: Dict[str, np.ndarray], rng: np.random.Generator):
    """``conv(name, cout, cin, k, scale=None)``: random He-scaled float32 filters and
    biases of one conv, written into ``out`` under its reference name."""

    def conv(name, cout, cin, k, scale=None):
        scale = scale or (2.0 / (cin * k * k)) ** 0.5
        out[f'{name}.weight'] = (rng.standard_normal((cout, cin, k, k)) * scale
                                 ).astype(np.float32)
        out[f'{name}.bias'] = (rng.standard_normal(cout) * 0.1).astype(np.float32)

    return conv


def reference_arrays(variant: str, seed: int = 0, widths=WIDTHS, fc=FC_CHANNELS,
                     num_classes: int = NUM_CLASSES,
                     with_fc8: bool = False,
                     in_channels: int = 3) -> Dict[str, np.ndarray]:
    """Random float32 weights under reference names; ``variant='vgg16'`` is the
    backbone plus ``fc8``; ``in_channels`` of conv1_1 (4: nyud-fcn32s-color-d)."""
    rng = np.random.default_rng(seed)
    out: Dict[str, np.ndarray] = OrderedDict()
    conv = _conv_writer(out, rng)

    cin = in_channels
    for name in CONV_LAYERS:
        cout = widths[int(name[4]) - 1]
        conv(name, cout, cin, 3)
        cin = cout
    conv('fc6', fc, widths[4], 7)
    conv('fc7', fc, fc, 1)
    if variant == 'vgg16' or with_fc8:
        conv('fc8', 7, fc, 1)
    if variant == 'vgg16':
        return out
    conv('score_fr', num_classes, fc, 1)
    if 'pool4' in SKIPS[variant]:
        conv('score_pool4', num_classes, widths[3], 1, scale=0.5)
    if 'pool3' in SKIPS[variant]:
        conv('score_pool3', num_classes, widths[2], 1, scale=0.5)
    for name, (k, _) in DECONVS[variant].items():
        out[f'{name}.weight'] = (rng.standard_normal(
            (num_classes, num_classes, k, k)) * 0.1).astype(np.float32)
    return out


def _layer_sequence(variant: str):
    """(name, type, param names, bottom, top) in network order, data layer first."""
    seq = [('data', 'Python' if variant != 'vgg16' else 'Data', None)]
    for name in CONV_LAYERS:
        seq += [(name, 'Convolution', name),
                (name.replace('conv', 'relu'), 'ReLU', None)]
        if name.endswith('_2') and name[4] in '12' or name.endswith('_3'):
            seq.append((f'pool{name[4]}', 'Pooling', None))
    fc_type = 'InnerProduct' if variant == 'vgg16' else 'Convolution'
    for i in (6, 7):
        seq += [(f'fc{i}', fc_type, f'fc{i}'), (f'relu{i}', 'ReLU', None),
                (f'drop{i}', 'Dropout', None)]
    if variant == 'vgg16':
        return seq + [('fc8', 'InnerProduct', 'fc8'), ('prob', 'Softmax', None)]
    seq += [('score_fr', 'Convolution', 'score_fr')]
    for name in DECONVS[variant]:
        seq.append((name, 'Deconvolution', name))
        skip = {'upscore2': 'pool4', 'upscore_pool4': 'pool3'}.get(name)
        if skip in SKIPS[variant]:
            if variant == '8s-atonce':
                seq.append((f'scale_{skip}', 'Scale', f'scale_{skip}'))
            seq.append((f'score_{skip}', 'Convolution', f'score_{skip}'))
    return seq + [('loss', 'SoftmaxWithLoss', None)]


def caffemodel_bytes(arrays: Dict[str, np.ndarray], variant: str, v1: bool = False,
                     legacy_dims: Optional[bool] = None,
                     scales: Optional[Dict[str, float]] = None,
                     rename: Optional[Dict[str, str]] = None) -> bytes:
    """Encode ``arrays`` as a ``.caffemodel``.

    Args:
        arrays: From :func:`reference_arrays`.
        variant: ``'vgg16'`` writes fc6/fc7/fc8 as InnerProduct layers whose
            weights are flattened matrices, as VGG_ILSVRC_16_layers does.
        v1: Write V1 ``layers`` (field 2) instead of ``layer`` (field 100).
        legacy_dims: Write num/channels/height/width (default: ``v1``).
        scales: Constant of each at-once Scale layer (default 0.01 / 0.0001).
        rename: Layer names written instead of the reference ones, e.g.
            ``{'conv1_1': 'conv1_1_bgrd'}`` (nyud-fcn32s-color-d).
    """
    legacy = v1 if legacy_dims is None else legacy_dims
    scales = scales or {'scale_pool4': 0.01, 'scale_pool3': 0.0001}
    layers = []
    for name, type_, param in _layer_sequence(variant):
        blobs = []
        if type_ == 'Scale':
            blobs = [pe.blob(np.array([scales[name]], np.float32), legacy_dims=legacy)]
        elif param is not None and f'{param}.weight' in arrays:
            w = arrays[f'{param}.weight']
            if type_ == 'InnerProduct':
                # Caffe stores an InnerProduct weight as (num_output, K): legacy
                # dims (1, 1, num_output, K)
                w = w.reshape(w.shape[0], -1)
            blobs.append(pe.blob(w, legacy_dims=legacy))
            if f'{param}.bias' in arrays:
                blobs.append(pe.blob(arrays[f'{param}.bias'], legacy_dims=legacy))
        if v1 and type_ not in pe.V1_TYPES:  # Python / Scale layers are new-style only
            type_ = {'Scale': 'Convolution'}.get(type_, 'Data')
        layers.append(pe.layer((rename or {}).get(name, name), type_, blobs, v1=v1))
    return pe.net(layers, name=f'fcn{variant}')


def reference_forward(arrays: Dict[str, np.ndarray], x: torch.Tensor,
                      variant: str) -> torch.Tensor:
    """Logits of the reference FCN, from its weight arrays (pytorch-fcn's forward)."""
    p = {k: torch.from_numpy(np.asarray(v)) for k, v in arrays.items()}

    def conv(name, h, pad=0):
        return F.conv2d(h, p[f'{name}.weight'], p[f'{name}.bias'], padding=pad)

    h = x
    pools = {}
    for name in CONV_LAYERS:
        h = F.relu(conv(name, h, pad=100 if name == 'conv1_1' else 1))
        if name.endswith('_2') and name[4] in '12' or name.endswith('_3'):
            h = F.max_pool2d(h, 2, 2, ceil_mode=True)
            pools[f'pool{name[4]}'] = h
    h = F.relu(conv('fc6', h))
    h = F.relu(conv('fc7', h))
    h = conv('score_fr', h)
    for name, (k, stride) in DECONVS[variant].items():
        h = F.conv_transpose2d(h, p[f'{name}.weight'], stride=stride)
        skip = {'upscore2': 'pool4', 'upscore_pool4': 'pool3'}.get(name)
        if skip in SKIPS[variant]:
            s = pools[skip]
            if variant == '8s-atonce':
                s = s * ATONCE_SCALE[skip]
            s = conv(f'score_{skip}', s)
            o = CROPS[variant][skip]
            h = h + s[:, :, o:o + h.shape[2], o:o + h.shape[3]]
    o = CROPS[variant]['out']
    return h[:, :, o:o + x.shape[2], o:o + x.shape[3]]


def fcn_model_cfg(variant: str, widths=WIDTHS, fc=FC_CHANNELS,
                  num_classes: int = NUM_CLASSES) -> dict:
    """An EncoderDecoder config of our FCN with the narrow reference widths."""
    skips = SKIPS[variant]
    in_channels = ((widths[2], ) if 'pool3' in skips else ()) + (
        (widths[3], ) if 'pool4' in skips else ()) + (fc, )
    return dict(
        type='EncoderDecoder',
        data_preprocessor=dict(type='FCNDataPreProcessor', weights='caffe'),
        backbone=dict(type='VGG16FC', widths=widths, fc_channels=fc),
        decode_head=dict(
            type='ClassicFCNHead', skips=skips, in_channels=in_channels,
            in_index=(0, 1, 2)[-len(in_channels):], num_classes=num_classes,
            at_once=variant == '8s-atonce'),
        train_cfg=dict(),
        test_cfg=dict(mode='whole'))


def build_fcn(variant: str, **kwargs):
    """Build :func:`fcn_model_cfg` through mmseg's registry, in eval mode."""
    import mmseg_fcn_classic  # noqa: F401  (registers the components)
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    return MODELS.build(fcn_model_cfg(variant, **kwargs)).eval()


def vgg_reference_fc7(arrays: Dict[str, np.ndarray], x: torch.Tensor) -> torch.Tensor:
    """fc7 (after ReLU) of the reference VGG16 as convolutions, from its arrays."""
    p = {k: torch.from_numpy(np.asarray(v)) for k, v in arrays.items()}
    h = x
    for name in CONV_LAYERS:
        h = F.relu(F.conv2d(h, p[f'{name}.weight'], p[f'{name}.bias'],
                            padding=100 if name == 'conv1_1' else 1))
        if name.endswith('_2') and name[4] in '12' or name.endswith('_3'):
            h = F.max_pool2d(h, 2, 2, ceil_mode=True)
    h = F.relu(F.conv2d(h, p['fc6.weight'], p['fc6.bias']))
    return F.relu(F.conv2d(h, p['fc7.weight'], p['fc7.bias']))


# --- late fusion: nyud-fcn32s-color-hha (two trunks, scores summed 0.5 / 0.5) ------

LATE_FUSION_MODALITIES = ('color', 'hha')


def late_fusion_arrays(seed: int = 0, modalities=LATE_FUSION_MODALITIES,
                       widths=WIDTHS, fc=FC_CHANNELS,
                       num_classes: int = NUM_CLASSES) -> Dict[str, np.ndarray]:
    """Random weights of a late-fusion FCN-32s under its reference names:
    ``conv1_1color`` ... ``score_frcolor``, ``conv1_1hha`` ... ``score_frhha`` and
    one ``upscore`` (nyud-fcn32s-color-hha/net.py's ``modality_fcn``)."""
    out: Dict[str, np.ndarray] = OrderedDict()
    for k, modality in enumerate(modalities):
        trunk = reference_arrays('32s', seed=seed + k, widths=widths, fc=fc,
                                 num_classes=num_classes)
        for key, value in trunk.items():
            layer, param = key.rsplit('.', 1)
            if layer != 'upscore':
                out[f'{layer}{modality}.{param}'] = value
    out['upscore.weight'] = reference_arrays('32s', seed=seed + 99, widths=widths,
                                             fc=fc, num_classes=num_classes)[
                                                 'upscore.weight']
    return out


def late_fusion_caffemodel_bytes(arrays: Dict[str, np.ndarray],
                                 modalities=LATE_FUSION_MODALITIES) -> bytes:
    """``arrays`` as the released nyud-fcn32s-color-hha-heavy.caffemodel lays them
    out: the data layer, each trunk in full, ``score_fused`` (Eltwise), ``upscore``,
    ``score`` (Crop) and the loss."""
    layers = [pe.layer('data', 'Python', top=['color', 'hha', 'label'])]
    for modality in modalities:
        for name, type_, param in _layer_sequence('32s')[1:]:
            if name in ('upscore', 'loss'):
                continue
            blobs = []
            if param is not None:
                key = f'{param}{modality}'
                blobs = [pe.blob(arrays[f'{key}.weight']), pe.blob(arrays[f'{key}.bias'])]
            layers.append(pe.layer(f'{name}{modality}', type_, blobs))
    layers += [pe.layer('score_fused', 'Eltwise'),
               pe.layer('upscore', 'Deconvolution', [pe.blob(arrays['upscore.weight'])]),
               pe.layer('score', 'Crop'), pe.layer('loss', 'SoftmaxWithLoss')]
    return pe.net(layers, name='nyud-fcn32s-color-hha')


def reference_late_fusion_forward(arrays: Dict[str, np.ndarray], inputs,
                                  modalities=LATE_FUSION_MODALITIES,
                                  coeffs=(0.5, 0.5)) -> torch.Tensor:
    """Logits of nyud-fcn32s-color-hha from its arrays, in plain ``F.conv2d``:
    each trunk on its own input, ``score_fused = sum(coeff * score_fr<m>)``, then
    ``upscore`` (k64 s32) and the crop at offset 19 against the colour input."""
    p = {k: torch.from_numpy(np.asarray(v)) for k, v in arrays.items()}
    fused = None
    for modality, coeff, x in zip(modalities, coeffs, inputs):
        def conv(name, h, pad=0):
            return F.conv2d(h, p[f'{name}{modality}.weight'],
                            p[f'{name}{modality}.bias'], padding=pad)
        h = x
        for name in CONV_LAYERS:
            h = F.relu(conv(name, h, pad=100 if name == 'conv1_1' else 1))
            if name.endswith('_2') and name[4] in '12' or name.endswith('_3'):
                h = F.max_pool2d(h, 2, 2, ceil_mode=True)
        h = F.relu(conv('fc6', h))
        h = F.relu(conv('fc7', h))
        score = coeff * conv('score_fr', h)
        fused = score if fused is None else fused + score
    h = F.conv_transpose2d(fused, p['upscore.weight'], stride=32)
    x = inputs[0]
    return h[:, :, 19:19 + x.shape[2], 19:19 + x.shape[3]]


# --- FCN-AlexNet (voc-fcn-alexnet) and the ImageNet AlexNet -------------------------

#: Narrow stand-ins for AlexNet's 96, 256, 384, 384, 256 channels (even where a
#: grouped conv splits them).
ALEXNET_WIDTHS = (4, 8, 6, 8, 10)
#: voc-fcn-alexnet/net.py, typed in from the prototxt: (kernel, stride, pad, group).
ALEXNET_CONVS = {'conv1': (11, 4, 100, 1), 'conv2': (5, 1, 2, 2),
                 'conv3': (3, 1, 1, 1), 'conv4': (3, 1, 1, 2), 'conv5': (3, 1, 1, 2)}
#: val.prototxt: upscore (Deconvolution kernel 63, stride 32), score (Crop offset 18).
ALEXNET_UPSCORE = (63, 32)
ALEXNET_CROP = 18


def alexnet_arrays(variant: str = 'alexnet-32s', seed: int = 0,
                   widths=ALEXNET_WIDTHS, fc: int = FC_CHANNELS,
                   num_classes: int = NUM_CLASSES) -> Dict[str, np.ndarray]:
    """Random float32 AlexNet weights under reference names; ``'alexnet'`` is the
    ImageNet backbone with ``fc8``, ``'alexnet-32s'`` FCN-AlexNet."""
    rng = np.random.default_rng(seed)
    out: Dict[str, np.ndarray] = OrderedDict()
    conv = _conv_writer(out, rng)

    cin = 3
    for i, (name, (k, _, _, group)) in enumerate(ALEXNET_CONVS.items()):
        conv(name, widths[i], cin // group, k)
        cin = widths[i]
    conv('fc6', fc, widths[4], 6)
    conv('fc7', fc, fc, 1)
    if variant == 'alexnet':
        conv('fc8', 7, fc, 1)
        return out
    conv('score_fr', num_classes, fc, 1)
    k = ALEXNET_UPSCORE[0]
    out['upscore.weight'] = (rng.standard_normal((num_classes, num_classes, k, k))
                             * 0.1).astype(np.float32)
    return out


def alexnet_caffemodel_bytes(arrays: Dict[str, np.ndarray], variant: str,
                             v1: bool = False,
                             legacy_dims: Optional[bool] = None) -> bytes:
    """Encode AlexNet weights as a ``.caffemodel``.

    ``'alexnet-32s'``: ``fcn-alexnet-pascal.caffemodel``'s layers (net.py order:
    pool before LRN, fc6/fc7 convolutions, score_fr, upscore, the Crop).
    ``'alexnet'``: ``bvlc_alexnet.caffemodel``'s (LRN before pool; fc6, fc7, fc8
    InnerProduct layers with flattened weights, fc6 over conv5's 256 x 6 x 6).
    """
    legacy = v1 if legacy_dims is None else legacy_dims
    if variant == 'alexnet':
        order = ['conv1', 'relu1', 'norm1', 'pool1', 'conv2', 'relu2', 'norm2',
                 'pool2']
        fc_type = 'InnerProduct'
    else:
        order = ['conv1', 'relu1', 'pool1', 'norm1', 'conv2', 'relu2', 'pool2',
                 'norm2']
        fc_type = 'Convolution'
    order += ['conv3', 'relu3', 'conv4', 'relu4', 'conv5', 'relu5', 'pool5',
              'fc6', 'relu6', 'drop6', 'fc7', 'relu7', 'drop7']
    order += ['fc8', 'prob'] if variant == 'alexnet' else [
        'score_fr', 'upscore', 'score', 'loss']
    types = {'relu': 'ReLU', 'norm': 'LRN', 'pool': 'Pooling', 'drop': 'Dropout',
             'conv': 'Convolution', 'fc': fc_type, 'score_fr': 'Convolution',
             'upscore': 'Deconvolution', 'score': 'Crop', 'loss': 'SoftmaxWithLoss',
             'prob': 'Softmax'}
    layers = [pe.layer('data', 'Data' if v1 else 'Python', v1=v1)]
    for name in order:
        type_ = types.get(name) or types[name.rstrip('0123456789')]
        blobs = []
        if f'{name}.weight' in arrays:
            w = arrays[f'{name}.weight']
            if type_ == 'InnerProduct':
                w = w.reshape(w.shape[0], -1)
            blobs.append(pe.blob(w, legacy_dims=legacy))
            if f'{name}.bias' in arrays:
                blobs.append(pe.blob(arrays[f'{name}.bias'], legacy_dims=legacy))
        if v1 and type_ not in pe.V1_TYPES:  # Crop is new-style only
            type_ = 'Data'
        layers.append(pe.layer(name, type_, blobs, v1=v1))
    return pe.net(layers, name=variant)


def caffe_max_pool(x: torch.Tensor, kernel: int, stride: int) -> torch.Tensor:
    """Caffe's max ``PoolingLayer`` without padding: ``ceil((H - k) / s) + 1``
    outputs, the last window running over the edge (read as -inf)."""
    h, w = x.shape[-2:]
    out_h, out_w = -(-(h - kernel) // stride) + 1, -(-(w - kernel) // stride) + 1
    need_h, need_w = (out_h - 1) * stride + kernel, (out_w - 1) * stride + kernel
    x = F.pad(x, (0, need_w - w, 0, need_h - h), value=float('-inf'))
    return F.max_pool2d(x, kernel, stride)


def caffe_lrn(x: torch.Tensor, size: int = 5, alpha: float = 1e-4,
              beta: float = 0.75, k: float = 1.0) -> torch.Tensor:
    """Caffe's ``LRNLayer`` (ACROSS_CHANNELS), written out: channel ``c`` is divided
    by ``(k + alpha / size * sum of x^2 over channels c - (size-1)/2 ... c +
    (size-1)/2) ** beta``, channels outside the blob counting 0."""
    half = (size - 1) // 2
    squares = x * x
    scale = torch.full_like(x, k)
    for c in range(x.shape[1]):
        lo, hi = max(0, c - half), min(x.shape[1], c + half + 1)
        scale[:, c] += alpha / size * squares[:, lo:hi].sum(dim=1)
    return x / scale ** beta


def alexnet_reference_fc7(arrays: Dict[str, np.ndarray],
                          x: torch.Tensor) -> torch.Tensor:
    """fc7 (after ReLU) of voc-fcn-alexnet's trunk, from its arrays."""
    p = {k: torch.from_numpy(np.asarray(v)) for k, v in arrays.items()}
    h = x
    for name, (k, stride, pad, group) in ALEXNET_CONVS.items():
        h = F.relu(F.conv2d(h, p[f'{name}.weight'], p[f'{name}.bias'],
                            stride=stride, padding=pad, groups=group))
        if name in ('conv1', 'conv2', 'conv5'):
            h = caffe_max_pool(h, 3, 2)
        if name in ('conv1', 'conv2'):
            h = caffe_lrn(h)
    h = F.relu(F.conv2d(h, p['fc6.weight'], p['fc6.bias']))
    return F.relu(F.conv2d(h, p['fc7.weight'], p['fc7.bias']))


def alexnet_reference_forward(arrays: Dict[str, np.ndarray],
                              x: torch.Tensor) -> torch.Tensor:
    """Logits of voc-fcn-alexnet, from its arrays."""
    p = {k: torch.from_numpy(np.asarray(v)) for k, v in arrays.items()}
    h = F.conv2d(alexnet_reference_fc7(arrays, x), p['score_fr.weight'],
                 p['score_fr.bias'])
    h = F.conv_transpose2d(h, p['upscore.weight'], stride=ALEXNET_UPSCORE[1])
    o = ALEXNET_CROP
    return h[:, :, o:o + x.shape[2], o:o + x.shape[3]]


def alexnet_model_cfg(widths=ALEXNET_WIDTHS, fc: int = FC_CHANNELS,
                      num_classes: int = NUM_CLASSES) -> dict:
    """An EncoderDecoder config of our FCN-AlexNet with the narrow widths."""
    return dict(
        type='EncoderDecoder',
        data_preprocessor=dict(type='FCNDataPreProcessor', weights='caffe'),
        backbone=dict(type='AlexNetFC', widths=widths, fc_channels=fc),
        decode_head=dict(
            type='ClassicFCNHead', skips=(), in_channels=fc, in_index=0,
            crop_offsets='alexnet_fc', num_classes=num_classes),
        train_cfg=dict(),
        test_cfg=dict(mode='whole'))


def build_alexnet_fcn(**kwargs):
    """Build :func:`alexnet_model_cfg` through mmseg's registry, in eval mode."""
    import mmseg_fcn_classic  # noqa: F401  (registers the components)
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    return MODELS.build(alexnet_model_cfg(**kwargs)).eval()


# --- siftflow-fcn{32,16,8}s: one trunk, a semantic and a geometric head -----------

#: The heads of siftflow-fcn*/net.py: layer suffix and num_output.
SIFTFLOW_HEADS = (('sem', 33), ('geo', 3))
#: Per variant, each head's layers after score_fr_<h> in net.py order:
#: (deconv name, kernel, stride) and the skip fused after it.
SIFTFLOW_CHAINS = {
    '32s': [('upscore', 64, 32, None)],
    '16s': [('upscore2', 4, 2, 'pool4'), ('upscore16', 32, 16, None)],
    '8s': [('upscore2', 4, 2, 'pool4'), ('upscore_pool4', 4, 2, 'pool3'),
           ('upscore8', 16, 8, None)],
}


def siftflow_arrays(variant: str, seed: int = 0, widths=WIDTHS,
                    fc=FC_CHANNELS) -> Dict[str, np.ndarray]:
    """Random float32 weights under siftflow-fcn*/net.py's names: the VGG16 trunk
    and ``score_fr_sem`` ... ``upscore*_geo``."""
    out = reference_arrays('vgg16', seed, widths, fc)
    del out['fc8.weight'], out['fc8.bias']
    rng = np.random.default_rng(seed + 1)
    skip_width = {'pool4': widths[3], 'pool3': widths[2]}
    for head, n in SIFTFLOW_HEADS:
        out[f'score_fr_{head}.weight'] = (rng.standard_normal((n, fc, 1, 1)) * 0.3
                                          ).astype(np.float32)
        out[f'score_fr_{head}.bias'] = (rng.standard_normal(n) * 0.1).astype(np.float32)
        for name, k, _, skip in SIFTFLOW_CHAINS[variant]:
            out[f'{name}_{head}.weight'] = (rng.standard_normal((n, n, k, k)) * 0.1
                                            ).astype(np.float32)
            if skip:
                out[f'score_{skip}_{head}.weight'] = (rng.standard_normal(
                    (n, skip_width[skip], 1, 1)) * 0.5).astype(np.float32)
                out[f'score_{skip}_{head}.bias'] = (rng.standard_normal(n) * 0.1
                                                    ).astype(np.float32)
    return out


def siftflow_caffemodel_bytes(arrays: Dict[str, np.ndarray], variant: str) -> bytes:
    """The released two-headed nets as Caffe writes them: every layer of
    siftflow-fcn*/net.py in its order, with the reference's names (the data layer's
    tops ``data``, ``sem``, ``geo``; crops ``score_pool4_semc``; the semantic loss
    just ``loss``, the geometric ``loss_geo``); only convolutions carry blobs."""
    def conv(name, bottom):
        blobs = [pe.blob(arrays[f'{name}.weight']), pe.blob(arrays[f'{name}.bias'])]
        return pe.layer(name, 'Convolution', blobs, bottom=[bottom], top=[name])

    layers = [pe.layer('data', 'Python', top=['data', 'sem', 'geo'])]
    bottom = 'data'
    for name in CONV_LAYERS:
        layers += [conv(name, bottom),
                   pe.layer(name.replace('conv', 'relu'), 'ReLU', bottom=[name],
                            top=[name])]
        bottom = name
        if name.endswith('_2') and name[4] in '12' or name.endswith('_3'):
            layers.append(pe.layer(f'pool{name[4]}', 'Pooling', bottom=[name],
                                   top=[f'pool{name[4]}']))
            bottom = f'pool{name[4]}'
    for i in (6, 7):
        layers += [conv(f'fc{i}', bottom),
                   pe.layer(f'relu{i}', 'ReLU', bottom=[f'fc{i}'], top=[f'fc{i}']),
                   pe.layer(f'drop{i}', 'Dropout', bottom=[f'fc{i}'], top=[f'fc{i}'])]
        bottom = f'fc{i}'
    for head, _ in SIFTFLOW_HEADS:
        layers.append(conv(f'score_fr_{head}', 'fc7'))
        top = f'score_fr_{head}'
        for name, _, _, skip in SIFTFLOW_CHAINS[variant]:
            up = f'{name}_{head}'
            layers.append(pe.layer(up, 'Deconvolution', [pe.blob(arrays[f'{up}.weight'])],
                                   bottom=[top], top=[up]))
            top = up
            if skip:
                score = f'score_{skip}_{head}'
                layers += [conv(score, skip),
                           pe.layer(f'{score}c', 'Crop', bottom=[score, up],
                                    top=[f'{score}c']),
                           pe.layer(f'fuse_{skip}_{head}', 'Eltwise',
                                    bottom=[up, f'{score}c'], top=[f'fuse_{skip}_{head}'])]
                top = f'fuse_{skip}_{head}'
        layers += [pe.layer(f'score_{head}', 'Crop', bottom=[top, 'data'],
                            top=[f'score_{head}']),
                   pe.layer('loss' if head == 'sem' else f'loss_{head}',
                            'SoftmaxWithLoss', bottom=[f'score_{head}', head])]
    return pe.net(layers, name=f'siftflow-fcn{variant}')


def siftflow_reference_forward(arrays: Dict[str, np.ndarray], x: torch.Tensor,
                               variant: str) -> Dict[str, torch.Tensor]:
    """``score_sem`` and ``score_geo`` of siftflow-fcn*/net.py in plain ``F`` calls,
    from the arrays: the trunk once, then each head's chain with the crop offsets of
    the generated prototxts (19; 5, 27; 5, 9, 31)."""
    p = {k: torch.from_numpy(np.asarray(v)) for k, v in arrays.items()}

    def conv(name, h, pad=0):
        return F.conv2d(h, p[f'{name}.weight'], p[f'{name}.bias'], padding=pad)

    h, pools = x, {}
    for name in CONV_LAYERS:
        h = F.relu(conv(name, h, pad=100 if name == 'conv1_1' else 1))
        if name.endswith('_2') and name[4] in '12' or name.endswith('_3'):
            h = F.max_pool2d(h, 2, 2, ceil_mode=True)  # Caffe rounds up
            pools[f'pool{name[4]}'] = h
    fc7 = F.relu(conv('fc7', F.relu(conv('fc6', h))))
    out = {}
    for head, _ in SIFTFLOW_HEADS:
        s = conv(f'score_fr_{head}', fc7)
        for name, _, stride, skip in SIFTFLOW_CHAINS[variant]:
            s = F.conv_transpose2d(s, p[f'{name}_{head}.weight'], stride=stride)
            if skip:
                o = CROPS[variant][skip]
                c = conv(f'score_{skip}_{head}', pools[skip])
                s = s + c[:, :, o:o + s.shape[2], o:o + s.shape[3]]
        o = CROPS[variant]['out']
        out[head] = s[:, :, o:o + x.shape[2], o:o + x.shape[3]]
    return out
