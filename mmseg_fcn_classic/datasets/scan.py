"""Scan a whole dataset: every file read once, every problem reported.

:func:`scan_dataset` reads every sample of a dataset, collects *all* problems in one
pass and counts per-class pixels; :class:`ScanReport` prints the result.
``tools/check_dataset.py`` is its command line.
"""
import copy
import os.path as osp
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import List, Tuple

import numpy as np

from ..models.utils.heads import head_fields
from .base import _walk_transforms
from .head_annotations import LoadHeadAnnotations
from .modalities import LoadMultiModalImageFromFiles
from .transforms import LoadFCNAnnotations
from .validation import (Problem, SampleError, image_size_problem, label_histogram,
                         seg_map_problems)


@dataclass
class ScanReport:
    """What :func:`scan_dataset` found.

    Attributes:
        classes (tuple): Class names.
        ignore_index (int): The ignored label.
        num_samples (int): Samples listed (complete image/mask pairs scanned).
        problems (list[Problem]): Every problem found.
        histogram (np.ndarray): Pixel count per label value 0..255, after label
            mapping (void counted under the ignore index).
    """
    classes: Tuple[str, ...]
    ignore_index: int = 255
    num_samples: int = 0
    problems: List[Problem] = field(default_factory=list)
    histogram: np.ndarray = field(
        default_factory=lambda: np.zeros(256, dtype=np.int64))

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    def merge(self, other: 'ScanReport') -> 'ScanReport':
        """Add ``other`` (same classes) into this report and return it."""
        self.num_samples += other.num_samples
        self.problems.extend(other.problems)
        self.histogram = self.histogram + other.histogram
        return self

    def class_frequencies(self) -> 'OrderedDict[str, Tuple[int, float]]':
        """Pixels and fraction of labelled (non-ignored) pixels per class."""
        n = len(self.classes)
        counts = self.histogram[:n]
        total = counts.sum()
        return OrderedDict(
            (name, (int(c), float(c) / total if total else float('nan')))
            for name, c in zip(self.classes, counts))

    def format(self) -> str:
        """Human-readable report: problem counts, every problem, frequencies."""
        lines = [f'scanned {self.num_samples} samples: '
                 f'{len(self.problems)} problem(s)']
        if self.problems:
            for kind, count in Counter(p.kind for p in self.problems).items():
                lines.append(f'  {kind}: {count}')
            lines.append('problems:')
            lines.extend('  [' + p.kind + '] ' + p.message.replace('\n', '\n    ')
                         for p in self.problems)
        lines.append('per-class pixel frequencies (ignored pixels excluded):')
        width = max([len(c) for c in self.classes] + [5])
        lines.append(f'  {"class":<{width}}  {"pixels":>12}  {"freq":>7}')
        for name, (pixels, freq) in self.class_frequencies().items():
            lines.append(f'  {name:<{width}}  {pixels:>12d}  {freq:>7.2%}')
        n = len(self.classes)
        ignored = int(self.histogram[self.ignore_index]) \
            if 0 <= self.ignore_index < 256 else 0
        total = int(self.histogram.sum())
        share = f' ({ignored / total:.2%} of all pixels)' if total else ''
        lines.append(f'  ignored (label {self.ignore_index}): {ignored} px{share}')
        invalid = int(self.histogram[n:].sum()) - (
            ignored if self.ignore_index >= n else 0)
        if invalid:
            lines.append(f'  invalid label values: {invalid} px')
        return '\n'.join(lines)


def _sample_files(info: dict) -> str:
    return (f"image {info.get('img_path')}, "
            f"mask {info.get('seg_map_path')}")


