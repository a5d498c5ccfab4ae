"""PASCAL-Context (the 59-class task), read in place from its ``.mat`` label files.

The labels are mapped exactly as the reference data layer
(``fcn.berkeleyvision.org/pascalcontext_layers.py``) maps them: the ``LabelMap``
of ``trainval/<id>.mat`` holds the 459 raw labels of ``labels.txt``; the k-th name
of ``59_labels.txt`` (spaces removed; ``diningtable``, ``bedcloth`` and
``clothes`` renamed to ``table``, ``bedclothes`` and ``cloth``, their names in
``labels.txt``) becomes class k; every other raw label becomes 0, background.
"""
import os.path as osp
from functools import partial
from typing import List, Optional, Sequence, Tuple

import numpy as np
from mmseg.datasets import PascalContextDataset
from mmseg.registry import DATASETS

from .base import StrictSegDataset, list_stems
from .transforms import load_mat_integer_map
from .validation import DatasetError, Problem, iter_ids, missing_path_problem

#: The 59 classes in the order of the released nets' outputs 1..59
#: (``data/pascal-context/classes-59.txt`` of the reference, which writes
#: ``diningtable``, ``clothes``, ``bedcloth``), named as in ``labels.txt`` and
#: mmseg's ``PascalContextDataset``.
CONTEXT59_CLASSES = (
    'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair',
    'cow', 'table', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep',
    'sofa', 'train', 'tvmonitor', 'bag', 'bed', 'bench', 'book', 'building',
    'cabinet', 'ceiling', 'cloth', 'computer', 'cup', 'door', 'fence', 'floor',
    'flower', 'food', 'grass', 'ground', 'keyboard', 'light', 'mountain', 'mouse',
    'curtain', 'platform', 'sign', 'plate', 'road', 'rock', 'shelves', 'sidewalk',
    'sky', 'snow', 'bedclothes', 'track', 'tree', 'truck', 'wall', 'water',
    'window', 'wood')
#: The 60 outputs of the reference nets: background, then the 59.
CONTEXT_CLASSES = ('background', ) + CONTEXT59_CLASSES
#: ``59_labels.txt`` name -> the ``labels.txt`` name the reference maps it to.
TASK_RENAMES = {'diningtable': 'table', 'bedcloth': 'bedclothes', 'clothes': 'cloth'}
#: Each class's colour in mmseg's ``PascalContextDataset``, so a class looks the
#: same in both layouts.
_MMSEG_COLOURS = dict(zip(PascalContextDataset.METAINFO['classes'],
                          PascalContextDataset.METAINFO['palette']))
CONTEXT_PALETTE = [list(_MMSEG_COLOURS[name]) for name in CONTEXT_CLASSES]

SPLITS = ('train', 'val')

LAYOUT = """\
  <data_root>/
    {voc}/                      (VOCtrainval_03-May-2010.tar: VOCdevkit/VOC2010)
      JPEGImages/<id>.jpg
      ImageSets/Main/train.txt, val.txt
    {context}trainval/<id>.mat   (PASCAL-Context trainval.tar.gz) LabelMap: raw labels
    {context}labels.txt          "<k>: <name>", the 459 raw labels (1-based)
    {context}59_labels.txt       "<k>: <name>", the 59-class task"""


class ContextLabelListError(DatasetError):
    """``labels.txt`` or ``59_labels.txt`` that cannot give the 59-class mapping."""


def read_label_list(path: str) -> List[str]:
    """The names of a PASCAL-Context label list, spaces removed, in file order.

    Each non-blank line is ``<k>: <name>`` with ``k`` counting from 1, as the
    reference reads it (``np.genfromtxt(path, delimiter=':')``, then
    ``name.replace(' ', '')``); raw label ``k`` is the k-th name.

    Args:
        path (str): ``labels.txt`` or ``59_labels.txt``.

    Returns:
        list[str]: The names.

    Raises:
        ContextLabelListError: A line that is not ``<k>: <name>``, or numbers that
            do not count 1, 2, 3, ...; names the file and the line.
    """
    names = []
    with open(path, encoding='utf-8') as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            index, sep, name = line.rstrip('\r\n').partition(':')
            name = name.replace(' ', '')
            if not sep or not index.strip().isdigit() or not name:
                raise ContextLabelListError(
                    f'{path}: line {number} is {line.strip()!r}, expected '
                    "'<k>: <name>'")
            if int(index) != len(names) + 1:
                raise ContextLabelListError(
                    f'{path}: line {number} numbers its label {int(index)}, '
                    f'expected {len(names) + 1} (labels count 1, 2, 3, ... in '
                    'file order)')
            names.append(name)
    if not names:
        raise ContextLabelListError(f'{path}: no labels in the file')
    return names


