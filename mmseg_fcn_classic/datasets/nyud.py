"""NYUDv2, 40 classes (Gupta et al.), read in place from the reference's prepared
``nyud.tar.gz`` layout, with its colour, HHA and depth images."""
import functools
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import numpy as np
from mmseg.registry import DATASETS

from ..models.utils.modalities import check_modalities
from ..visualization.palette import generated_palette
from .base import StrictSegDataset, _walk_transforms
from .modalities import LoadMultiModalImageFromFiles
from .transforms import _to_uint8, load_mat_integer_map
from .validation import Problem, iter_ids, missing_path_problem

#: ``data/nyud/classes.txt`` of fcn.berkeleyvision.org: the 40 classes in model
#: output order (label 1..40 in the ``.mat`` files; 0 is void). The spelling is the
#: reference's.
CLASSES = (
    'wall', 'floor', 'cabinet', 'bed', 'chair', 'sofa', 'table', 'door', 'window',
    'bookshelf', 'picture', 'counter', 'blinds', 'desk', 'shelves', 'curtain',
    'dresser', 'pillow', 'mirror', 'floor mat', 'clothes', 'ceiling', 'books',
    'refridgerator', 'television', 'paper', 'towel', 'shower curtain', 'box',
    'whiteboard', 'person', 'night stand', 'toilet', 'sink', 'lamp', 'bathtub', 'bag',
    'otherstructure', 'otherfurniture', 'otherprop')
#: Split lists in ``data_root`` (the reference ships train 381, val 414, test 654
#: ids); ``trainval`` is read from ``trainval.txt`` when present, else it is the
#: union of train and val (795, the paper's training set).
SPLITS = ('train', 'val', 'test', 'trainval')
UNIONS = {'trainval': ('train', 'val')}
#: Where each modality's images are, under ``data_root``.
MODALITY_DIRS = {'color': 'data/images', 'hha': 'data/hha', 'depth': 'data/depth'}
LABEL_DIR = 'segmentation'
#: The key of the label map in ``segmentation/img_<id>.mat``.
MAT_KEY = 'segmentation'

LAYOUT = """\
  <data_root>/                       (nyud.tar.gz of fcn.berkeleyvision.org)
    data/images/img_<id>.png         colour
    data/hha/img_<id>.png            HHA (8-bit, 3 channels)
    data/depth/img_<id>.png          depth (16-bit, millimetres)
    segmentation/img_<id>.mat        key 'segmentation': 0 void, 1..40
    train.txt val.txt test.txt       (data/nyud/*.txt of fcn.berkeleyvision.org)"""


def load_nyud_segmentation(data: bytes, key: str = MAT_KEY) -> np.ndarray:
    """The label map of an NYUDv2 ``segmentation/img_<id>.mat``, as stored.

    Args:
        data (bytes): The file's bytes.
        key (str): The variable holding the map. Defaults to ``'segmentation'``.

    Returns:
        np.ndarray: ``(H, W)`` uint8, 0 void and 1..40 the classes (the dataset's
        ``reduce_zero_label`` turns these into 255 and 0..39).

    Raises:
        ValueError: No such variable, or it is not a 2-D integer map in 0..255.
    """
    seg = load_mat_integer_map(data, key, repr(key),
                               'not an NYUDv2 segmentation/img_<id>.mat label')
    return _to_uint8(seg, repr(key))


def sample_stem(sample_id: str) -> str:
    """File stem of an id: ``'5001'`` -> ``'img_5001'``."""
    return f'img_{sample_id}'


