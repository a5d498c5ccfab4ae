"""pytorch-fcn (and reference-named) FCN / VGG16 state dicts -> our state dict.

wkentaro/pytorch-fcn's ``FCN32s`` / ``FCN16s`` / ``FCN8s`` / ``FCN8sAtOnce`` name
their modules after the layers of shelhamer/fcn.berkeleyvision.org's
``voc-fcn*/net.py`` (``conv1_1`` ... ``conv5_3``, ``fc6``, ``fc7``, ``score_fr``,
``score_pool4``, ``score_pool3``, ``upscore``, ``upscore2``, ``upscore16``,
``upscore_pool4``, ``upscore8``), and so does :mod:`.caffe` after decoding a
``.caffemodel`` (FCN-AlexNet's trunk: ``conv1`` ... ``conv5``, ``fc6``, ``fc7``).
:func:`convert_reference_state_dict` maps that layout onto ours:
``backbone.<layer>.*`` for VGG16FC / AlexNetFC and ``decode_head.<layer>.*`` for
ClassicFCNHead; a VGG16- or AlexNet-only source gives bare backbone keys instead.
"""
from collections import OrderedDict
from typing import Dict, List, Mapping, Optional, Tuple

import torch

from ..models.utils import fcn_spec

#: Backbone layers in network order: ``conv1_1`` ... ``conv5_3``, ``fc6``, ``fc7``.
BACKBONE_LAYERS = fcn_spec.BACKBONE_LAYERS
#: AlexNet's: ``conv1`` ... ``conv5``, ``fc6``, ``fc7``.
ALEXNET_BACKBONE_LAYERS = fcn_spec.backbone_layers('alexnet')

#: 1x1 scoring convolutions (weight and bias), coarsest input first.
SCORE_LAYERS = tuple(fcn_spec.score_name(lv) for lv in reversed(fcn_spec.HEAD_LEVELS))

#: Deconvolutions of every variant (weight only: ``bias_term=False``).
DECONV_LAYERS = tuple(dict.fromkeys(
    name for n in range(len(fcn_spec.SKIPS) + 1) for name in fcn_spec.upscore_names(n)))

#: Head layers of each variant, after ``voc-fcn*/net.py``.
HEAD_LAYERS: Dict[str, Tuple[str, ...]] = {
    name: fcn_spec.head_layers(name) for name in fcn_spec.VARIANTS}

#: Every variant this module converts; ``'vgg16'`` and ``'alexnet'`` are
#: backbone-only sources.
VARIANTS = tuple(fcn_spec.VARIANTS) + tuple(fcn_spec.BACKBONE_VARIANTS)

#: Display names of the encoders (reports, error messages).
ARCH_NAMES = {'vgg16': 'VGG16', 'alexnet': 'AlexNet'}

#: The layer each scoring layer reads (its input channels are that layer's output).
SCORE_INPUTS = {fcn_spec.score_name(lv): fcn_spec.level_source(lv)
                for lv in fcn_spec.HEAD_LEVELS}

#: Every head suffix of :data:`~..models.utils.fcn_spec.MULTI_HEAD_NETS`.
HEAD_SUFFIXES = tuple(dict.fromkeys(
    head for heads in fcn_spec.MULTI_HEAD_NETS.values() for head in heads))


def with_head_layers(names: Tuple[str, ...]) -> Tuple[str, ...]:
    """``names`` and their per-head names in the multi-head nets
    (``score_fr`` -> ``score_fr``, ``score_fr_sem``, ``score_fr_geo``)."""
    return names + tuple(fcn_spec.head_layer_name(n, h) for h in HEAD_SUFFIXES
                         for n in names)


#: Wrapper keys of training checkpoints that hold the model's state dict.
STATE_DICT_KEYS = ('model_state_dict', 'state_dict', 'model')


def unwrap_state_dict(checkpoint: Mapping) -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """Return the state dict inside a checkpoint, and notes on what was unwrapped.

    pytorch-fcn's ``Trainer`` saves ``{'model_state_dict': ..., 'optim_state_dict':
    ..., 'arch': 'FCN8s', ...}``; the released ``*_from_caffe.pth`` files are bare
    state dicts. A ``module.`` prefix (DataParallel) is stripped.
    """
    notes = []
    sd = checkpoint
    for key in STATE_DICT_KEYS:
        if isinstance(sd, Mapping) and isinstance(sd.get(key), Mapping):
            notes.append(f'took the state dict from the checkpoint key {key!r}')
            if 'arch' in checkpoint:
                notes.append(f"checkpoint arch: {checkpoint['arch']}")
            sd = sd[key]
            break
    tensors = OrderedDict((k, v) for k, v in sd.items() if isinstance(v, torch.Tensor))
    if tensors and all(k.startswith('module.') for k in tensors):
        tensors = OrderedDict((k[len('module.'):], v) for k, v in tensors.items())
        notes.append("stripped the DataParallel prefix 'module.'")
    return tensors, notes


