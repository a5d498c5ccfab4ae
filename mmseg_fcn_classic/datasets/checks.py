"""Data checks shared by the datasets, the label loader and ``tools/check_dataset.py``.

Everything here reports problems by file name, so a broken sample is never silently
dropped or swapped for another one:

* :class:`Problem` is one finding (a kind plus a message naming the file(s));
  :class:`DatasetError` carries a list of them and formats them grouped by kind,
  with counts and the first few ids of each kind.
* :func:`seg_map_problems` / :func:`check_seg_map` check one decoded label map
  against its image size and the allowed values (the classes plus the ignore index).
* :func:`scan_dataset` reads every sample of a dataset, collects *all* problems in
  one pass and counts per-class pixels; :class:`ScanReport` prints the result.
"""
import copy
import os.path as osp
import re
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Iterable, List, Optional, Sequence, Tuple

import numpy as np

#: How many ids or files an error message lists per kind of problem.
MAX_LISTED = 10


@dataclass(frozen=True)
class Problem:
    """One problem found in a dataset.

    Args:
        kind (str): Short category, e.g. ``'image without mask'``; used to group
            and count problems.
        message (str): Full description naming the file(s) involved.
        sample_id (str, optional): The sample's id (file stem), when there is one.
    """
    kind: str
    message: str
    sample_id: Optional[str] = None


def format_problems(problems: Sequence[Problem],
                    max_listed: int = MAX_LISTED) -> str:
    """Group ``problems`` by kind: a count per kind and up to ``max_listed``
    messages each.

    Args:
        problems (Sequence[Problem]): The problems to describe.
        max_listed (int): Messages shown per kind. Defaults to 10.

    Returns:
        str: A multi-line description.
    """
    by_kind: 'OrderedDict[str, List[Problem]]' = OrderedDict()
    for p in problems:
        by_kind.setdefault(p.kind, []).append(p)
    lines = []
    for kind, items in by_kind.items():
        lines.append(f'{len(items)} x {kind}:')
        for p in items[:max_listed]:
            lines.append('  ' + p.message.replace('\n', '\n  '))
        if len(items) > max_listed:
            lines.append(f'  ... and {len(items) - max_listed} more '
                         f'({len(items)} in total)')
    return '\n'.join(lines)


class DatasetError(ValueError):
    """A dataset that cannot be used as it is on disk.

    Args:
        header (str): First line of the message.
        problems (Sequence[Problem]): What is wrong; listed grouped by kind.
    """

    def __init__(self, header: str, problems: Sequence[Problem] = ()):
        self.problems = list(problems)
        message = header
        if self.problems:
            message += '\n' + format_problems(self.problems)
        super().__init__(message)


class DatasetLayoutError(DatasetError, FileNotFoundError):
    """A root folder, sub-folder or list file is missing."""


class SampleError(DatasetError):
    """One sample could not be loaded, or its label map is invalid."""


def missing_path_problem(path: str, layout: str, what: str = 'folder') -> Problem:
    """A :class:`Problem` for a missing folder or file, showing the expected
    layout."""
    return Problem(f'missing {what}',
                   f'{what} not found: {path}\nexpected layout:\n{layout}')


def natural_key(name: str) -> Tuple:
    """Sort key putting ``'2'`` before ``'10'`` (EndoScene frames are numbered)."""
    return tuple(int(t) if t.isdigit() else t
                 for t in re.split(r'(\d+)', name))


def label_histogram(seg_map: np.ndarray) -> np.ndarray:
    """Pixel count of every label value 0..255 of a uint8 label map."""
    return np.bincount(seg_map.ravel(), minlength=256)[:256]


