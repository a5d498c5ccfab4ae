"""EndoScene / CVC-912 polyp segmentation ("polyps_split7"), read as distributed."""
import os.path as osp
from typing import List, Optional, Sequence, Tuple

from mmseg.registry import DATASETS

from .base import StrictSegDataset, list_stems
from .validation import Problem, iter_ids, missing_path_problem, natural_key

#: Class names of each mask folder; the stored values are the class indices and
#: the void (image border) value is the number of classes. The order follows the
#: EndoScene loaders of the dataset's authors (``masks{N}`` holds N classes with
#: void = N; background 0, polyp 1, lumen 2, specularity 3).
MASK_CLASSES = {
    'masks2': ('background', 'polyp'),
    'masks3': ('background', 'polyp', 'lumen'),
    'masks4': ('background', 'polyp', 'lumen', 'specularity'),
}

#: Display colour per class name.
CLASS_COLORS = {
    'background': [0, 0, 0],
    'polyp': [255, 255, 255],
    'lumen': [128, 64, 128],
    'specularity': [0, 0, 255],
}

SPLITS = ('train', 'valid', 'test')

LAYOUT = """\
  <data_root>/                 (polyps_split7.zip unpacked)
    {train,valid,test}/
      images/<id>.bmp
      masks2/<id>.tif          0 background, 1 polyp, 2 void (image border)
      masks3/, masks4/         3- and 4-class variants (optional)"""