def detect_variant(names) -> str:
    """Tell the FCN variant from reference layer names.

    ``upscore8`` means 8s, ``upscore16`` 16s, ``upscore`` 32s; without ``score_fr``
    the source is a plain VGG16. FCN-8s and FCN-8s at-once have the same layers;
    the at-once Caffe net is told apart by its Scale layers, a state dict is not.
    AlexNet's ``conv1`` (VGG16 has ``conv1_1``) means ``'alexnet-32s'``, or
    ``'alexnet'`` without ``score_fr``.

    Args:
        names (Iterable[str]): Layer names or state-dict keys.

    Returns:
        str: One of :data:`VARIANTS` except ``'8s-atonce'``.
    """
    layers = {n.rsplit('.', 1)[0] for n in names}
    if 'conv1' in layers and 'conv1_1' not in layers:
        return 'alexnet-32s' if 'score_fr' in layers else 'alexnet'
    if 'score_fr' not in layers:
        return 'vgg16'
    for variant, marker in (('8s', 'upscore8'), ('16s', 'upscore16'),
                            ('32s', 'upscore')):
        if marker in layers:
            return variant
    raise ValueError('score_fr found but no upscore / upscore16 / upscore8 layer: '
                     'not a known FCN variant')


def _check_shapes(sd: Mapping[str, torch.Tensor], layers: Tuple[str, ...],
                  groups: Optional[Mapping[str, int]] = None) -> None:
    """Raise ValueError unless the layers chain with consistent shapes.

    ``groups`` gives the groups of grouped convolutions (AlexNet's conv2, conv4,
    conv5), whose weights hold ``in_channels / groups`` input channels.
    """
    groups = groups or {}
    out = {}
    previous = None
    for name in layers:
        w = sd[f'{name}.weight']
        if name in DECONV_LAYERS:
            n = out['score_fr']
            if w.ndim != 4 or w.shape[0] != n or w.shape[2] != w.shape[3]:
                raise ValueError(f'{name}.weight has shape {tuple(w.shape)}, expected '
                                 f'({n}, {n}, k, k)')
            continue
        b = sd.get(f'{name}.bias')
        if w.ndim != 4:
            raise ValueError(f'{name}.weight has shape {tuple(w.shape)}, expected a '
                             f'4-D convolution weight')
        if b is None or tuple(b.shape) != (w.shape[0], ):
            raise ValueError(f'{name}.bias has shape '
                             f'{None if b is None else tuple(b.shape)}, expected '
                             f'({w.shape[0]},)')
        feeder = SCORE_INPUTS.get(name, previous)
        # the first conv takes the image: 3 channels, or more for an early-fusion
        # net (nyud-fcn32s-color-d: B, G, R, depth)
        group = groups.get(name, 1)
        expected_in = w.shape[1] * group if feeder is None else out[feeder]
        if w.shape[1] * group != expected_in:
            per_group = f' in each of {group} groups' if group > 1 else ''
            raise ValueError(f'{name}.weight has shape {tuple(w.shape)}: '
                             f'{w.shape[1]} input channels{per_group}, but its '
                             f'input has {expected_in}')
        out[name] = w.shape[0]
        if name not in SCORE_LAYERS:
            previous = name


