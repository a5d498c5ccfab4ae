"""What a converted NYUDv2 net (40 classes) needs besides its weights and classes:
the modalities it reads, with their input conventions."""
import os.path as osp
import re
from typing import Dict, Optional, Tuple

import torch

from ..datasets.nyud import CLASSES
from ..models.utils.modalities import MODALITIES, modality_means

#: The config of each released NYUD net's modalities.
CONFIGS = {
    ('color', ): 'configs/fcn32s_vgg16_nyud-color.py',
    ('hha', ): 'configs/fcn32s_vgg16_nyud-hha.py',
    ('color', 'depth'): 'configs/fcn32s_vgg16_nyud-color-d.py',
    ('color', 'hha'): 'configs/fcn32s_vgg16_nyud-color-hha.py',
}


def _modalities(state_dict: Dict[str, torch.Tensor],
                src: str) -> Tuple[Optional[Tuple[str, ...]], str]:
    trunks = tuple(dict.fromkeys(
        m.group(1) for k in state_dict
        for m in [re.fullmatch(r'backbone\.(\w+)\.conv1_1\.weight', k)] if m))
    if trunks:
        return trunks, 'from the trunks'
    channels = state_dict['backbone.conv1_1.weight'].shape[1]
    if channels == 4:
        return ('color', 'depth'), 'conv1_1 takes 4 channels'
    name = osp.basename(src).lower()
    found = [m for m in ('hha', 'color') if m in name]
    if channels == 3 and len(found) == 1:
        return (found[0], ), f'from the file name {osp.basename(src)!r}'
    return None, ''


def nyud_metadata(state_dict: Dict[str, torch.Tensor], src: str) -> Optional[dict]:
    """Metadata of a converted 40-class net, or None for any other.

    The modalities follow from the weights where they can: two trunks (late
    fusion) name theirs, a 4-channel conv1_1 is colour + depth (early fusion). A
    3-channel net reads colour or HHA, which only the file name tells
    (``nyud-fcn32s-hha-heavy.caffemodel``); without it the convention is left out.

    Args:
        state_dict (dict): Our converted state dict.
        src (str): The source file.

    Returns:
        dict | None: ``num_classes``, ``input_convention`` (``modalities``,
        ``mean``, ``std``, ``bgr_to_rgb``, ``weights='nyud'``; or None), ``notes``.
        The classes are recorded as those of every released 40-class net
        (``converters/classes.py``).
    """
    scores = [v for k, v in state_dict.items()
              if re.fullmatch(r'decode_head\.score_fr\w*\.weight', k)]
    if not scores or scores[0].shape[0] != len(CLASSES):
        return None
    out = dict(num_classes=len(CLASSES), input_convention=None, notes=[])
    modalities, why = _modalities(state_dict, src)
    if modalities is None:
        out['notes'].append('cannot tell whether this net reads colour or HHA (name '
                            "the file '...color...' or '...hha...' to record it); use "
                            f"{CONFIGS[('color', )]} or {CONFIGS[('hha', )]}")
        return out
    mean = modality_means(modalities)
    out['input_convention'] = dict(
        weights='nyud', modalities=list(modalities), mean=list(mean),
        std=[1.0] * len(mean), bgr_to_rgb=False,
        channel_order={m: MODALITIES[m].channel_order for m in modalities},
        transform={m: MODALITIES[m].transform for m in modalities})
    config = CONFIGS.get(modalities)
    out['notes'].append(f'NYUDv2 modalities {modalities} ({why})' +
                        (f': use {config}' if config else ''))
    return out