@DATASETS.register_module()
class Polyps912Dataset(StrictSegDataset):
    """EndoScene (CVC-912) colonoscopy frames with polyp masks, as distributed.

    912 frames split by patient into 547 train / 183 valid / 182 test::

        <data_root>/{train,valid,test}/images/<id>.bmp
        <data_root>/{train,valid,test}/masks2/<id>.tif

    Images vary in size. The ``masks2`` labels are 0 background, 1 polyp and 2
    void (the black border around the endoscope's field of view). Void becomes
    ``ignore_index`` (255) on load: the dataset puts ``label_map={2: 255}`` in every
    data info, which mmseg's ``LoadAnnotations`` and ``LoadFCNAnnotations`` both
    apply, so void never counts in the loss or in the metrics, with an ordinary
    pipeline such as ``[dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'), ...]``.

    ``masks3`` / ``masks4`` hold the 3- and 4-class variants
    (:data:`MASK_CLASSES`; void is again the number of classes). Every image must
    have a mask of the same size and vice versa; the label values must be the
    classes or void. Any violation raises an error naming the files (see
    :class:`StrictSegDataset`).

    Args:
        split (str): ``'train'``, ``'valid'`` (or ``'val'``) or ``'test'``.
            Defaults to ``'train'``.
        mask_dir (str): Mask folder inside the split folder. Defaults to
            ``'masks2'``.
        void_value (int, optional): Stored value of the void class, mapped to
            ``ignore_index``. Defaults to None: the number of classes.
        img_suffix (str): Defaults to ``'.bmp'``.
        seg_map_suffix (str): Defaults to ``'.tif'``.
        metainfo (dict, optional): ``classes`` (the names of the stored values
            0..N-1, required for a mask folder not in :data:`MASK_CLASSES`) and
            ``palette``. Defaults to None (from ``mask_dir``).
        data_prefix (dict, optional): ``img_path`` / ``seg_map_path`` relative to
            ``data_root``. Defaults to None: ``<split>/images`` and
            ``<split>/<mask_dir>``.
        ann_file (str): Optional list of ids (file stems) to use instead of every
            image of the split. Defaults to ``''``.
        **kwargs: Other ``BaseSegDataset`` arguments (``data_root``,
            ``pipeline``, ``lazy_init``, ``indices``, ``serialize_data``,
            ``ignore_index``, ...).

    Example:
        >>> ds = Polyps912Dataset(data_root='data/polyps_split7', split='test',
        ...                       lazy_init=True)  # the real test split has 182
        >>> ds.metainfo['classes'], ds.label_map
        (('background', 'polyp'), {2: 255})
    """
    METAINFO = dict(
        classes=MASK_CLASSES['masks2'],
        palette=[CLASS_COLORS[c] for c in MASK_CLASSES['masks2']])

    def __init__(self,
                 split: str = 'train',
                 mask_dir: str = 'masks2',
                 void_value: Optional[int] = None,
                 img_suffix: str = '.bmp',
                 seg_map_suffix: str = '.tif',
                 metainfo: Optional[dict] = None,
                 data_prefix: Optional[dict] = None,
                 lazy_init: bool = False,
                 **kwargs) -> None:
        if split == 'val':
            split = 'valid'
        if split not in SPLITS:
            raise ValueError(f'split must be one of {SPLITS}, got {split!r}')
        metainfo = dict(metainfo or {})
        if 'classes' not in metainfo:
            if mask_dir not in MASK_CLASSES:
                raise ValueError(
                    f'unknown mask folder {mask_dir!r}: pass '
                    'metainfo=dict(classes=(...)) naming the classes stored as '
                    f'0..N-1 (known folders: {sorted(MASK_CLASSES)})')
            metainfo['classes'] = MASK_CLASSES[mask_dir]
        classes = tuple(metainfo['classes'])
        metainfo['classes'] = classes
        if 'palette' not in metainfo:  # an empty palette is drawn at random
            metainfo['palette'] = [CLASS_COLORS[c] for c in classes] if all(
                c in CLASS_COLORS for c in classes) else []
        if void_value is None:
            void_value = len(classes)
        if 0 <= void_value < len(classes):
            raise ValueError(f'void_value={void_value} is class '
                             f'{classes[void_value]!r}; void must not be a class')
        if data_prefix is None:
            data_prefix = dict(img_path=osp.join(split, 'images'),
                               seg_map_path=osp.join(split, mask_dir))
        self.split = split
        self.mask_dir = mask_dir
        self.void_value = void_value
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            metainfo=metainfo,
            data_prefix=data_prefix,
            lazy_init=True,
            **kwargs)
        self.label_map = ({void_value: self.ignore_index}
                          if void_value != self.ignore_index else None)
        self._metainfo['label_map'] = self.label_map
        self._metainfo['void_value'] = void_value
        if not lazy_init:
            self.full_init()

    @classmethod
    def get_label_map(cls, new_classes: Optional[Sequence] = None) -> None:
        """No class remapping: the stored values are the classes in order.

        The void value is mapped to ``ignore_index`` by the instance's
        ``label_map`` instead.
        """
        return None

    def list_samples(self) -> Tuple[List[dict], List[Problem]]:
        """Pair ``images/*.bmp`` with ``<mask_dir>/*.tif`` by file stem.

        Returns:
            tuple[list[dict], list[Problem]]: Data infos of the complete pairs and
            every listing problem.
        """
        img_dir = self.data_prefix['img_path']
        seg_dir = self.data_prefix['seg_map_path']
        if self.data_root and not osp.isdir(self.data_root):
            return [], [missing_path_problem(self.data_root, LAYOUT,
                                             'data_root folder')]
        problems = [missing_path_problem(d, LAYOUT) for d in (img_dir, seg_dir)
                    if not osp.isdir(d)]
        if problems:
            return [], problems
        images = list_stems(img_dir, self.img_suffix)
        masks = list_stems(seg_dir, self.seg_map_suffix)
        if self.ann_file:
            if not osp.isfile(self.ann_file):
                return [], [missing_path_problem(self.ann_file, LAYOUT,
                                                 'list file')]
            ids = list(dict.fromkeys(iter_ids(self.ann_file)))
        else:
            ids = sorted(images.keys() | masks.keys(), key=natural_key)
        if not ids:
            return [], [Problem(
                'no samples', f'no *{self.img_suffix} images in {img_dir} and '
                f'no *{self.seg_map_suffix} masks in {seg_dir}')]

        data_list, problems = [], []
        for sample_id in ids:
            img, seg = images.get(sample_id), masks.get(sample_id)
            img_path = osp.join(img_dir, img or sample_id + self.img_suffix)
            seg_path = osp.join(seg_dir, seg or sample_id + self.seg_map_suffix)
            if img and seg:
                data_list.append(dict(
                    img_path=img_path,
                    seg_map_path=seg_path,
                    label_map=self.label_map,
                    reduce_zero_label=self.reduce_zero_label,
                    seg_fields=[]))
            elif img:
                problems.append(Problem(
                    'image without mask',
                    f'{sample_id}: {img_path} has no mask {seg_path}', sample_id))
            elif seg:
                problems.append(Problem(
                    'mask without image',
                    f'{sample_id}: {seg_path} has no image {img_path}', sample_id))
            else:
                problems.append(Problem(
                    'listed id without files',
                    f'{sample_id} (listed in {self.ann_file}): neither '
                    f'{img_path} nor {seg_path} exists', sample_id))
        return data_list, problems