def context_raw_ids(labels_file: str, task_file: str,
                    classes: Sequence[str] = CONTEXT59_CLASSES) -> Tuple[int, ...]:
    """The raw label of each class of the 59-class task, in task order.

    ``pascalcontext_layers.py``: the task's names (``59_labels.txt``, spaces
    removed, :data:`TASK_RENAMES` applied) are looked up in ``labels.txt``; class
    k is raw label ``labels.index(name) + 1``.

    Args:
        labels_file (str): ``labels.txt``, the raw labels.
        task_file (str): ``59_labels.txt``, the task.
        classes (Sequence[str]): The task's classes in the order the models
            output them; the task file must list exactly these. Defaults to
            :data:`CONTEXT59_CLASSES`.

    Returns:
        tuple[int, ...]: One raw label per class.

    Raises:
        ContextLabelListError: A task name missing from ``labels.txt`` (all are
            listed), or a task list other than ``classes``; names the files.
    """
    raw = read_label_list(labels_file)
    task = [TASK_RENAMES.get(name, name) for name in read_label_list(task_file)]
    if task != list(classes):
        extra = [n for n in task if n not in classes]
        missing = [n for n in classes if n not in task]
        detail = (f'names not in the task: {extra}; task classes not listed: '
                  f'{missing}' if extra or missing else
                  'the same names in another order: '
                  + ', '.join(f'{i + 1}: {a} (expected {b})'
                              for i, (a, b) in enumerate(zip(task, classes))
                              if a != b))
        raise ContextLabelListError(
            f'{task_file}: lists {len(task)} classes that are not the 59-class '
            f'task in the released nets\' order (classes-59.txt of '
            f'fcn.berkeleyvision.org); {detail}')
    missing = [name for name in task if name not in raw]
    if missing:
        raise ContextLabelListError(
            f'{labels_file}: has no raw label for {len(missing)} name(s) of '
            f'{task_file}: {", ".join(missing)}')
    return tuple(raw.index(name) + 1 for name in task)


def load_context_label(data: bytes, raw_ids: Sequence[int], num_raw: int,
                       background: int = 0) -> np.ndarray:
    """The 59-class label map of a PASCAL-Context ``trainval/<id>.mat`` file.

    Pixels of raw label ``raw_ids[k]`` become ``k + 1``, all others
    ``background``: ``pascalcontext_layers.load_label``.

    Args:
        data (bytes): The file's bytes.
        raw_ids (Sequence[int]): :func:`context_raw_ids`.
        num_raw (int): Number of raw labels (``labels.txt``); ``LabelMap``
            values must lie in ``0..num_raw``.
        background (int): Label of every other pixel. Defaults to 0.

    Returns:
        np.ndarray: (H, W) uint8 label map.

    Raises:
        ValueError: No ``LabelMap`` in the file, or one that is not a 2-D map of
            raw labels.
    """
    raw = load_mat_integer_map(data, 'LabelMap', 'LabelMap',
                               'not a PASCAL-Context trainval/*.mat label')
    if raw.size and (raw.min() < 0 or raw.max() > num_raw):
        bad = np.unique(raw[(raw < 0) | (raw > num_raw)])[:20]
        raise ValueError(f'LabelMap holds values {bad.tolist()} '
                         f'that are not raw labels 0..{num_raw} of labels.txt')
    lut = np.full(num_raw + 1, background, dtype=np.uint8)
    lut[np.asarray(raw_ids, dtype=np.int64)] = np.arange(1, len(raw_ids) + 1)
    return lut[raw]