def scan_dataset(dataset, progress: bool = True) -> ScanReport:
    """Read every sample of ``dataset`` and report all problems in one pass.

    Listing problems (missing folders, unpaired images or masks) are collected
    without raising, then every complete pair is decoded exactly once: the image
    as ``LoadImageFromFile`` reads it (every modality, as
    ``LoadMultiModalImageFromFiles`` does, where the sample has several), the label
    with
    :class:`~mmseg_fcn_classic.datasets.transforms.LoadFCNAnnotations` (applying
    the dataset's label map, e.g. void to 255), and the label map is checked
    against the image size and the classes. A file larger than PIL's
    ``Image.MAX_IMAGE_PIXELS`` (read from its header) is reported and not
    decoded. The label maps of other heads (``<head>_seg_map_path``, e.g. SIFT
    Flow's geometric labels) are read with
    :class:`~mmseg_fcn_classic.datasets.head_annotations.LoadHeadAnnotations` and
    checked against the image size and ``<head>_classes``; the frequencies are
    the primary labels'. Nothing stops at the first problem.

    Args:
        dataset: A segmentation dataset, ideally built with ``lazy_init=True``.
            Datasets of this package are listed with ``list_samples()`` so that
            listing problems are reported instead of raised; other mmseg datasets
            are fully initialised and scanned the same way.
        progress (bool): Show mmengine's progress bar. Defaults to True.

    Returns:
        ScanReport: Problems and per-class pixel counts.
    """
    from mmcv.transforms import LoadImageFromFile

    classes = tuple(dataset.metainfo.get('classes', ()))
    ignore_index = getattr(dataset, 'ignore_index', 255)
    report = ScanReport(classes=classes, ignore_index=ignore_index)
    if hasattr(dataset, 'list_samples'):
        infos, problems = dataset.list_samples()
        report.problems.extend(problems)
        if hasattr(dataset, 'pipeline_problems'):
            report.problems.extend(dataset.pipeline_problems(infos))
    else:
        try:
            dataset.full_init()
            infos = [dataset.get_data_info(i) for i in range(len(dataset))]
        except Exception as e:  # noqa: BLE001  (reported; e.g. a symlink loop)
            report.problems.append(Problem('cannot list dataset',
                                           f'{type(e).__name__}: {e}'))
            infos = []
    report.num_samples = len(infos)

    load_img = LoadImageFromFile()
    load_seg = LoadFCNAnnotations()
    # samples of several modalities (NYUDv2): read every modality, as the
    # pipeline's loader does (its depth_fill included)
    pipeline = getattr(getattr(dataset, 'pipeline', None), 'transforms', [])
    load_modalities = next((t for t in _walk_transforms(pipeline)
                            if isinstance(t, LoadMultiModalImageFromFiles)),
                           LoadMultiModalImageFromFiles())
    bar = None
    if progress and infos:
        from mmengine.utils import ProgressBar
        bar = ProgressBar(len(infos))
    for info in infos:
        results = copy.deepcopy(info)
        results.setdefault('seg_fields', [])
        results.setdefault('reduce_zero_label',
                           getattr(dataset, 'reduce_zero_label', False))
        img_shape = seg = None
        # sizes from the headers first: a huge file is reported, not decoded
        img_big = image_size_problem(str(info.get('img_path')), kind='image')
        seg_big = image_size_problem(str(info.get('seg_map_path')), kind='mask')
        report.problems.extend(p for p in (img_big, seg_big) if p is not None)
        if img_big is None:
            try:
                loader = load_modalities if 'modality_paths' in info else load_img
                img_shape = loader(copy.deepcopy(results))['img'].shape[:2]
            except SampleError as e:  # a modality's problems, each with its file
                report.problems.extend(e.problems)
            except Exception as e:  # noqa: BLE001  (report and go on)
                report.problems.append(Problem(
                    'unreadable image',
                    f"{info.get('img_path')}: {type(e).__name__}: {e}",
                    osp.splitext(osp.basename(str(info.get('img_path'))))[0]))
        if seg_big is None:
            try:
                seg = load_seg(results)['gt_seg_map']
            except Exception as e:  # noqa: BLE001
                report.problems.append(Problem(
                    'unreadable mask',
                    f"{info.get('seg_map_path')}: {type(e).__name__}: {e}",
                    osp.splitext(osp.basename(str(info.get('seg_map_path'))))[0]))
        if seg is not None:
            hist = label_histogram(seg) if seg.ndim == 2 else None
            report.problems.extend(seg_map_problems(
                seg, info.get('seg_map_path'), img_shape=img_shape,
                img_path=info.get('img_path'), num_classes=len(classes),
                ignore_index=ignore_index, histogram=hist))
            if hist is not None:
                report.histogram += hist
        for head in _other_heads(info):
            report.problems.extend(_head_problems(
                dataset, head, results, img_shape, ignore_index))
        if bar is not None:
            bar.update()
    if bar is not None:
        print()
    return report


