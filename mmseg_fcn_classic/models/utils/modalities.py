"""The input modalities of the RGB-D nets and their conventions, as data.

A multi-modal sample is one float image whose channels are the modalities stacked
in a fixed order (``('color', 'depth')``: B, G, R, log depth). The loader decodes
each modality into the quantity the network reads, the data preprocessor subtracts
each modality's mean, and a late-fusion backbone splits the channels again; all
three read this table, so they agree on the channel layout.

Conventions of ``fcn.berkeleyvision.org``'s ``nyud_layers.py`` (NYUDv2):

* ``color``: 8-bit colour image, BGR (the channel order mmcv reads), minus
  (116.190, 97.203, 92.318);
* ``hha``: 8-bit HHA image (Gupta et al.) in the PNG's own channel order, i.e.
  ``'rgb'`` relative to mmcv's BGR reading (no flip), minus (132.431, 94.076,
  118.477);
* ``depth``: 16-bit depth PNG (millimetres), natural log of the stored value,
  minus 7.844. The log is taken by the loader, so no later transform (a pad, a
  fill) can produce ``log(0)``.

Example:
    >>> channel_table(('color', 'depth'))
    (('color', 0, 3), ('depth', 3, 4))
    >>> modality_means(('color', 'hha'))[3:]
    (132.431, 94.076, 118.477)
"""
from typing import Dict, NamedTuple, Optional, Sequence, Tuple


class Modality(NamedTuple):
    """How one modality is stored, decoded and normalised.

    Args:
        channels (int): Channels it contributes to the stacked image.
        mean (tuple[float, ...]): Subtracted per channel (std is 1).
        channel_order (str | None): ``'bgr'`` or ``'rgb'``: the order of a 3-channel
            image's channels relative to its file as mmcv / OpenCV read it (BGR),
            as in :func:`..apis.deploy.input_convention`; None for one channel.
        transform (str | None): Applied to the stored value before the mean:
            ``'log'`` (natural log) or None.
        stored_as (str): The file format, for messages and docs.
    """
    channels: int
    mean: Tuple[float, ...]
    channel_order: Optional[str]
    transform: Optional[str]
    stored_as: str


#: The NYUDv2 modalities of ``nyud_layers.py`` (``load_image``, ``load_hha``,
#: ``load_depth``), keyed by their reference top names.
MODALITIES: Dict[str, Modality] = {
    'color': Modality(3, (116.190, 97.203, 92.318), 'bgr', None, '8-bit colour PNG'),
    'hha': Modality(3, (132.431, 94.076, 118.477), 'rgb', None,
                    '8-bit 3-channel HHA PNG'),
    'depth': Modality(1, (7.844, ), None, 'log', '16-bit depth PNG (millimetres)'),
}


def check_modalities(modalities: Sequence[str]) -> Tuple[str, ...]:
    """Return ``modalities`` as a tuple; raise unless they are known and distinct."""
    modalities = tuple(modalities)
    unknown = [m for m in modalities if m not in MODALITIES]
    if not modalities or unknown or len(set(modalities)) != len(modalities):
        raise ValueError(f'modalities must be distinct names of {tuple(MODALITIES)}, '
                         f'got {modalities}')
    return modalities


def channel_table(modalities: Sequence[str]) -> Tuple[Tuple[str, int, int], ...]:
    """``(name, first channel, end channel)`` of each modality in the stacked image."""
    table, start = [], 0
    for name in check_modalities(modalities):
        stop = start + MODALITIES[name].channels
        table.append((name, start, stop))
        start = stop
    return tuple(table)


def num_channels(modalities: Sequence[str]) -> int:
    """Channels of the stacked image."""
    return channel_table(modalities)[-1][2]


def modality_means(modalities: Sequence[str]) -> Tuple[float, ...]:
    """The per-channel means of the stacked image."""
    return tuple(v for name in check_modalities(modalities)
                 for v in MODALITIES[name].mean)