@DATASETS.register_module()
class PascalContextFCNDataset(StrictSegDataset):
    """PASCAL-Context's 59-class task on VOC2010 images, read in place.

    Unpack ``VOCtrainval_03-May-2010.tar`` and put its ``VOCdevkit/VOC2010`` at
    ``<data_root>/VOC2010`` (or point ``voc_dir`` at it); unpack PASCAL-Context's
    ``trainval.tar.gz`` (``trainval/<id>.mat``) next to its ``labels.txt`` and
    ``59_labels.txt`` in ``<data_root>`` (or ``context_dir``). No conversion step
    and no ``detail`` API: the labels are read from the ``.mat`` files and mapped
    as the reference data layer maps them (:func:`context_raw_ids`,
    :func:`load_context_label`), through ``LoadFCNAnnotations``.

    Classes: by default the reference's 60 outputs, background (every raw label
    outside the task) then the 59 in ``classes-59.txt`` order
    (:data:`CONTEXT_CLASSES`); background is a trained class and nothing is
    ignored. With ``ignore_background=True`` the 59 classes are 0..58 and
    background is 255 (ignored), the convention of mmseg's
    ``PascalContextDataset59``.

    Splits: VOC2010's ``ImageSets/Main/train.txt`` (4,998 ids) and ``val.txt``
    (5,105), as the reference reads them; an explicit ``ann_file`` overrides.

    Every listed id must have an image and a ``.mat``; ``labels.txt`` must name
    every class of ``59_labels.txt``, which must be the task above; each
    ``LabelMap`` must be readable and the size of its image. Anything else is an
    error naming the file (see :class:`StrictSegDataset`).

    Args:
        split (str): ``'train'`` or ``'val'``. Defaults to ``'train'``.
        voc_dir (str): The VOC2010 folder, relative to ``data_root`` unless
            absolute. Defaults to ``'VOC2010'``.
        context_dir (str): Folder of ``trainval/``, ``labels.txt`` and
            ``59_labels.txt``, relative to ``data_root`` unless absolute.
            Defaults to ``''`` (``data_root`` itself).
        ignore_background (bool): 59 classes with background ignored (255).
            Defaults to False (60 classes, as the released nets).
        ann_file (str, optional): Id list overriding the split's (one id per
            line, relative to ``data_root`` unless absolute).
        img_suffix (str): Defaults to ``'.jpg'``.
        **kwargs: Other ``BaseSegDataset`` arguments (``data_root``,
            ``pipeline``, ``metainfo``, ``lazy_init``, ...).

    Example:
        >>> ds = PascalContextFCNDataset(data_root='data/pascal_context',
        ...                              split='val', lazy_init=True)
        >>> len(ds.metainfo['classes']), ds.metainfo['classes'][11]
        (60, 'table')
    """
    METAINFO = dict(classes=CONTEXT_CLASSES, palette=CONTEXT_PALETTE)

    def __init__(self,
                 split: str = 'train',
                 voc_dir: str = 'VOC2010',
                 context_dir: str = '',
                 ignore_background: bool = False,
                 ann_file: Optional[str] = None,
                 img_suffix: str = '.jpg',
                 **kwargs) -> None:
        if split not in SPLITS:
            raise ValueError(f'split must be one of {SPLITS}, got {split!r}')
        if kwargs.pop('reduce_zero_label', False):
            raise ValueError('PascalContextFCNDataset maps the labels itself: use '
                             'ignore_background=True for the 59 classes with '
                             'background ignored, not reduce_zero_label')
        if ignore_background and kwargs.get('metainfo') is None:
            # mmseg's label_map for a subset of METAINFO's classes: 0 -> 255, k -> k-1
            kwargs['metainfo'] = dict(classes=CONTEXT59_CLASSES,
                                      palette=CONTEXT_PALETTE[1:])
        self.split = split
        self.voc_dir = voc_dir
        self.context_dir = context_dir
        self.ignore_background = ignore_background
        super().__init__(ann_file=ann_file or '', img_suffix=img_suffix,
                         seg_map_suffix='.mat', reduce_zero_label=False, **kwargs)

    def _root(self, sub: str) -> str:
        if self.data_root and not osp.isabs(sub):
            return osp.join(self.data_root, sub)
        return sub

    def list_samples(self) -> Tuple[List[dict], List[Problem]]:
        """The split's ids with their image and ``.mat`` files, and every problem.

        Returns:
            tuple[list[dict], list[Problem]]
        """
        context = self.context_dir.rstrip('/') + '/' if self.context_dir else ''
        layout = LAYOUT.format(voc=self.voc_dir, context=context)
        if self.data_root and not osp.isdir(self.data_root):
            return [], [missing_path_problem(self.data_root, layout,
                                             'data_root folder')]
        voc, ctx = self._root(self.voc_dir), self._root(self.context_dir)
        img_dir, seg_dir = osp.join(voc, 'JPEGImages'), osp.join(ctx, 'trainval')
        labels, task = osp.join(ctx, 'labels.txt'), osp.join(ctx, '59_labels.txt')
        id_list = self.ann_file or osp.join(voc, 'ImageSets', 'Main',
                                            f'{self.split}.txt')
        problems = [missing_path_problem(p, layout) for p in (img_dir, seg_dir)
                    if not osp.isdir(p)]
        problems += [missing_path_problem(p, layout, what) for p, what in (
            (id_list, 'list file'), (labels, 'label list'), (task, 'label list'))
                     if not osp.isfile(p)]
        if problems:
            return [], problems
        try:
            raw_ids = context_raw_ids(labels, task)
            num_raw = len(read_label_list(labels))
        except ContextLabelListError as e:
            return [], [Problem('bad label list', str(e))]
        decoder = partial(load_context_label, raw_ids=raw_ids, num_raw=num_raw)

        images = list_stems(img_dir, self.img_suffix)
        mats = list_stems(seg_dir, '.mat')
        data_list, problems = [], []
        for sample_id in iter_ids(id_list):
            img = osp.join(img_dir, sample_id + self.img_suffix)
            mat = osp.join(seg_dir, sample_id + '.mat')
            if sample_id not in images and sample_id not in mats:
                problems.append(Problem('listed id without files',
                                        f'{sample_id}: neither {img} nor {mat}',
                                        sample_id))
            elif sample_id not in mats:
                problems.append(Problem('image without mask',
                                        f'{sample_id}: {img} has no label {mat}',
                                        sample_id))
            elif sample_id not in images:
                problems.append(Problem('mask without image',
                                        f'{sample_id}: {mat} has no image {img}',
                                        sample_id))
            else:
                data_list.append(dict(
                    img_path=osp.join(img_dir, images[sample_id]),
                    seg_map_path=osp.join(seg_dir, mats[sample_id]),
                    seg_map_decoder=decoder,
                    label_map=self.label_map,
                    reduce_zero_label=False,
                    seg_fields=[]))
        return data_list, problems
