"""The classic FCN as data: the encoders' layers (VGG-FC, AlexNet-FC) and the FCN
variants.

This is the one definition of the variant wiring. The backbones, the head, the
weight converters, the benchmark and the narrow test models all read it.

Example:
    >>> VARIANTS['8s'].skips, upscore_names(2), upscore_factors(2)
    (('pool4', 'pool3'), ('upscore2', 'upscore_pool4', 'upscore8'), (2, 2, 8))
    >>> head_inputs(('pool4',), widths=(4, 8, 8, 16, 16), fc_channels=16)
    {'skips': ('pool4',), 'in_channels': (16, 16), 'in_index': (1, 2)}
"""
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

#: Conv widths per layer, ``'M'`` a 2x2 stride-2 max-pool (timm's ``vgg.py`` cfgs).
ARCH_SETTINGS: Dict[str, List[Union[int, str]]] = {
    'vgg11': [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
    'vgg13': [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
    'vgg16': [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M',
              512, 512, 512, 'M'],
    'vgg19': [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512,
              'M', 512, 512, 512, 512, 'M'],
}
#: ImageNet's fully connected layers as convolutions: (name, kernel size).
FC_SETTINGS: Tuple[Tuple[str, int], ...] = (('fc6', 7), ('fc7', 1))
#: conv1_1's padding in the reference nets: every input, down to 1x1, stays large
#: enough for fc6's 7x7 window; the head's crops remove the margin again.
CONV1_PADDING = 100
#: The levels a ``VGG16FC`` can output (``out_indices``): five pools and fc7.
LEVELS = ('pool1', 'pool2', 'pool3', 'pool4', 'pool5', 'fc7')
#: Default ``VGG16FC.out_indices``: the head's possible inputs pool3, pool4, fc7.
HEAD_LEVELS = ('pool3', 'pool4', 'fc7')
DEFAULT_WIDTHS = (64, 128, 256, 512, 512)
DEFAULT_FC_CHANNELS = 4096


class LayerSpec(NamedTuple):
    """One spatial layer of the encoder (ReLU / dropout are implied).

    Args:
        name (str): Reference name (``conv1_1``, ``pool1``, ``fc6``, ...).
        kind (str): ``'conv'``, ``'pool'`` (max-pool rounding up, as Caffe's),
            ``'lrn'`` (local response normalisation across channels,
            :data:`LRN_SETTINGS`; spatially 1x1) or ``'fc'``.
        stage (int): 1-5 for the conv blocks (their pool included), 6 for fc6/fc7.
        out_channels (int): Output channels (pools: those of their input).
        kernel_size (int): Kernel side.
        stride (int): Stride.
        padding (int): Zero padding.
        groups (int): Convolution groups (Caffe's ``group``). Defaults to 1.
    """
    name: str
    kind: str
    stage: int
    out_channels: int
    kernel_size: int
    stride: int
    padding: int
    groups: int = 1


def vgg_fc_layers(arch: str = 'vgg16',
                  widths: Optional[Sequence[int]] = None,
                  fc_channels: int = DEFAULT_FC_CHANNELS) -> List[LayerSpec]:
    """The layers of a VGG-FC encoder, read off :data:`ARCH_SETTINGS`.

    Args:
        arch (str): Key of :data:`ARCH_SETTINGS`. Defaults to ``'vgg16'``.
        widths (Sequence[int], optional): One width per conv block instead of
            the architecture's.
        fc_channels (int): Width of fc6 and fc7. Defaults to 4096.

    Returns:
        list[LayerSpec]: conv1_1 ... pool5, fc6, fc7 in order.
    """
    if arch not in ARCH_SETTINGS:
        raise ValueError(f'arch must be one of {sorted(ARCH_SETTINGS)}, got {arch!r}')
    cfg = ARCH_SETTINGS[arch]
    num_blocks = cfg.count('M')
    if widths is not None and len(widths) != num_blocks:
        raise ValueError(f'{arch} has {num_blocks} blocks, got widths={widths}')
    layers, stage, conv, channels = [], 1, 0, None
    for item in cfg:
        if item == 'M':
            layers.append(LayerSpec(f'pool{stage}', 'pool', stage, channels, 2, 2, 0))
            stage, conv = stage + 1, 0
            continue
        conv += 1
        channels = item if widths is None else widths[stage - 1]
        padding = CONV1_PADDING if not layers else 1
        layers.append(
            LayerSpec(f'conv{stage}_{conv}', 'conv', stage, channels, 3, 1, padding))
    for name, kernel_size in FC_SETTINGS:
        layers.append(LayerSpec(name, 'fc', stage, fc_channels, kernel_size, 1, 0))
    return layers


#: Weighted VGG16 layers in network order: ``conv1_1`` ... ``conv5_3``, fc6, fc7.
BACKBONE_LAYERS: Tuple[str, ...] = tuple(
    layer.name for layer in vgg_fc_layers() if layer.kind != 'pool')


def level_source(level: str, arch: str = 'vgg16') -> str:
    """The weighted layer whose output a level is: ``pool4`` -> ``conv4_3``.

    Example:
        >>> level_source('pool3'), level_source('fc7')
        ('conv3_3', 'fc7')
    """
    source = None
    for layer in vgg_fc_layers(arch):
        if layer.name == level:
            return layer.name if layer.kind != 'pool' else source
        if layer.kind != 'pool':
            source = layer.name
    raise ValueError(f'{arch} has no level {level!r}')


def level_channels(level: str, widths: Sequence[int] = DEFAULT_WIDTHS,
                   fc_channels: int = DEFAULT_FC_CHANNELS) -> int:
    """Channels of a level of a ``VGG16FC(widths, fc_channels)``."""
    layers = {layer.name: layer for layer in vgg_fc_layers('vgg16', widths, fc_channels)}
    return layers[level].out_channels


# --- AlexNet-FC (voc-fcn-alexnet) -------------------------------------------------

#: AlexNet as ``voc-fcn-alexnet/net.py`` builds it (CaffeNet's order: each of the
#: first two pools is followed by LRN). A conv is ``(out_channels, kernel, stride,
#: padding, groups)``, ``'P'`` a 3x3 stride-2 max-pool, ``'N'`` an LRN; a pool ends
#: a block. conv1's padding is :data:`CONV1_PADDING`, as VGG16's.
ALEXNET_SETTINGS: List[Union[Tuple[int, int, int, int, int], str]] = [
    (96, 11, 4, CONV1_PADDING, 1), 'P', 'N',
    (256, 5, 1, 2, 2), 'P', 'N',
    (384, 3, 1, 1, 1),
    (384, 3, 1, 1, 2),
    (256, 3, 1, 1, 2), 'P',
]
#: AlexNet's max-pools: (kernel, stride).
ALEXNET_POOL = (3, 2)
#: AlexNet's fully connected layers as convolutions: (name, kernel size).
ALEXNET_FC_SETTINGS: Tuple[Tuple[str, int], ...] = (('fc6', 6), ('fc7', 1))
#: ``voc-fcn-alexnet/net.py``'s ``L.LRN(local_size=5, alpha=1e-4, beta=0.75)``, Caffe's
#: ACROSS_CHANNELS mode with its default ``k`` of 1, as ``nn.LocalResponseNorm``
#: arguments: ``x / (k + alpha / size * sum of x^2 over size channels) ** beta``.
LRN_SETTINGS: Dict[str, float] = dict(size=5, alpha=1e-4, beta=0.75, k=1.0)
#: The levels an ``AlexNetFC`` can output (``out_indices``): three pools and fc7.
ALEXNET_LEVELS = ('pool1', 'pool2', 'pool5', 'fc7')
ALEXNET_DEFAULT_WIDTHS = (96, 256, 384, 384, 256)


def alexnet_fc_layers(widths: Optional[Sequence[int]] = None,
                      fc_channels: int = DEFAULT_FC_CHANNELS) -> List[LayerSpec]:
    """The layers of the AlexNet-FC encoder, read off :data:`ALEXNET_SETTINGS`.

    Args:
        widths (Sequence[int], optional): One width per conv (five) instead of
            AlexNet's 96, 256, 384, 384, 256. Grouped convs need widths divisible
            by their groups.
        fc_channels (int): Width of fc6 and fc7. Defaults to 4096.

    Returns:
        list[LayerSpec]: conv1, pool1, norm1, conv2, ... pool5, fc6, fc7 in order.

    Example:
        >>> [(l.name, l.kernel_size, l.stride, l.groups)
        ...  for l in alexnet_fc_layers()][:4]  # doctest: +NORMALIZE_WHITESPACE
        [('conv1', 11, 4, 1), ('pool1', 3, 2, 1), ('norm1', 1, 1, 1),
         ('conv2', 5, 1, 2)]
    """
    convs = [item for item in ALEXNET_SETTINGS if not isinstance(item, str)]
    if widths is not None and len(widths) != len(convs):
        raise ValueError(f'alexnet has {len(convs)} convs, got widths={widths}')
    layers, conv, channels = [], 0, None
    for item in ALEXNET_SETTINGS:  # stage k: conv k and the pool / LRN after it
        if item == 'P':
            layers.append(LayerSpec(f'pool{conv}', 'pool', conv, channels,
                                    *ALEXNET_POOL, 0))
        elif item == 'N':
            layers.append(LayerSpec(f'norm{conv}', 'lrn', conv, channels, 1, 1, 0))
        else:
            out_channels, kernel_size, stride, padding, groups = item
            channels = out_channels if widths is None else widths[conv]
            conv += 1
            layers.append(LayerSpec(f'conv{conv}', 'conv', conv, channels,
                                    kernel_size, stride, padding, groups))
    for name, kernel_size in ALEXNET_FC_SETTINGS:
        layers.append(LayerSpec(name, 'fc', conv + 1, fc_channels, kernel_size, 1, 0))
    return layers


#: ``arch`` -> the layer table of each encoder this package builds.
ENCODER_LAYERS = {'alexnet': alexnet_fc_layers}
ENCODER_LEVELS = {'alexnet': ALEXNET_LEVELS}


def encoder_layers(arch: str = 'vgg16', widths: Optional[Sequence[int]] = None,
                   fc_channels: int = DEFAULT_FC_CHANNELS) -> List[LayerSpec]:
    """The layers of any encoder: a VGG (:data:`ARCH_SETTINGS`) or ``'alexnet'``.

    Example:
        >>> [l.name for l in encoder_layers('alexnet') if l.kind == 'fc']
        ['fc6', 'fc7']
    """
    if arch in ENCODER_LAYERS:
        return ENCODER_LAYERS[arch](widths, fc_channels)
    return vgg_fc_layers(arch, widths, fc_channels)


def encoder_levels(arch: str = 'vgg16') -> Tuple[str, ...]:
    """The levels an encoder outputs: :data:`LEVELS` or :data:`ALEXNET_LEVELS`."""
    return ENCODER_LEVELS.get(arch, LEVELS)


def backbone_layers(arch: str = 'vgg16') -> Tuple[str, ...]:
    """An encoder's weighted layers in network order.

    Example:
        >>> backbone_layers('alexnet')
        ('conv1', 'conv2', 'conv3', 'conv4', 'conv5', 'fc6', 'fc7')
    """
    return tuple(layer.name for layer in encoder_layers(arch)
                 if layer.kind in ('conv', 'fc'))


# --- the FCN variants -----------------------------------------------------------

#: The skips in fusing order, coarsest first; a variant uses a prefix of them.
SKIPS = ('pool4', 'pool3')
#: voc-fcn8s-atonce's fixed ``Scale`` layers before the skip score layers.
AT_ONCE_SCALES: Dict[str, float] = {'pool4': 0.01, 'pool3': 0.0001}
#: Stride of the coarsest input (fc7); each skip halves it.
TOP_STRIDE = 32


class FCNVariant(NamedTuple):
    """One reference net of ``fcn.berkeleyvision.org``.

    Args:
        skips (tuple[str, ...]): Fused skips, coarsest first.
        at_once (bool): Skips scaled by :data:`AT_ONCE_SCALES`.
        reference (str): The reference net's folder.
        backbone (str): The encoder's ``arch`` (:func:`encoder_layers`). Defaults
            to ``'vgg16'``.
    """
    skips: Tuple[str, ...]
    at_once: bool
    reference: str
    backbone: str = 'vgg16'


VARIANTS: Dict[str, FCNVariant] = {
    '32s': FCNVariant((), False, 'voc-fcn32s'),
    '16s': FCNVariant(('pool4', ), False, 'voc-fcn16s'),
    '8s': FCNVariant(('pool4', 'pool3'), False, 'voc-fcn8s'),
    '8s-atonce': FCNVariant(('pool4', 'pool3'), True, 'voc-fcn8s-atonce'),
    'alexnet-32s': FCNVariant((), False, 'voc-fcn-alexnet', 'alexnet'),
}
#: The encoder ``arch`` a backbone-only weight file (converter variant) holds.
BACKBONE_VARIANTS: Dict[str, str] = {'vgg16': 'vgg16', 'alexnet': 'alexnet'}


def check_skips(skips: Sequence[str]) -> Tuple[str, ...]:
    """Return ``skips`` as a tuple; raise unless it is a prefix of :data:`SKIPS`."""
    skips = tuple(skips)
    if skips != SKIPS[:len(skips)]:
        raise ValueError(f'skips must be a prefix of {SKIPS}, got {skips}')
    return skips


def score_name(level: str) -> str:
    """Reference name of the 1x1 scoring layer of a head input level."""
    return 'score_fr' if level == 'fc7' else f'score_{level}'


def upscore_names(num_skips: int) -> Tuple[str, ...]:
    """Reference names of the upsampling layers: a 2x one before each fuse, then
    the final one (``upscore`` for FCN-32s)."""
    if num_skips == 0:
        return ('upscore', )
    before = ('upscore2', 'upscore_pool4', 'upscore_pool3')[:num_skips]
    return before + (f'upscore{TOP_STRIDE >> num_skips}', )


def upscore_factors(num_skips: int) -> Tuple[int, ...]:
    """Upsampling factor of each layer of :func:`upscore_names`."""
    return (2, ) * num_skips + (TOP_STRIDE >> num_skips, )


def head_levels(skips: Sequence[str]) -> Tuple[str, ...]:
    """The head's input levels, finest first: ``('pool3', 'pool4', 'fc7')``."""
    return HEAD_LEVELS[-(len(check_skips(skips)) + 1):]


def head_layers(variant: str) -> Tuple[str, ...]:
    """Reference names of a variant's head layers: scores, then upscores."""
    skips = VARIANTS[variant].skips
    scores = tuple(score_name(level) for level in reversed(head_levels(skips)))
    return scores + upscore_names(len(skips))


def head_inputs(skips: Sequence[str] = SKIPS,
                widths: Sequence[int] = DEFAULT_WIDTHS,
                fc_channels: int = DEFAULT_FC_CHANNELS) -> dict:
    """``ClassicFCNHead`` arguments for a ``VGG16FC(widths, fc_channels)`` with the
    default ``out_indices`` (pool3, pool4, fc7).

    Returns:
        dict: ``skips``, ``in_channels`` and ``in_index``, finest input first.
    """
    levels = head_levels(skips)
    return dict(
        skips=tuple(skips),
        in_channels=tuple(level_channels(lv, widths, fc_channels) for lv in levels),
        in_index=tuple(HEAD_LEVELS.index(lv) for lv in levels))


# --- late fusion (nyud-fcn32s-color-hha) ----------------------------------------

#: nyud-fcn32s-color-hha/net.py's ``modality_fcn`` names each trunk's layers by
#: appending the modality without a separator: ``conv1_1color``, ``score_frhha``.
LATE_FUSION_REFERENCE = 'nyud-fcn32s-color-hha'


def late_fusion_name(name: str, modality: str) -> str:
    """Reference name of a layer of one modality's trunk in a late-fusion net.

    Example:
        >>> late_fusion_name('score_fr', 'color'), late_fusion_name('fc7', 'hha')
        ('score_frcolor', 'fc7hha')
    """
    return name + modality


# --- reference nets with several heads ------------------------------------------

#: Reference nets with several heads on one trunk, each head's layers named
#: ``<layer>_<head>``, the primary head first (``siftflow-fcn*/net.py``:
#: ``score_fr_sem``, ``upscore2_sem``, ... and ``score_fr_geo``, ...).
MULTI_HEAD_NETS: Dict[str, Tuple[str, ...]] = {'siftflow': ('sem', 'geo')}


def head_layer_name(layer: str, head: str) -> str:
    """Reference name of a head layer of a multi-head net.

    Example:
        >>> head_layer_name('score_pool4', 'sem')
        'score_pool4_sem'
    """
    return f'{layer}_{head}'