def convert_reference_state_dict(
        state_dict: Mapping[str, torch.Tensor],
        variant: Optional[str] = None) -> Tuple[Dict[str, torch.Tensor], dict]:
    """Map a reference-named state dict onto our modules.

    Args:
        state_dict (Mapping[str, Tensor]): Keys ``<layer>.weight`` /
            ``<layer>.bias`` with the reference layer names, convolution-shaped
            (``fc6`` is 4096x512x7x7).
        variant (str, optional): One of :data:`VARIANTS`; detected by
            :func:`detect_variant` when None. ``'vgg16'`` keeps only the backbone.

    Returns:
        tuple[dict, dict]: Our state dict and a report: ``variant``, ``mapped``
        (``[src, dst, shape]``), ``reshaped``, ``dropped`` (``[src, reason]``),
        ``notes``; all plain Python types.

    A multi-head net (``score_fr_sem``, ``score_fr_geo``, ...: see
    :func:`convert_multi_head_state_dict`) gives ``decode_head.<head>.*`` keys.

    Raises:
        ValueError: Missing layers or inconsistent shapes.

    Example:
        >>> from mmseg_fcn_classic.models import VGG16FC
        >>> sd = {k: v for k, v in VGG16FC(widths=(2, 2, 2, 2, 2),
        ...                                 fc_channels=4).state_dict().items()}
        >>> sd.update({'score_fr.weight': torch.zeros(3, 4, 1, 1),
        ...            'score_fr.bias': torch.zeros(3),
        ...            'upscore.weight': torch.zeros(3, 3, 64, 64)})
        >>> ours, report = convert_reference_state_dict(sd)
        >>> report['variant'], ours['decode_head.upscore.weight'].shape
        ('32s', torch.Size([3, 3, 64, 64]))
    """
    heads = detect_heads(state_dict.keys())
    if heads:
        return convert_multi_head_state_dict(state_dict, heads, variant)
    detected = detect_variant(state_dict.keys())
    if variant is None:
        variant = detected
    if variant not in VARIANTS:
        raise ValueError(f'unknown variant {variant!r}; expected one of {VARIANTS}')
    backbone_only = variant in fcn_spec.BACKBONE_VARIANTS
    if not backbone_only and detected != variant.replace('-atonce', ''):
        raise ValueError(f'variant {variant!r} was asked for, but the layers are '
                         f'those of {detected!r}')
    arch = (fcn_spec.BACKBONE_VARIANTS[variant] if backbone_only else
            fcn_spec.VARIANTS[variant].backbone)
    trunk = fcn_spec.backbone_layers(arch)
    head = () if backbone_only else HEAD_LAYERS[variant]
    wanted = trunk + head
    keys = [f'{n}.{p}' for n in wanted
            for p in (('weight', ) if n in DECONV_LAYERS else ('weight', 'bias'))]
    missing = [k for k in keys if k not in state_dict]
    if missing:
        raise ValueError(f'missing layers for {variant}: {", ".join(missing)}')
    _check_shapes(state_dict, wanted, {
        layer.name: layer.groups for layer in fcn_spec.encoder_layers(arch)
        if layer.groups > 1})

    report = {'variant': variant, 'mapped': [], 'reshaped': [], 'dropped': [],
              'notes': []}
    out: Dict[str, torch.Tensor] = OrderedDict()
    for key in keys:
        layer = key.rsplit('.', 1)[0]
        if backbone_only:
            dst = key
        elif layer in trunk:
            dst = f'backbone.{key}'
        else:
            dst = f'decode_head.{key}'
        out[dst] = state_dict[key].detach().to(torch.float32).contiguous()
        report['mapped'].append([key, dst, list(out[dst].shape)])
    for key in state_dict:
        if key not in keys:
            reason = (f'{ARCH_NAMES[arch]} ImageNet classifier'
                      if key.startswith('fc8.') else
                      f'not part of FCN-{variant}' if not backbone_only else
                      f'not part of the {ARCH_NAMES[arch]} backbone')
            report['dropped'].append([key, reason])
    first = state_dict[f'{trunk[0]}.weight']
    if first.shape[1] != 3:
        report['notes'].append(
            f'{trunk[0]} takes {first.shape[1]} input channels (an early-fusion '
            'net, e.g. nyud-fcn32s-color-d: colour + depth); build the backbone '
            f'with in_channels={first.shape[1]}')
    if variant == '8s' and detected == '8s':
        report['notes'].append(
            'FCN-8s and FCN-8s at-once share layer names; pass variant '
            "'8s-atonce' for at-once weights (its head scales pool4 by 0.01 and "
            'pool3 by 0.0001)')
    return out, report


def detect_heads(names) -> Tuple[str, ...]:
    """The heads of a multi-head reference net from its layer names, or ``()``.

    Args:
        names (Iterable[str]): Layer names or state-dict keys.

    Returns:
        tuple[str, ...]: The heads of the :data:`~..models.utils.fcn_spec.
        MULTI_HEAD_NETS` entry whose ``score_fr_<head>`` layers are there, the
        primary first; ``()`` for a one-head net or a VGG16.

    Raises:
        ValueError: Only some heads of a multi-head net are there.

    Example:
        >>> detect_heads(['conv1_1.weight', 'score_fr_geo.bias', 'score_fr_sem.bias'])
        ('sem', 'geo')
    """
    layers = {n.rsplit('.', 1)[0] for n in names}
    if 'score_fr' in layers:
        return ()
    for net, heads in fcn_spec.MULTI_HEAD_NETS.items():
        found = [h for h in heads if fcn_spec.head_layer_name('score_fr', h) in layers]
        if found and len(found) < len(heads):
            missing = [fcn_spec.head_layer_name('score_fr', h) for h in heads
                       if h not in found]
            raise ValueError(f'the {net} heads need {", ".join(missing)} too '
                             f'(found only the heads {found})')
        if found:
            return tuple(heads)
    return ()


