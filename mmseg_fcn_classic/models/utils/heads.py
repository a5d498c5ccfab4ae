"""Where a multi-head segmentor's labels, predictions and logits live.

A segmentor with several named decode heads (one trunk; e.g. SIFT Flow's semantic
and geometric heads) keeps each head's maps under its own keys. The primary head
(the first) uses mmseg's own keys, so every mmseg tool that knows one head (metrics,
visualizer, TTA, ``inference_model``) works on it unchanged; another head ``name``
uses the same keys with its name in them:

=====================  ======================  ===========================
what                   primary head            head ``name`` (e.g. ``geo``)
=====================  ======================  ===========================
pipeline label map     ``gt_seg_map``          ``gt_geo_seg_map``
data info label file   ``seg_map_path``        ``geo_seg_map_path``
data info decoder      ``seg_map_decoder``     ``geo_seg_map_decoder``
data sample label      ``gt_sem_seg``          ``gt_geo_seg``
data sample labels     ``pred_sem_seg``        ``pred_geo_seg``
data sample logits     ``seg_logits``          ``geo_seg_logits``
dataset meta classes   ``classes``             ``geo_classes``
dataset meta palette   ``palette``             ``geo_palette``
=====================  ======================  ===========================

Example:
    >>> head_fields('geo').pred, head_fields(None).pred
    ('pred_geo_seg', 'pred_sem_seg')
    >>> head_meta(dict(classes=('a', 'b'), palette=[[0, 0, 0], [9, 9, 9]],
    ...                geo_classes=('sky', 'ground')), 'geo')['classes']
    ('sky', 'ground')
"""
import re
from typing import NamedTuple, Optional

#: A head name: a Python identifier that is not one of mmseg's own words.
_NAME = re.compile(r'[A-Za-z][A-Za-z0-9]*')
#: Names that would collide with mmseg's keys (``gt_sem_seg``, ``gt_edge_map``...).
RESERVED = ('sem', 'seg')


class HeadFields(NamedTuple):
    """The keys of one head's maps (see the module docstring).

    Args:
        seg_map (str): Label map in the data pipeline.
        seg_map_path (str): Label file in the data info.
        seg_map_decoder (str): Label file decoder in the data info.
        gt (str): Ground truth in a ``SegDataSample``.
        pred (str): Predicted labels in a ``SegDataSample``.
        logits (str): Logits in a ``SegDataSample``.
        classes (str): Class names in the dataset meta.
        palette (str): Colours in the dataset meta.
    """
    seg_map: str
    seg_map_path: str
    seg_map_decoder: str
    gt: str
    pred: str
    logits: str
    classes: str
    palette: str


PRIMARY_FIELDS = HeadFields('gt_seg_map', 'seg_map_path', 'seg_map_decoder',
                            'gt_sem_seg', 'pred_sem_seg', 'seg_logits', 'classes',
                            'palette')


def check_head_name(name: str) -> str:
    """Return ``name``; raise ValueError unless it is a valid non-primary head name.

    A name is letters and digits, starting with a letter (it becomes part of keys
    such as ``gt_<name>_seg``), and not ``sem`` or ``seg``.
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name in RESERVED:
        raise ValueError(f'a head name must be letters and digits starting with a '
                         f'letter, other than {RESERVED}; got {name!r}')
    return name


def head_fields(name: Optional[str]) -> HeadFields:
    """The keys of head ``name``; ``None`` is the primary head (mmseg's keys)."""
    if name is None:
        return PRIMARY_FIELDS
    check_head_name(name)
    return HeadFields(f'gt_{name}_seg_map', f'{name}_seg_map_path',
                      f'{name}_seg_map_decoder', f'gt_{name}_seg', f'pred_{name}_seg',
                      f'{name}_seg_logits', f'{name}_classes', f'{name}_palette')


def head_meta(meta: Optional[dict], name: Optional[str]) -> dict:
    """``classes`` and ``palette`` of head ``name`` from a dataset meta.

    Args:
        meta (dict, optional): A dataset meta (``classes``, ``palette``,
            ``<name>_classes``, ``<name>_palette``, ...).
        name (str, optional): A head; None is the primary head.

    Returns:
        dict: ``classes`` and ``palette`` (each None where the meta has none).
    """
    meta = meta or {}
    fields = head_fields(name)
    return dict(classes=meta.get(fields.classes), palette=meta.get(fields.palette))


def select_head(data_sample, name: Optional[str]):
    """A ``SegDataSample`` showing head ``name``'s maps under mmseg's keys.

    ``gt_sem_seg``, ``pred_sem_seg`` and ``seg_logits`` of the result are that
    head's (absent where the head has none); the meta info is shared. Use it to
    give mmseg's visualizer or ``show_result_pyplot`` another head's maps.

    Args:
        data_sample (SegDataSample): A multi-head prediction.
        name (str, optional): The head; None returns ``data_sample`` itself.

    Returns:
        SegDataSample
    """
    if name is None:
        return data_sample
    from mmseg.structures import SegDataSample
    fields = head_fields(name)
    view = SegDataSample(metainfo=data_sample.metainfo)
    for src, dst in ((fields.gt, 'gt_sem_seg'), (fields.pred, 'pred_sem_seg'),
                     (fields.logits, 'seg_logits')):
        if src in data_sample:
            view.set_data({dst: data_sample.get(src)})
    return view


def head_of_seg_map(key: str) -> Optional[str]:
    """The head whose pipeline label map ``key`` is: ``'gt_geo_seg_map'`` ->
    ``'geo'``; None for the primary ``gt_seg_map`` and any other key.

    Example:
        >>> head_of_seg_map('gt_geo_seg_map'), head_of_seg_map('gt_seg_map')
        ('geo', None)
    """
    match = re.fullmatch(r'gt_([A-Za-z][A-Za-z0-9]*)_seg_map', key)
    if match is None or match.group(1) in RESERVED:
        return None
    return match.group(1)
