"""Reference-named late-fusion FCN weights (nyud-fcn32s-color-hha) -> our state dict.

The reference trunks are suffixed by modality (``conv1_1color`` ... ``fc7color``,
``score_frcolor``; the same with ``hha``) and share the upsampling (``upscore``).
Ours: ``LateFusionVGG16FC`` holds one ``VGG16FC`` per modality
(``backbone.color.conv1_1.weight``) and ``LateFusionFCNHead`` keeps the suffixed
score names (``decode_head.score_frcolor.weight``) and one ``decode_head.upscore``.
Each trunk goes through :func:`~.pytorch_fcn.convert_reference_state_dict`, so the
same shape checks apply.
"""
from collections import OrderedDict
from typing import Dict, Mapping, Optional, Sequence, Tuple

import torch

from ..models.utils.fcn_spec import late_fusion_name
from .pytorch_fcn import (BACKBONE_LAYERS, DECONV_LAYERS, SCORE_LAYERS,
                          convert_reference_state_dict)


StateDict = Dict[str, torch.Tensor]


def split_modalities(state_dict: Mapping[str, torch.Tensor],
                     modalities: Sequence[str]
                     ) -> Tuple[Dict[str, StateDict], StateDict]:
    """Sort reference-named late-fusion weights by trunk.

    Args:
        state_dict (Mapping[str, Tensor]): ``conv1_1color.weight``, ...,
            ``upscore.weight``.
        modalities (Sequence[str]): The trunks' suffixes.

    Returns:
        tuple[dict, dict]: ``{modality: unsuffixed state dict}`` and the shared
        rest (the upsampling layers, anything unknown).

    Example:
        >>> sd = {'fc7hha.bias': 1, 'score_frcolor.bias': 2, 'upscore.weight': 3}
        >>> split_modalities(sd, ('color', 'hha'))
        ({'color': {'score_fr.bias': 2}, 'hha': {'fc7.bias': 1}}, {'upscore.weight': 3})
    """
    per: Dict[str, Dict[str, torch.Tensor]] = {m: OrderedDict() for m in modalities}
    shared: Dict[str, torch.Tensor] = OrderedDict()
    bases = BACKBONE_LAYERS + ('fc8', ) + SCORE_LAYERS
    names = {late_fusion_name(base, m): (m, base) for m in modalities for base in bases}
    for key, value in state_dict.items():
        layer, param = key.rsplit('.', 1)
        if layer in names:
            modality, base = names[layer]
            per[modality][f'{base}.{param}'] = value
        else:
            shared[key] = value
    return {m: dict(v) for m, v in per.items()}, dict(shared)


def convert_late_fusion_state_dict(
        state_dict: Mapping[str, torch.Tensor], modalities: Sequence[str],
        variant: Optional[str] = None) -> Tuple[Dict[str, torch.Tensor], dict]:
    """Map a reference-named late-fusion state dict onto our modules.

    Args:
        state_dict (Mapping[str, Tensor]): Suffixed trunk and score layers plus the
            shared upsampling layers, convolution shaped.
        modalities (Sequence[str]): The trunk suffixes, in the model's order.
        variant (str, optional): ``'32s'`` (the zoo's), ``'16s'`` or ``'8s'``;
            detected when None, and it must be the same for every trunk.

    Returns:
        tuple[dict, dict]: Our state dict and a report as
        :func:`~.pytorch_fcn.convert_reference_state_dict`'s, plus
        ``modalities``; ``mapped`` names the suffixed source layers.

    Raises:
        ValueError: A trunk is missing layers, shapes do not chain, the trunks
            differ in variant, or the variant is a backbone.
    """
    modalities = tuple(modalities)
    per, shared = split_modalities(state_dict, modalities)
    upscores = {k: v for k, v in shared.items() if k.rsplit('.', 1)[0] in DECONV_LAYERS}
    out: Dict[str, torch.Tensor] = OrderedDict()
    report = {'variant': None, 'mapped': [], 'reshaped': [], 'dropped': [],
              'notes': [], 'modalities': list(modalities)}
    for modality in modalities:
        if not per[modality]:
            raise ValueError(f'no layers of the {modality!r} trunk '
                             f'({late_fusion_name("conv1_1", modality)}, ...)')
        trunk, sub = convert_reference_state_dict({**per[modality], **upscores},
                                                  variant)
        if sub['variant'] == 'vgg16':
            raise ValueError(f'the {modality!r} trunk has no score_fr{modality}: '
                             'not a late-fusion FCN')
        if report['variant'] not in (None, sub['variant']):
            raise ValueError(f'the trunks differ: {report["variant"]} vs '
                             f'{sub["variant"]} ({modality})')
        report['variant'] = sub['variant']
        for src, dst, shape in sub['mapped']:
            layer, param = src.rsplit('.', 1)
            if layer in DECONV_LAYERS:
                if dst not in out:  # shared: once
                    out[dst] = trunk[dst]
                    report['mapped'].append([src, dst, shape])
                continue
            if dst.startswith('backbone.'):
                new = f'backbone.{modality}.{dst[len("backbone."):]}'
            else:
                new = f'decode_head.{late_fusion_name(layer, modality)}.{param}'
            out[new] = trunk[dst]
            report['mapped'].append([f'{late_fusion_name(layer, modality)}.{param}',
                                     new, shape])
        for key, why in sub['dropped']:
            layer, param = key.rsplit('.', 1)
            if layer not in DECONV_LAYERS:
                key = f'{late_fusion_name(layer, modality)}.{param}'
            if [key, why] not in report['dropped']:
                report['dropped'].append([key, why])
        report['notes'] += [n for n in sub['notes'] if n not in report['notes']]
    report['dropped'] += [[k, 'not part of a late-fusion FCN'] for k in shared
                          if k not in upscores]
    return out, report
