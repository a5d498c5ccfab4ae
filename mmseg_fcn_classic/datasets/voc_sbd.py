"""PASCAL VOC 2012 + SBD, each read in place from its official archive's layout."""
import logging
import os.path as osp
from typing import Dict, List, Optional, Tuple

from mmengine.logging import print_log
from mmseg.datasets import PascalVOCDataset
from mmseg.registry import DATASETS

from .base import StrictSegDataset, list_stems
from .validation import Problem, iter_ids, missing_path_problem

#: The FCN paper's validation list, looked up in ``data_root``.
SEG11VALID_FILE = 'seg11valid.txt'

#: Per split, the id lists it reads from each source it needs (``voc``: VOC2012's
#: ``ImageSets/Segmentation``, ``sbd``: SBD's root). A source that is not needed
#: but present on disk still serves the ids it annotates (VOC winning overlaps).
#: ``trainaug`` is (VOC train | SBD train | SBD val) - VOC val; ``seg11valid``
#: reads its ids from its own list file.
SPLIT_LISTS: Dict[str, Dict[str, Tuple[str, ...]]] = {
    'trainaug': dict(voc=('train', 'val'), sbd=('train', 'val')),
    'train': dict(voc=('train', )),
    'val': dict(voc=('val', )),
    'sbd_train': dict(sbd=('train', )),
    'sbd_val': dict(sbd=('val', )),
    'seg11valid': dict(voc=()),
}
SPLITS = tuple(SPLIT_LISTS)

LAYOUT = """\
  <data_root>/
    {voc}/            (VOCtrainval_11-May-2012.tar)
      JPEGImages/<id>.jpg
      SegmentationClass/<id>.png     palette PNG: 0..20, 255 = boundary (ignored)
      ImageSets/Segmentation/train.txt, val.txt
    {sbd}/            (SBD benchmark.tgz)
      img/<id>.jpg
      cls/<id>.mat                   MATLAB struct GTcls, field Segmentation
      train.txt, val.txt"""


