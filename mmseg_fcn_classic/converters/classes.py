"""The classes of converted weights, and reordering a head's channels by class name.

A released net's outputs follow its dataset layer's class order: the VOC nets
mmseg's VOC order, the PASCAL-Context nets the reference's ``classes-59.txt``
(background, the 20 VOC classes, then bag ... wood), the NYUDv2 nets the reference's
``data/nyud/classes.txt``. mmseg's
``PascalContextDataset`` orders the same 60 classes alphabetically. To use the
weights with such a dataset, :func:`class_permutation` matches the two lists by
name and :func:`permute_head_classes` reorders the score and upsampling channels,
so that the converted net's logits are the reference's, permuted.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmseg.utils import get_classes, get_palette

from ..datasets.nyud import NYUDv2Dataset
from ..datasets.pascal_context import CONTEXT_CLASSES, CONTEXT_PALETTE

#: ``dataset_meta`` of the released nets by their number of outputs, and a name
#: for messages.
RELEASED_CLASSES: Dict[int, Tuple[str, dict]] = {
    21: ('PASCAL VOC', dict(classes=list(get_classes('voc')),
                            palette=[list(p) for p in get_palette('voc')])),
    60: ('PASCAL-Context (classes-59.txt order)',
         dict(classes=list(CONTEXT_CLASSES),
              palette=[list(p) for p in CONTEXT_PALETTE])),
    40: ('NYUDv2 (data/nyud/classes.txt order)',
         dict(classes=list(NYUDv2Dataset.METAINFO['classes']),
              palette=[list(p) for p in NYUDv2Dataset.METAINFO['palette']])),
}


def released_dataset_meta(num_classes: int) -> Optional[Tuple[str, dict]]:
    """The dataset name and ``dataset_meta`` (classes, palette) of a released net
    with ``num_classes`` outputs, or None when no released net has that many.

    Example:
        >>> name, meta = released_dataset_meta(60)
        >>> meta['classes'][:3], meta['classes'][21]
        (['background', 'aeroplane', 'bicycle'], 'bag')
    """
    return RELEASED_CLASSES.get(num_classes)


class ClassMismatchError(ValueError):
    """Two class lists that are not the same classes."""


def class_permutation(source: Sequence[str], target: Sequence[str]) -> List[int]:
    """For each target class, the index of the source class of the same name.

    Args:
        source (Sequence[str]): Class names in the weights' output order.
        target (Sequence[str]): Class names in the order wanted.

    Returns:
        list[int]: ``perm`` with ``source[perm[i]] == target[i]``.

    Raises:
        ClassMismatchError: The lists are not the same names (each once),
            listing the names found on one side only.

    Example:
        >>> class_permutation(['bg', 'cat', 'ant'], ['ant', 'bg', 'cat'])
        [2, 0, 1]
    """
    source, target = list(source), list(target)
    repeated = sorted({n for n in source if source.count(n) > 1} |
                      {n for n in target if target.count(n) > 1})
    only_source = [n for n in source if n not in target]
    only_target = [n for n in target if n not in source]
    if repeated or only_source or only_target:
        parts = []
        if only_source:
            parts.append(f'{len(only_source)} class name(s) of the weights have no '
                         f'match in the dataset: {only_source}')
        if only_target:
            parts.append(f'{len(only_target)} class name(s) of the dataset have no '
                         f'match in the weights: {only_target}')
        if repeated:
            parts.append(f'names listed more than once: {repeated}')
        raise ClassMismatchError('; '.join(parts))
    return [source.index(name) for name in target]


def permute_head_classes(state_dict: Dict[str, torch.Tensor], perm: Sequence[int],
                         prefix: str = 'decode_head.'
                         ) -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """Reorder a classic FCN head's class channels: output ``i`` becomes the
    source's output ``perm[i]``.

    Score layers (``score_fr``, ``score_pool4``, ...) are permuted along their
    output channels (weight and bias); the upsampling layers (``upscore*``,
    ``(C, C, k, k)`` transposed convs) along both channel dims, so that every
    intermediate map, and the logits, are the source's permuted.

    Args:
        state_dict (dict[str, Tensor]): A converted state dict.
        perm (Sequence[int]): From :func:`class_permutation`.
        prefix (str): Where the head's keys are. Defaults to ``'decode_head.'``.

    Returns:
        tuple[dict, list[str]]: The new state dict and the keys permuted.

    Raises:
        ValueError: A head tensor without ``len(perm)`` channels, or no head.
    """
    index = torch.as_tensor(list(perm), dtype=torch.long)
    out, permuted = dict(state_dict), []
    for key, value in state_dict.items():
        if not key.startswith(prefix):
            continue
        layer = key[len(prefix):].rsplit('.', 1)[0]
        dims = (0, 1) if layer.startswith('upscore') else (
            (0, ) if layer.startswith('score') else ())
        for dim in dims:
            if value.shape[dim] != len(index):
                raise ValueError(f'{key} has {value.shape[dim]} channels along dim '
                                 f'{dim}, not the {len(index)} classes')
            value = value.index_select(dim, index)
        if dims:
            out[key] = value.contiguous()
            permuted.append(key)
    if not permuted:
        raise ValueError(f'no score or upscore layers under {prefix!r} to reorder')
    return out, permuted


def config_dataset_meta(config: str) -> Tuple[dict, str]:
    """The classes and palette of a config's test dataset.

    They are the dataset config's ``metainfo`` where it sets ``classes``, else
    its dataset class's ``METAINFO`` (mmseg's or this package's). Dataset
    wrappers (``dataset=`` / ``datasets=``) are looked through.

    Args:
        config (str): A config file (its ``custom_imports`` are imported).

    Returns:
        tuple[dict, str]: ``dict(classes=[...], palette=[...])`` (no palette when
        the dataset has none) and the dataset type's name.

    Raises:
        ValueError: No dataset in the config, or a head whose ``num_classes``
            differs from the dataset's.
    """
    import mmseg.datasets  # noqa: F401  (registers mmseg's datasets)
    from mmengine.config import Config
    from mmseg.registry import DATASETS

    import mmseg_fcn_classic.datasets  # noqa: F401  (registers ours)
    cfg = Config.fromfile(config)
    dataset = None
    for loader in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        if cfg.get(loader) and cfg[loader].get('dataset'):
            dataset = cfg[loader]['dataset']
            break
    if dataset is None:
        raise ValueError(f'{config}: no test, val or train dataset to take the '
                         'classes from')
    while 'dataset' in dataset or 'datasets' in dataset:
        dataset = dataset.get('dataset') or dataset['datasets'][0]
    cls = dataset['type']
    if isinstance(cls, str):
        cls = DATASETS.get(cls)
        if cls is None:
            raise ValueError(f"{config}: unknown dataset type {dataset['type']!r}")
    meta = dict(cls.METAINFO)
    meta.update(dataset.get('metainfo') or {})
    classes = list(meta['classes'])
    dataset_meta = dict(classes=classes)
    palette = meta.get('palette')
    if palette is not None and len(palette) == len(classes):
        dataset_meta['palette'] = [list(p) for p in palette]
    head = (cfg.get('model') or {}).get('decode_head') or {}
    if head.get('num_classes') not in (None, len(classes)):
        raise ValueError(f"{config}: the head has num_classes="
                         f"{head['num_classes']} but its dataset {cls.__name__} "
                         f'has {len(classes)} classes')
    return dataset_meta, cls.__name__
