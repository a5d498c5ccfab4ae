"""SIFT Flow (Liu et al.), read in place: semantic and geometric labels of each image."""
import io
import os.path as osp
from typing import List, Optional, Tuple

import numpy as np
from mmseg.registry import DATASETS

from ..visualization.palette import generated_palette
from .base import StrictSegDataset, list_stems
from .transforms import load_mat_integer_map
from .validation import Problem, iter_ids, missing_path_problem

#: The 33 semantic classes in model output order (reference
#: ``data/sift-flow/classes.txt``: stored values 1..33, 0 void).
SEMANTIC_CLASSES = (
    'awning', 'balcony', 'bird', 'boat', 'bridge', 'building', 'bus', 'car', 'cow',
    'crosswalk', 'desert', 'door', 'fence', 'field', 'grass', 'moon', 'mountain',
    'person', 'plant', 'pole', 'river', 'road', 'rock', 'sand', 'sea', 'sidewalk',
    'sign', 'sky', 'staircase', 'streetlight', 'sun', 'tree', 'window')
#: The 3 geometric classes (stored values 1..3, -1 void).
GEOMETRIC_CLASSES = ('sky', 'horizontal', 'vertical')
#: Semantic classes with no pixel in the 200 test images (``classes.txt``: "they
#: are excluded from evaluation"; the FCN paper's footnote on Table 5).
ABSENT_FROM_TEST = ('cow', 'desert', 'moon')
#: Colours of the geometric classes.
GEOMETRIC_PALETTE = [[70, 130, 180], [128, 64, 128], [220, 180, 50]]
#: The folder under ``Images``, ``SemanticLabels`` and ``GeoLabels``.
CATEGORY_DIR = 'spatial_envelope_256x256_static_8outdoorcategories'
#: BGR mean of the reference ``siftflow_layers.py`` (the configs' preprocessor).
MEAN_BGR = (114.578, 115.294, 108.353)
SPLITS = ('trainval', 'test')
#: Where the reference's split lists are (2,486 and 200 ids; the two images
#: without annotations, highway_bost181 and street_urb506, are in neither).
SPLIT_LIST_URL = ('https://raw.githubusercontent.com/shelhamer/'
                  'fcn.berkeleyvision.org/master/data/sift-flow/{split}.txt')

LAYOUT = """\
  <data_root>/                                   (SiftFlowDataset.zip unpacked)
    Images/{cat}/<id>.jpg
    SemanticLabels/{cat}/<id>.mat    key 'S': 0 void, 1..33 classes
    GeoLabels/{cat}/<id>.mat         key 'S': -1 void, 1..3 sky, horizontal, vertical
    trainval.txt, test.txt           the reference's split lists:
      {url}""".format(cat=CATEGORY_DIR, url=SPLIT_LIST_URL.format(split='{trainval,test}'))


def _load_s(data: bytes) -> np.ndarray:
    """The 2-D integer array ``S`` of a SIFT Flow label ``.mat`` file."""
    return load_mat_integer_map(data, 'S', "'S'", 'not a SIFT Flow label .mat')


def _check_values(s: np.ndarray, allowed: range, what: str) -> None:
    bad = (s < allowed.start) | (s >= allowed.stop)
    if bad.any():
        values = np.unique(s[bad])[:20].tolist()
        raise ValueError(f"'S' holds values {values} outside {what}")


def load_siftflow_semantic(data: bytes) -> np.ndarray:
    """Semantic labels of a ``SemanticLabels/*.mat`` file, as the reference reads
    them: ``S - 1`` as uint8, so classes 1..33 become 0..32 and void 0 becomes 255.

    Args:
        data (bytes): The file's bytes.

    Returns:
        np.ndarray: (H, W) uint8.

    Raises:
        ValueError: No ``S``, not a 2-D integer map, or values outside 0..33.

    Example:
        >>> from scipy.io import savemat
        >>> f = io.BytesIO(); savemat(f, {'S': np.array([[0, 1, 33]])})
        >>> load_siftflow_semantic(f.getvalue())
        array([[255,   0,  32]], dtype=uint8)
    """
    s = _load_s(data)
    _check_values(s, range(0, len(SEMANTIC_CLASSES) + 1), '0 (void) .. 33')
    return (s - 1).astype(np.uint8)  # 0 - 1 wraps to 255, as uint8 does in Caffe


def load_siftflow_geometric(data: bytes) -> np.ndarray:
    """Geometric labels of a ``GeoLabels/*.mat`` file, as the reference reads them:
    -1 becomes 0, then ``- 1`` as uint8, so sky / horizontal / vertical (1..3)
    become 0..2 and void (-1, and 0 where present) becomes 255.

    Args:
        data (bytes): The file's bytes.

    Returns:
        np.ndarray: (H, W) uint8.

    Raises:
        ValueError: No ``S``, not a 2-D integer map, or values outside -1..3.

    Example:
        >>> from scipy.io import savemat
        >>> f = io.BytesIO(); savemat(f, {'S': np.array([[-1, 1, 2, 3]])})
        >>> load_siftflow_geometric(f.getvalue())
        array([[255,   0,   1,   2]], dtype=uint8)
    """
    s = _load_s(data)
    _check_values(s, range(-1, len(GEOMETRIC_CLASSES) + 1), '-1 (void) .. 3')
    s[s == -1] = 0
    return (s - 1).astype(np.uint8)