@DATASETS.register_module()
class PascalVOCSBDDataset(StrictSegDataset):
    """PASCAL VOC 2012 segmentation with the SBD extra annotations, read in place.

    Unpack ``VOCtrainval_11-May-2012.tar`` (giving ``VOCdevkit/VOC2012``) and the
    SBD ``benchmark.tgz`` (giving ``benchmark_RELEASE/dataset``) into one folder and
    point ``data_root`` at it. No conversion step: VOC labels are read from their
    palette PNGs and SBD labels from their ``cls/*.mat`` files, which needs
    ``dict(type='LoadFCNAnnotations')`` in the pipeline for the splits that use SBD.

    Splits (ids):

    * ``'trainaug'``: (VOC12 train | SBD train | SBD val) - VOC12 val; 10,582
      images on the real data (mmseg's ``aug`` split).
    * ``'train'`` / ``'val'``: VOC12 ``ImageSets/Segmentation`` lists (1,464 /
      1,449).
    * ``'sbd_train'`` / ``'sbd_val'``: SBD's ``train.txt`` / ``val.txt`` (8,498 /
      2,857); ``sbd_train`` is the FCN paper's training set.
    * ``'seg11valid'``: the FCN paper's 736 images (VOC2011 segmentation val minus
      SBD train). VOC2012 cannot tell which images are from 2011, so this split
      takes the id list from ``ann_file`` (e.g. ``seg11valid.txt`` of the FCN
      reference code) and fails without one.

    An explicit ``ann_file`` (one id per line, relative to ``data_root`` unless
    absolute) overrides the split's list.

    Annotation precedence: where an id has both a VOC ``SegmentationClass`` PNG and
    an SBD ``.mat``, the VOC annotation wins (it is the refined one and carries
    the 255 boundary band); the image is then taken from ``JPEGImages``. Ids only
    annotated by SBD use ``img/`` and ``cls/``. This holds for every split whenever
    the VOC tree is present; ``sbd_train`` / ``sbd_val`` use pure SBD labels only
    when there is no VOC tree.

    Every listed id must have a label and an image, each label the size of its
    image with values 0..20 or 255; violations raise errors naming the files (see
    :class:`StrictSegDataset`).

    Args:
        split (str): One of :data:`SPLITS`. Defaults to ``'trainaug'``.
        voc_dir (str): VOC2012 folder, relative to ``data_root`` unless absolute.
            Defaults to ``'VOCdevkit/VOC2012'``.
        sbd_dir (str): SBD dataset folder, relative to ``data_root`` unless
            absolute. Defaults to ``'benchmark_RELEASE/dataset'``.
        ann_file (str, optional): Id list overriding the split's. For
            ``'seg11valid'`` it defaults to ``<data_root>/seg11valid.txt`` when
            that file exists. Defaults to None.
        img_suffix (str): Defaults to ``'.jpg'``.
        seg_map_suffix (str): Suffix of the VOC labels. Defaults to ``'.png'``.
        fallback_split (str, optional): Split to use instead of ``'seg11valid'``
            when no id list is given or found, e.g. ``'val'`` (logged). Defaults
            to None (an error).
        **kwargs: Other ``BaseSegDataset`` arguments (``data_root``,
            ``pipeline``, ``lazy_init``, ``indices``, ``serialize_data``, ...).

    Example:
        >>> ds = PascalVOCSBDDataset(data_root='data/voc_sbd', split='val',
        ...                          lazy_init=True)  # the real val split has 1,449
        >>> len(ds.metainfo['classes']), ds.metainfo['classes'][:2]
        (21, ('background', 'aeroplane'))
    """
    METAINFO = PascalVOCDataset.METAINFO

    def __init__(self,
                 split: str = 'trainaug',
                 voc_dir: str = 'VOCdevkit/VOC2012',
                 sbd_dir: str = 'benchmark_RELEASE/dataset',
                 ann_file: Optional[str] = None,
                 img_suffix: str = '.jpg',
                 seg_map_suffix: str = '.png',
                 fallback_split: Optional[str] = None,
                 **kwargs) -> None:
        if split not in SPLITS:
            raise ValueError(f'split must be one of {SPLITS}, got {split!r}')
        if split == 'seg11valid' and not ann_file:
            data_root = kwargs.get('data_root') or ''
            if osp.isfile(osp.join(data_root, SEG11VALID_FILE)):
                ann_file = SEG11VALID_FILE
            elif fallback_split is not None:
                print_log(
                    f'no {osp.join(data_root, SEG11VALID_FILE)}: using split '
                    f'{fallback_split!r} instead of seg11valid', logger='current',
                    level=logging.WARNING)
                split = fallback_split
        if split == 'seg11valid' and not ann_file:
            raise ValueError(
                "split 'seg11valid' (the FCN paper's 736 VOC2011 val images not "
                'in SBD train) cannot be derived from VOC2012: pass '
                "ann_file='path/to/seg11valid.txt' (one id per line, e.g. from "
                'the FCN reference code data/pascal/seg11valid.txt)')
        self.split = split
        self.voc_dir = voc_dir
        self.sbd_dir = sbd_dir
        super().__init__(
            ann_file=ann_file or '',
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            **kwargs)

    def _root(self, sub: str) -> str:
        if self.data_root and not osp.isabs(sub):
            return osp.join(self.data_root, sub)
        return sub

    def _source_paths(self) -> Dict[str, Dict[str, str]]:
        voc, sbd = self._root(self.voc_dir), self._root(self.sbd_dir)
        lists = osp.join(voc, 'ImageSets', 'Segmentation')
        return dict(
            voc=dict(root=voc,
                     img=osp.join(voc, 'JPEGImages'),
                     seg=osp.join(voc, 'SegmentationClass'),
                     train=osp.join(lists, 'train.txt'),
                     val=osp.join(lists, 'val.txt'),
                     seg_suffix=self.seg_map_suffix),
            sbd=dict(root=sbd,
                     img=osp.join(sbd, 'img'),
                     seg=osp.join(sbd, 'cls'),
                     train=osp.join(sbd, 'train.txt'),
                     val=osp.join(sbd, 'val.txt'),
                     seg_suffix='.mat'))

    def list_samples(self) -> Tuple[List[dict], List[Problem]]:
        """Resolve the split's ids to (image, label) files of VOC or SBD.

        Returns:
            tuple[list[dict], list[Problem]]: Data infos of the complete samples
            and every listing problem.
        """
        layout = LAYOUT.format(voc=self.voc_dir, sbd=self.sbd_dir)
        paths = self._source_paths()
        if self.data_root and not osp.isdir(self.data_root):
            return [], [missing_path_problem(self.data_root, layout,
                                             'data_root folder')]
        required = () if self.ann_file and self.split != 'seg11valid' \
            else tuple(SPLIT_LISTS[self.split])
        needed_lists = {} if self.ann_file else SPLIT_LISTS[self.split]

        problems, present = [], []
        for name, p in paths.items():
            if not osp.isdir(p['root']):
                if name in required:
                    problems.append(missing_path_problem(p['root'], layout))
                continue  # an optional source that is absent
            present.append(name)
            problems += [missing_path_problem(p[k], layout)
                         for k in ('img', 'seg') if not osp.isdir(p[k])]
            problems += [missing_path_problem(p[k], layout, 'list file')
                         for k in needed_lists.get(name, ())
                         if not osp.isfile(p[k])]
        if self.ann_file and not osp.isfile(self.ann_file):
            problems.append(missing_path_problem(self.ann_file, layout,
                                                 'list file'))
        if not present and not problems:
            problems += [missing_path_problem(p['root'], layout)
                         for p in paths.values()]
        if problems:
            return [], problems

        ids = self._split_ids(paths)
        if not ids:
            return [], [Problem('no samples',
                                f'the id list of split {self.split!r} is empty')]
        files = {
            name: dict(img=list_stems(paths[name]['img'], self.img_suffix),
                       seg=list_stems(paths[name]['seg'],
                                      paths[name]['seg_suffix']))
            for name in present
        }

        data_list, problems = [], []
        for sample_id in ids:
            source = next((name for name in ('voc', 'sbd')
                           if name in files and sample_id in files[name]['seg']),
                          None)
            if source is None:
                images = [osp.join(paths[n]['img'], files[n]['img'][sample_id])
                          for n in files if sample_id in files[n]['img']]
                labels = ' or '.join(
                    osp.join(paths[n]['seg'], sample_id + paths[n]['seg_suffix'])
                    for n in files)
                if images:
                    problems.append(Problem(
                        'image without mask',
                        f'{sample_id}: {images[0]} has no label ({labels})',
                        sample_id))
                else:
                    problems.append(Problem(
                        'listed id without files',
                        f'{sample_id}: neither an image nor a label ({labels})',
                        sample_id))
                continue
            p, f = paths[source], files[source]
            seg_path = osp.join(p['seg'], f['seg'][sample_id])
            if sample_id not in f['img']:
                problems.append(Problem(
                    'mask without image',
                    f'{sample_id}: {seg_path} has no image '
                    f'{osp.join(p["img"], sample_id + self.img_suffix)}',
                    sample_id))
                continue
            data_list.append(dict(
                img_path=osp.join(p['img'], f['img'][sample_id]),
                seg_map_path=seg_path,
                label_source=source,
                label_map=self.label_map,
                reduce_zero_label=self.reduce_zero_label,
                seg_fields=[]))
        return data_list, problems

    def _split_ids(self, paths: Dict[str, Dict[str, str]]) -> List[str]:
        # each list file must be free of repeats (iter_ids raises naming it); the
        # lists trainaug unites legitimately overlap, so their union is de-duplicated
        if self.ann_file:
            return iter_ids(self.ann_file)
        if self.split == 'trainaug':
            excluded = set(iter_ids(paths['voc']['val']))
            pool = dict.fromkeys(
                iter_ids(paths['voc']['train']) + iter_ids(paths['sbd']['train']) +
                iter_ids(paths['sbd']['val']))
            return sorted(i for i in pool if i not in excluded)
        (source, (name, )), = SPLIT_LISTS[self.split].items()
        return iter_ids(paths[source][name])