@DATASETS.register_module()
class NYUDv2Dataset(StrictSegDataset):
    """NYUDv2 semantic segmentation (40 classes) with colour, HHA and depth.

    Reads the layout of the reference's prepared ``nyud.tar.gz`` in place (see
    :data:`LAYOUT`), with the reference split lists ``train.txt`` (381 ids),
    ``val.txt`` (414) and ``test.txt`` (654) in ``data_root``. ``trainval`` (the
    FCN paper's 795 training images) is ``trainval.txt`` when it exists, else the
    union of train and val. Labels: the ``segmentation`` variable of
    ``segmentation/img_<id>.mat``, 0 void -> 255 and 1..40 -> 0..39
    (``reduce_zero_label``, as ``nyud_layers.load_label``).

    ``img_path`` is always the colour image (drawn by the visualizer, and the name
    of test outputs); each data info also holds ``modality_paths`` for the
    ``modalities`` the model reads, ``modalities`` and ``sample_id``.
    Load them with ``dict(type='LoadMultiModalImageFromFiles')``.

    Every listed id must have its colour image, label and modality images; any
    missing file is an error listing them (see :class:`StrictSegDataset`).

    Args:
        split (str): One of :data:`SPLITS`. Defaults to ``'trainval'``.
        modalities (Sequence[str]): Modalities the model reads, in stacking order:
            ``('color', )``, ``('hha', )``, ``('color', 'depth')``,
            ``('color', 'hha')``, ... Defaults to ``('color', )``.
        ann_file (str, optional): Id list overriding the split's (one id per
            line, relative to ``data_root`` unless absolute).
        reduce_zero_label (bool): Defaults to True (void 0 -> 255).
        **kwargs: Other ``BaseSegDataset`` arguments (``data_root``, ``pipeline``,
            ``lazy_init``, ...).

    Example:
        >>> ds = NYUDv2Dataset(data_root='data/nyud', split='test', lazy_init=True)
        >>> len(ds.metainfo['classes']), ds.metainfo['classes'][:3]
        (40, ('wall', 'floor', 'cabinet'))
    """
    METAINFO = dict(classes=CLASSES, palette=generated_palette(len(CLASSES)))

    def __init__(self,
                 split: str = 'trainval',
                 modalities: Sequence[str] = ('color', ),
                 ann_file: Optional[str] = None,
                 reduce_zero_label: bool = True,
                 **kwargs) -> None:
        if split not in SPLITS:
            raise ValueError(f'split must be one of {SPLITS}, got {split!r}')
        self.split = split
        self.modalities = check_modalities(modalities)
        super().__init__(ann_file=ann_file or '', img_suffix='.png',
                         seg_map_suffix='.mat', reduce_zero_label=reduce_zero_label,
                         **kwargs)

    def _path(self, *parts: str) -> str:
        return osp.join(self.data_root or '', *parts)

    def _split_ids(self) -> Tuple[List[str], List[Problem]]:
        if self.ann_file:
            if not osp.isfile(self.ann_file):
                return [], [missing_path_problem(self.ann_file, LAYOUT, 'list file')]
            return iter_ids(self.ann_file), []
        own = self._path(f'{self.split}.txt')
        if osp.isfile(own) or self.split not in UNIONS:
            if not osp.isfile(own):
                return [], [missing_path_problem(own, LAYOUT, 'list file')]
            return iter_ids(own), []
        lists = [self._path(f'{part}.txt') for part in UNIONS[self.split]]
        missing = [missing_path_problem(p, LAYOUT, 'list file') for p in lists
                   if not osp.isfile(p)]
        if missing:
            return [], missing
        return list(dict.fromkeys(i for p in lists for i in iter_ids(p))), []

    def list_samples(self) -> Tuple[List[dict], List[Problem]]:
        """Resolve the split's ids to their colour, modality and label files.

        Returns:
            tuple[list[dict], list[Problem]]: Data infos of the complete samples
            and every listing problem.
        """
        if self.data_root and not osp.isdir(self.data_root):
            return [], [missing_path_problem(self.data_root, LAYOUT, 'data_root folder')]
        dirs = {'color': self._path(MODALITY_DIRS['color'])}
        dirs.update({m: self._path(MODALITY_DIRS[m]) for m in self.modalities})
        dirs['label'] = self._path(LABEL_DIR)
        problems = [missing_path_problem(d, LAYOUT) for d in dirs.values()
                    if not osp.isdir(d)]
        ids, list_problems = self._split_ids()
        problems += list_problems
        if problems:
            return [], problems
        decoder = functools.partial(load_nyud_segmentation, key=MAT_KEY)
        data_list, problems = [], []
        for sample_id in ids:
            stem = sample_stem(sample_id)
            files = {name: osp.join(d, stem + ('.mat' if name == 'label' else '.png'))
                     for name, d in dirs.items()}
            absent = [f for f in files.values() if not osp.isfile(f)]
            if absent:
                problems.append(Problem(
                    'listed id with missing files',
                    f'{sample_id}: missing {", ".join(absent)}', sample_id))
                continue
            data_list.append(dict(
                img_path=files['color'],
                seg_map_path=files['label'],
                seg_map_decoder=decoder,
                modality_paths={m: files[m] for m in self.modalities},
                modalities=self.modalities,
                sample_id=sample_id,
                label_map=self.label_map,
                reduce_zero_label=self.reduce_zero_label,
                seg_fields=[]))
        if not data_list and not problems:
            problems.append(Problem('no samples',
                                    f'the id list of split {self.split!r} is empty'))
        return data_list, problems

    def pipeline_problems(self, data_list: List[dict]) -> List[Problem]:
        """Also: the pipeline must load this dataset's modalities."""
        problems = super().pipeline_problems(data_list)
        transforms = list(_walk_transforms(self.pipeline.transforms))
        loaders = [t for t in transforms if isinstance(t, LoadMultiModalImageFromFiles)]
        if transforms and not loaders:
            problems.append(Problem(
                'pipeline cannot read modalities',
                f'{type(self).__name__} with modalities {self.modalities} needs '
                "dict(type='LoadMultiModalImageFromFiles') in the pipeline "
                '(instead of LoadImageFromFile)'))
        elif loaders[0].modalities not in (None, self.modalities):
            problems.append(Problem(
                'pipeline cannot read modalities',
                f'the pipeline loads modalities {loaders[0].modalities} but the '
                f'dataset has {self.modalities}; leave the loader\'s modalities '
                'unset to take the dataset\'s'))
        return problems