def convert_multi_head_state_dict(
        state_dict: Mapping[str, torch.Tensor], heads: Tuple[str, ...],
        variant: Optional[str] = None) -> Tuple[Dict[str, torch.Tensor], dict]:
    """Map a multi-head reference net (one trunk, ``<layer>_<head>`` head layers)
    onto a ``MultiHeadEncoderDecoder``: ``backbone.*`` and ``decode_head.<head>.*``.

    Each head is checked as :func:`convert_reference_state_dict` checks a one-head
    net (layers, shapes, variant); all heads must be the same variant.

    Args:
        state_dict (Mapping[str, Tensor]): Reference-named weights, e.g. of
            ``siftflow-fcn16s-heavy.caffemodel``: ``conv1_1.weight``, ...,
            ``score_fr_sem.weight``, ``upscore16_geo.weight``.
        heads (tuple[str, ...]): From :func:`detect_heads`, primary first.
        variant (str, optional): ``'32s'``, ``'16s'`` or ``'8s'``; detected when
            None.

    Returns:
        tuple[dict, dict]: Our state dict and the report of
        :func:`convert_reference_state_dict`, plus ``heads``.

    Example:
        >>> from mmseg_fcn_classic.models import VGG16FC
        >>> sd = dict(VGG16FC(widths=(2, 2, 2, 2, 2), fc_channels=4).state_dict())
        >>> for head, n in (('sem', 33), ('geo', 3)):
        ...     sd[f'score_fr_{head}.weight'] = torch.zeros(n, 4, 1, 1)
        ...     sd[f'score_fr_{head}.bias'] = torch.zeros(n)
        ...     sd[f'upscore_{head}.weight'] = torch.zeros(n, n, 64, 64)
        >>> ours, report = convert_reference_state_dict(sd)
        >>> report['variant'], report['heads'], ours['decode_head.geo.score_fr.bias'].shape
        ('32s', ['sem', 'geo'], torch.Size([3]))
    """
    head_layer = {fcn_spec.head_layer_name(base, head): (head, base)
                  for head in heads for base in SCORE_LAYERS + DECONV_LAYERS}
    shared = {k: v for k, v in state_dict.items()
              if k.rsplit('.', 1)[0] not in head_layer}
    out: Dict[str, torch.Tensor] = OrderedDict()
    report: dict = {}
    for head in heads:
        sub = dict(shared)
        renamed = {}
        for key, value in state_dict.items():
            layer, param = key.rsplit('.', 1)
            owner, base = head_layer.get(layer, (None, None))
            if owner == head:
                sub[f'{base}.{param}'] = value
                renamed[f'{base}.{param}'] = key
        try:
            head_out, head_report = convert_reference_state_dict(sub, variant)
        except ValueError as e:
            raise ValueError(f'head {head!r} (layers *_{head}): {e}') from None
        variant = head_report['variant']
        for key, value in head_out.items():
            out[key.replace('decode_head.', f'decode_head.{head}.', 1)] = value
        mapped = [
            [renamed.get(src, src), dst.replace('decode_head.', f'decode_head.{head}.', 1),
             shape] for src, dst, shape in head_report['mapped']
            if dst.startswith('decode_head.') or head == heads[0]]
        if not report:
            report = dict(head_report, mapped=[])
        report['mapped'] += mapped
    report['heads'] = list(heads)
    return out, report


def convert_pytorch_fcn(checkpoint: Mapping,
                        variant: Optional[str] = None
                        ) -> Tuple[Dict[str, torch.Tensor], dict]:
    """Convert a wkentaro/pytorch-fcn model or training checkpoint.

    Args:
        checkpoint (Mapping): A bare state dict (``fcn8s_from_caffe.pth``) or a
            ``Trainer`` checkpoint with ``model_state_dict``.
        variant (str, optional): See :func:`convert_reference_state_dict`.
            FCN8sAtOnce files need ``'8s-atonce'`` (their keys equal FCN8s').

    Returns:
        tuple[dict, dict]: As :func:`convert_reference_state_dict`, with
        ``format`` ``'pytorch-fcn'`` in the report.
    """
    state_dict, notes = unwrap_state_dict(checkpoint)
    if variant is None and 'FCN8sAtOnce' in str(checkpoint.get('arch', '')):
        variant = '8s-atonce'
    out, report = convert_reference_state_dict(state_dict, variant)
    report['format'] = 'pytorch-fcn'
    report['notes'] = notes + report['notes']
    return out, report
