"""torchvision VGG state dicts -> :class:`~mmseg_fcn_classic.models.VGG16FC` keys.

torchvision's ``vgg16`` holds its convolutions in ``features`` (an ``nn.Sequential``
of conv, ReLU, ..., max-pool) and its fully connected layers in ``classifier``
(``0``: fc6, ``3``: fc7, ``6``: fc8, with ReLU / Dropout in between). The mapping
is read off the layout itself: each conv is followed by a ReLU, so consecutive convs
are two indices apart and a max-pool between them makes it three. fc6 becomes a
``k x k`` convolution over the last conv's channels (4096x25088 -> 4096x512x7x7, the
flattening order of torchvision's ``x.flatten(1)`` over C, H, W), fc7 a 1x1
convolution, and fc8 (the 1000 ImageNet classes) is dropped.

Nothing here imports torchvision or the model: the functions map tensors to tensors.
"""
import math
import re
from typing import Dict, List, Mapping, Optional, Tuple

from torch import Tensor

_FEATURE_KEY = re.compile(r'features\.(\d+)\.(weight|bias)$')
_CLASSIFIER_KEY = re.compile(r'classifier\.(\d+)\.(weight|bias)$')
#: torchvision ``classifier`` index -> our layer (None: dropped).
CLASSIFIER_LAYERS = {0: 'fc6', 3: 'fc7', 6: None}


def torchvision_conv_names(indices: List[int]) -> Dict[int, str]:
    """Name torchvision ``features`` conv indices ``conv<block>_<i>``.

    Args:
        indices (list[int]): The ``features.N`` indices that hold a conv weight.

    Returns:
        dict[int, str]: ``N`` -> ``conv<block>_<i>``.

    Raises:
        ValueError: If the gaps are not those of a plain (batch-norm free) VGG.

    Example:
        >>> torchvision_conv_names([0, 2, 5, 7])
        {0: 'conv1_1', 2: 'conv1_2', 5: 'conv2_1', 7: 'conv2_2'}
    """
    names = {}
    block, conv = 1, 0
    previous = None
    for index in sorted(indices):
        gap = None if previous is None else index - previous
        if gap is None or gap == 2:  # conv, ReLU, conv
            conv += 1
        elif gap == 3:  # conv, ReLU, max-pool, conv
            block, conv = block + 1, 1
        else:
            raise ValueError(f'unexpected torchvision VGG layout: conv at features.'
                             f'{previous} then features.{index}')
        names[index] = f'conv{block}_{conv}'
        previous = index
    return names


def convert_torchvision_vgg16(
        state_dict: Mapping[str, Tensor]) -> Tuple[Dict[str, Tensor], dict]:
    """Convert a torchvision VGG16 state dict to VGG16FC keys.

    Works for any width (narrow test models too) and for the other plain torchvision
    VGG depths, whose layouts follow the same rule.

    Args:
        state_dict (Mapping[str, Tensor]): ``features.N.*`` / ``classifier.N.*``
            tensors, as ``torchvision.models.vgg16().state_dict()``.

    Returns:
        tuple[dict[str, Tensor], dict]: The new state dict (``conv1_1.weight`` ...
        ``conv5_3.bias``, ``fc6.*``, ``fc7.*``; no ``backbone.`` prefix) and a report
        with ``mapped`` (source key -> new key, reshaped keys included),
        ``reshaped`` (source key -> (old shape, new shape)) and ``dropped`` (source
        keys not carried over, fc8 among them).

    Raises:
        ValueError: For batch-norm VGGs (``vgg16_bn``) and layouts it cannot read, or
            when fc6's input does not factor into the last conv's channels times a
            square kernel.

    Example:
        >>> import torch
        >>> tv = {'features.0.weight': torch.zeros(4, 3, 3, 3),  # conv, ReLU, pool
        ...       'features.3.weight': torch.zeros(8, 4, 3, 3),
        ...       'classifier.0.weight': torch.zeros(16, 8 * 7 * 7),
        ...       'classifier.6.weight': torch.zeros(1000, 16)}
        >>> sd, report = convert_torchvision_vgg16(tv)
        >>> sorted(sd)
        ['conv1_1.weight', 'conv2_1.weight', 'fc6.weight']
        >>> sd['fc6.weight'].shape, report['dropped']
        (torch.Size([16, 8, 7, 7]), ['classifier.6.weight'])
    """
    if any(key.endswith('running_mean') for key in state_dict):
        raise ValueError('batch-norm VGG weights (vgg16_bn) are not supported: '
                         'VGG16FC has no batch norm')
    conv_indices = sorted({
        int(m.group(1))
        for m in map(_FEATURE_KEY.match, state_dict) if m is not None
    })
    conv_names = torchvision_conv_names(conv_indices)
    new_state_dict: Dict[str, Tensor] = {}
    report: dict = dict(mapped={}, reshaped={}, dropped=[])

    def put(src: str, dst: str, value: Tensor) -> None:
        old_shape = tuple(state_dict[src].shape)
        new_state_dict[dst] = value
        report['mapped'][src] = dst
        if tuple(value.shape) != old_shape:
            report['reshaped'][src] = (old_shape, tuple(value.shape))

    last_conv_channels = None
    if conv_indices:
        last_conv_channels = state_dict[f'features.{conv_indices[-1]}.weight'].shape[0]
    for key, value in state_dict.items():
        feature, classifier = _FEATURE_KEY.match(key), _CLASSIFIER_KEY.match(key)
        if feature is not None:
            put(key, f'{conv_names[int(feature.group(1))]}.{feature.group(2)}', value)
        elif classifier is not None and CLASSIFIER_LAYERS.get(
                int(classifier.group(1))) is not None:
            name, param = CLASSIFIER_LAYERS[int(classifier.group(1))], classifier.group(2)
            if param == 'weight' and value.dim() == 2:
                if name == 'fc6' and last_conv_channels is None:
                    raise ValueError(f'{key}: cannot reshape fc6 without the conv '
                                     'layers (features.*) to tell its input channels')
                value = _fc_to_conv(key, value,
                                    last_conv_channels if name == 'fc6' else None)
            put(key, f'{name}.{param}', value)
        else:
            report['dropped'].append(key)
    return new_state_dict, report


def _fc_to_conv(key: str, weight: Tensor, in_channels: Optional[int]) -> Tensor:
    """Reshape an ``(out, in)`` fully connected weight to a conv weight.

    With ``in_channels`` (fc6) the input is a flattened ``in_channels x k x k``
    window; without (fc7) it is a 1x1 conv.
    """
    out_features, in_features = weight.shape
    if in_channels is None:
        return weight.reshape(out_features, in_features, 1, 1)
    side = math.isqrt(in_features // in_channels) if in_features % in_channels == 0 else 0
    if side == 0 or in_channels * side * side != in_features:
        raise ValueError(f'{key}: {in_features} inputs are not {in_channels} channels '
                         'times a square kernel')
    return weight.reshape(out_features, in_channels, side, side)