def seg_map_problems(seg_map: np.ndarray,
                     seg_map_path: str,
                     img_shape: Optional[Sequence[int]] = None,
                     img_path: Optional[str] = None,
                     num_classes: Optional[int] = None,
                     ignore_index: int = 255,
                     histogram: Optional[np.ndarray] = None) -> List[Problem]:
    """Check one decoded label map.

    Args:
        seg_map (np.ndarray): The label map after any label mapping (void to the
            ignore index), as the loss would see it.
        seg_map_path (str): Its file, named in the messages.
        img_shape (Sequence[int], optional): (H, W) of the image. Defaults to None
            (size not checked).
        img_path (str, optional): The image file, named in a size mismatch.
        num_classes (int, optional): Valid labels are ``0..num_classes-1`` plus
            ``ignore_index``. Defaults to None (values not checked).
        ignore_index (int): The ignored label. Defaults to 255.
        histogram (np.ndarray, optional): A precomputed :func:`label_histogram`.

    Returns:
        list[Problem]: Empty when the label map is fine.
    """
    problems = []
    if seg_map.ndim != 2:
        problems.append(Problem(
            'mask not single-channel',
            f'{seg_map_path}: decoded to shape {tuple(seg_map.shape)}; expected '
            'a single-channel map of class indices (H, W). A palette PNG read '
            "through cv2 comes out as colours: read it with 'pillow'."))
        return problems
    if img_shape is not None and tuple(seg_map.shape) != tuple(img_shape[:2]):
        problems.append(Problem(
            'size mismatch',
            f'{seg_map_path}: mask is {seg_map.shape[0]}x{seg_map.shape[1]} '
            f'(HxW) but its image {img_path or ""} is '
            f'{img_shape[0]}x{img_shape[1]}'))
    if num_classes is not None:
        if histogram is None and seg_map.dtype == np.uint8:
            histogram = label_histogram(seg_map)
        if histogram is not None:
            values = np.flatnonzero(histogram)
            counts = histogram[values]
        else:
            values, counts = np.unique(np.asarray(seg_map), return_counts=True)
        valid = ((values >= 0) & (values < num_classes)) | (values == ignore_index)
        if not valid.all():
            shown = ', '.join(f'{v} ({c} px)' for v, c in
                              zip(values[~valid][:20], counts[~valid][:20]))
            problems.append(Problem(
                'invalid label values',
                f'{seg_map_path}: label values {shown} are neither a class '
                f'(0..{num_classes - 1}) nor the ignore index {ignore_index}'))
    return problems


def check_seg_map(seg_map: np.ndarray, seg_map_path: str, **kwargs) -> None:
    """Raise :class:`SampleError` when :func:`seg_map_problems` finds anything.

    Args:
        seg_map (np.ndarray): The label map.
        seg_map_path (str): Its file.
        **kwargs: Passed to :func:`seg_map_problems`.
    """
    problems = seg_map_problems(seg_map, seg_map_path, **kwargs)
    if problems:
        raise SampleError(f'invalid label map {seg_map_path}', problems)


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
    as ``LoadImageFromFile`` reads it, the label with
    :class:`~mmseg_fcn_classic.datasets.transforms.LoadFCNAnnotations` (applying
    the dataset's label map, e.g. void to 255), and the label map is checked
    against the image size and the classes. Nothing stops at the first problem.

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

    from .transforms import LoadFCNAnnotations

    classes = tuple(dataset.metainfo.get('classes', ()))
    ignore_index = getattr(dataset, 'ignore_index', 255)
    report = ScanReport(classes=classes, ignore_index=ignore_index)
    if hasattr(dataset, 'list_samples'):
        infos, problems = dataset.list_samples()
        report.problems.extend(problems)
        if hasattr(dataset, 'pipeline_problems'):
            report.problems.extend(dataset.pipeline_problems(infos))
    else:
        dataset.full_init()
        infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    report.num_samples = len(infos)

    load_img = LoadImageFromFile()
    load_seg = LoadFCNAnnotations()
    bar = None
    if progress and infos:
        from mmengine.utils import ProgressBar
        bar = ProgressBar(len(infos))
    for info in infos:
        results = copy.deepcopy(info)
        results.setdefault('seg_fields', [])
        results.setdefault('reduce_zero_label',
                           getattr(dataset, 'reduce_zero_label', False))
        img_shape = None
        try:
            img_shape = load_img(copy.deepcopy(results))['img'].shape[:2]
        except Exception as e:  # noqa: BLE001  (report and go on)
            report.problems.append(Problem(
                'unreadable image',
                f"{info.get('img_path')}: {type(e).__name__}: {e}",
                osp.splitext(osp.basename(str(info.get('img_path'))))[0]))
        try:
            seg = load_seg(results)['gt_seg_map']
        except Exception as e:  # noqa: BLE001
            report.problems.append(Problem(
                'unreadable mask',
                f"{info.get('seg_map_path')}: {type(e).__name__}: {e}",
                osp.splitext(osp.basename(str(info.get('seg_map_path'))))[0]))
            seg = None
        if seg is not None:
            hist = label_histogram(seg) if seg.ndim == 2 else None
            report.problems.extend(seg_map_problems(
                seg, info.get('seg_map_path'), img_shape=img_shape,
                img_path=info.get('img_path'), num_classes=len(classes),
                ignore_index=ignore_index, histogram=hist))
            if hist is not None:
                report.histogram += hist
        if bar is not None:
            bar.update()
    if bar is not None:
        print()
    return report


def iter_ids(path: str) -> Iterable[str]:
    """Ids of a list file: one per line, blank lines skipped."""
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                yield line.split()[0]


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