def _other_heads(info: dict) -> List[str]:
    """The heads whose label files a data info names (``<head>_seg_map_path``)."""
    suffix = '_seg_map_path'
    return [key[:-len(suffix)] for key in info
            if key.endswith(suffix) and key != 'seg_map_path']


def _head_problems(dataset, head: str, results: dict, img_shape,
                   ignore_index: int) -> List[Problem]:
    fields = head_fields(head)
    path = results.get(fields.seg_map_path)
    too_large = image_size_problem(str(path), kind='mask')
    if too_large is not None:
        return [too_large]
    try:
        seg = LoadHeadAnnotations(head=head)(copy.deepcopy(results))[fields.seg_map]
    except Exception as e:  # noqa: BLE001  (report and go on)
        return [Problem('unreadable mask', f'{path}: {type(e).__name__}: {e}',
                        osp.splitext(osp.basename(str(path)))[0])]
    classes = dataset.metainfo.get(fields.classes) or ()
    return seg_map_problems(seg, path, img_shape=img_shape,
                            img_path=results.get('img_path'),
                            num_classes=len(classes) or None, ignore_index=ignore_index)


#: Dataset wrappers and the key holding what they wrap.
_WRAPPERS = {
    'ConcatDataset': 'datasets',
    'RepeatDataset': 'dataset',
    'ClassBalancedDataset': 'dataset',
    'MultiImageMixDataset': 'dataset',
}


def leaf_dataset_cfgs(cfg: dict) -> List[dict]:
    """The plain dataset configs inside (possibly nested) dataset wrappers."""
    key = _WRAPPERS.get(cfg.get('type')) if isinstance(cfg.get('type'),
                                                       str) else None
    if key is None:
        return [cfg]
    inner = cfg[key]
    inner = inner if isinstance(inner, (list, tuple)) else [inner]
    return [leaf for c in inner for leaf in leaf_dataset_cfgs(c)]


def scan_dataset_cfg(cfg: dict,
                     progress: bool = True) -> List[Tuple[str, ScanReport]]:
    """Build every dataset of a dataloader's ``dataset`` config and scan it.

    Each plain dataset inside wrappers (``ConcatDataset``, ``RepeatDataset``,
    ...) is built with ``lazy_init=True`` in the current default scope and
    passed to :func:`scan_dataset`. A dataset that cannot even be built becomes
    a report with one ``cannot build dataset`` problem.

    Args:
        cfg (dict): e.g. ``cfg.train_dataloader.dataset``.
        progress (bool): Show progress bars. Defaults to True.

    Returns:
        list[tuple[str, ScanReport]]: A title and a report per dataset.
    """
    from mmseg.registry import DATASETS
    reports = []
    for leaf in leaf_dataset_cfgs(cfg):
        leaf = copy.deepcopy(leaf)
        leaf['lazy_init'] = True
        title = str(leaf.get('type'))
        if leaf.get('split') is not None:
            title += f" (split {leaf['split']!r})"
        if leaf.get('data_root') is not None:
            title += f" in {leaf['data_root']}"
        try:
            dataset = DATASETS.build(leaf)
        except Exception as e:  # noqa: BLE001  (reported, exit code non-zero)
            reports.append((title, ScanReport(
                classes=(), problems=[Problem(
                    'cannot build dataset', f'{type(e).__name__}: {e}')])))
            continue
        reports.append((title, scan_dataset(dataset, progress=progress)))
    return reports