@DATASETS.register_module()
class SiftFlowDataset(StrictSegDataset):
    """SIFT Flow: 2,688 outdoor scenes of 256x256 with two labellings, read in
    place from ``SiftFlowDataset.zip`` plus the reference's split lists.

    Layout (``data_root``)::

        Images/spatial_envelope_256x256_static_8outdoorcategories/<id>.jpg
        SemanticLabels/spatial_envelope_256x256_static_8outdoorcategories/<id>.mat
        GeoLabels/spatial_envelope_256x256_static_8outdoorcategories/<id>.mat
        trainval.txt  test.txt

    Every sample carries both label maps, decoded as the reference
    ``siftflow_layers.py`` does: the semantic map (``S - 1``: 33 classes, void
    255) is the primary label ``gt_seg_map``; the geometric map (-1 -> 0, then
    ``- 1``: sky / horizontal / vertical, void 255) is head ``geo``'s
    (``geo_seg_map_path``, loaded by ``dict(type='LoadHeadAnnotations',
    head='geo')`` into ``gt_geo_seg_map``). The meta info has ``classes`` /
    ``palette`` and ``geo_classes`` / ``geo_palette``.

    Splits: ``'trainval'`` (2,486 ids) and ``'test'`` (200), from
    ``<data_root>/<split>.txt``: the lists of the reference's
    ``data/sift-flow/`` (:data:`SPLIT_LIST_URL`), which leave out the two
    images without annotations. The zip has no lists. Cow, desert and moon
    (:data:`ABSENT_FROM_TEST`) have no pixel in the test labels; see
    ``MultiHeadFCNMetric(present_classes_only=True)``.

    Every listed id must have an image and both label files, of the image's
    size and with valid values; violations raise errors naming the files.

    Args:
        split (str): ``'trainval'`` or ``'test'``. Defaults to ``'trainval'``.
        ann_file (str, optional): An id list instead of ``<split>.txt``
            (relative to ``data_root`` unless absolute). Defaults to None.
        img_suffix (str): Defaults to ``'.jpg'``.
        seg_map_suffix (str): Defaults to ``'.mat'``.
        **kwargs: Other ``BaseSegDataset`` arguments (``data_root``,
            ``pipeline``, ``lazy_init``, ``indices``, ``serialize_data``, ...).

    Example:
        >>> ds = SiftFlowDataset(data_root='data/sift-flow', split='test',
        ...                      lazy_init=True)
        >>> len(ds.metainfo['classes']), ds.metainfo['geo_classes']
        (33, ('sky', 'horizontal', 'vertical'))
    """
    METAINFO = dict(
        classes=SEMANTIC_CLASSES,
        palette=generated_palette(len(SEMANTIC_CLASSES) + 1)[1:],  # not black
        geo_classes=GEOMETRIC_CLASSES,
        geo_palette=GEOMETRIC_PALETTE)

    def __init__(self,
                 split: str = 'trainval',
                 ann_file: Optional[str] = None,
                 img_suffix: str = '.jpg',
                 seg_map_suffix: str = '.mat',
                 **kwargs) -> None:
        if split not in SPLITS:
            raise ValueError(f'split must be one of {SPLITS}, got {split!r}')
        if kwargs.get('reduce_zero_label'):
            raise ValueError('SiftFlowDataset decodes the labels itself (void 0 -> '
                             '255, classes 1..33 -> 0..32); reduce_zero_label must '
                             'be False')
        self.split = split
        super().__init__(ann_file=ann_file or '', img_suffix=img_suffix,
                         seg_map_suffix=seg_map_suffix, **kwargs)

    def list_samples(self) -> Tuple[List[dict], List[Problem]]:
        """Resolve the split's ids to an image and two label files each.

        Returns:
            tuple[list[dict], list[Problem]]: Data infos of the complete samples
            and every listing problem.
        """
        root = self.data_root or ''
        if root and not osp.isdir(root):
            return [], [missing_path_problem(root, LAYOUT, 'data_root folder')]
        folders = dict(img=osp.join(root, 'Images', CATEGORY_DIR),
                       sem=osp.join(root, 'SemanticLabels', CATEGORY_DIR),
                       geo=osp.join(root, 'GeoLabels', CATEGORY_DIR))
        list_file = self.ann_file or osp.join(root, f'{self.split}.txt')
        problems = [missing_path_problem(f, LAYOUT) for f in folders.values()
                    if not osp.isdir(f)]
        if not osp.isfile(list_file):
            problems.append(missing_path_problem(
                list_file, LAYOUT, 'list file'))
        if problems:
            return [], problems

        ids = iter_ids(list_file)
        files = dict(img=list_stems(folders['img'], self.img_suffix),
                     sem=list_stems(folders['sem'], self.seg_map_suffix),
                     geo=list_stems(folders['geo'], self.seg_map_suffix))
        kinds = dict(img='image', sem='semantic label', geo='geometric label')
        data_list = []
        for sample_id in ids:
            missing = [k for k in files if sample_id not in files[k]]
            if missing:
                expected = ', '.join(
                    osp.join(folders[k], sample_id + (self.img_suffix if k == 'img'
                                                      else self.seg_map_suffix))
                    for k in missing)
                kind = ('listed id without files' if len(missing) == 3 else
                        'image without mask' if 'img' not in missing else
                        'mask without image')
                problems.append(Problem(
                    kind, f'{sample_id}: no {" / ".join(kinds[k] for k in missing)} '
                    f'({expected})', sample_id))
                continue
            path = {k: osp.join(folders[k], files[k][sample_id]) for k in files}
            data_list.append(dict(
                img_path=path['img'],
                seg_map_path=path['sem'],
                seg_map_decoder=load_siftflow_semantic,
                geo_seg_map_path=path['geo'],
                geo_seg_map_decoder=load_siftflow_geometric,
                label_map=self.label_map,
                reduce_zero_label=False,
                seg_fields=[]))
        return data_list, problems
