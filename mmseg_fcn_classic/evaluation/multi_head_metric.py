"""The FCN scores of a multi-head segmentor, e.g. SIFT Flow's Table 5 of the paper:
pixel acc., mean acc., mean IU and f.w. IU of the semantic head and the pixel
accuracy of the geometric head, mean IU over the classes present in the test labels."""
import os.path as osp
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
from mmengine.logging import print_log
from mmseg.registry import METRICS

from ..models.utils.heads import check_head_name, head_fields, head_meta
from ..visualization.palette import label_image, resolve_palette
from .metrics import FCNMetric, confusion_matrix, fcn_scores

#: The scores a head can report (:func:`~.metrics.fcn_scores`' keys).
SCORES = ('aAcc', 'mAcc', 'mIoU', 'fwIoU')


def present_class_scores(hist: np.ndarray) -> Tuple[dict, np.ndarray]:
    """:func:`fcn_scores` with mean IU over the classes present in the ground truth.

    A class with no ground-truth pixel has no IU (NaN) rather than 0 when it was
    predicted somewhere: the FCN paper's footnote to Table 5 ("only categories
    present in test"). Mean accuracy already leaves such classes out (their
    accuracy is 0/0) and f.w. IU weighs them by 0, so only ``IoU`` and ``mIoU``
    change.

    Args:
        hist (np.ndarray): (C, C) confusion matrix, rows ground truth.

    Returns:
        tuple[dict, np.ndarray]: The scores and the indices of the classes left
        out (ascending).

    Example:
        >>> scores, absent = present_class_scores(np.array([[3, 1], [0, 0]]))
        >>> absent.tolist(), scores['mIoU'], fcn_scores([[3, 1], [0, 0]])['mIoU']
        ([1], 0.75, 0.375)
    """
    scores = fcn_scores(hist)
    absent = np.flatnonzero(np.asarray(hist).sum(1) == 0)
    iou = np.array(scores['IoU'], dtype=np.float64)
    iou[absent] = np.nan
    present = np.delete(iou, absent)
    scores['IoU'] = iou
    scores['mIoU'] = float(np.nanmean(present)) if np.any(~np.isnan(present)) \
        else float('nan')
    return scores, absent


@METRICS.register_module()
class MultiHeadFCNMetric(FCNMetric):
    """:class:`FCNMetric` for the primary head, plus scores of the other heads.

    The primary head (``pred_sem_seg`` vs ``gt_sem_seg``) gets everything
    :class:`FCNMetric` reports (``aAcc``, ``mAcc``, ``mIoU``, ``fwIoU``,
    ``IoU.<class>``), from one confusion matrix over the whole set. Each head of
    ``heads`` (``pred_<head>_seg`` vs ``gt_<head>_seg``) gets the scores named
    there, as ``<head>.<score>``, from a confusion matrix of its own over its
    classes (``<head>_classes`` of the dataset meta).

    ``present_classes_only`` makes mean IU that of the SIFT Flow table of the FCN
    paper: over the classes with ground-truth pixels in the evaluated set; the
    classes left out are logged by name (:attr:`left_out`). A class absent from
    the labels but predicted somewhere would otherwise count with IU 0.

    With ``output_dir`` (``tools/test.py --out``) each head's labels are written
    too, as ``<image stem>_<head>.png`` next to the primary's ``<stem>.png``
    (with ``format_only``, without scoring).

    Args:
        heads (dict[str, Sequence[str]]): Other heads and their scores, from
            ``aAcc``, ``mAcc``, ``mIoU``, ``fwIoU``. Defaults to None (none).
        present_classes_only (bool): Mean IU of every head over the classes
            present in its ground truth. Defaults to False (every class, as
            ``FCNMetric``).
        **kwargs: :class:`FCNMetric` arguments (``ignore_index``,
            ``output_dir``, ``prefix``, ...).

    Example:
        >>> metric = dict(type='MultiHeadFCNMetric', heads=dict(geo=('aAcc',)),
        ...               present_classes_only=True)  # SIFT Flow, Table 5
    """

    def __init__(self,
                 heads: Optional[Mapping[str, Sequence[str]]] = None,
                 present_classes_only: bool = False,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.heads: Dict[str, Tuple[str, ...]] = {}
        for name, scores in (heads or {}).items():
            check_head_name(name)
            scores = (scores, ) if isinstance(scores, str) else tuple(scores)
            unknown = [s for s in scores if s not in SCORES]
            if unknown or not scores:
                raise ValueError(f'head {name!r}: scores must be some of {SCORES}, '
                                 f'got {scores}')
            self.heads[name] = scores
        self.present_classes_only = present_classes_only
        #: Per head (None: the primary), the class names left out of the last
        #: mean IU (``present_classes_only``).
        self.left_out: Dict[Optional[str], List[str]] = {}

    def _head_classes(self, name: Optional[str]) -> Sequence[str]:
        classes = head_meta(self.dataset_meta, name)['classes']
        if not classes:
            raise ValueError(f'the dataset meta names no classes of head {name!r} '
                             f'({head_fields(name).classes})')
        return classes

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """The primary head as :class:`FCNMetric`, then every other head's
        confusion matrix, kept with the primary's as one result per sample.

        Args:
            data_batch (dict): Unused.
            data_samples (Sequence[dict]): Model outputs with every head's
                prediction and ground truth.
        """
        start = len(self.results)
        super().process(data_batch, data_samples)
        if not self.heads:
            return
        primary = self.results[start:]
        del self.results[start:]
        scoring = not getattr(self, 'format_only', False)  # FCNMetric's option
        if scoring and len(primary) != len(data_samples):
            raise RuntimeError(f'FCNMetric kept {len(primary)} results for '
                               f'{len(data_samples)} samples')
        output_dir = getattr(self, 'output_dir', None)
        for i, sample in enumerate(data_samples):
            result = {None: primary[i]} if scoring else None
            for name in self.heads:
                fields = head_fields(name)
                for key in (fields.pred, fields.gt) if scoring else (fields.pred, ):
                    if key not in sample:
                        raise KeyError(
                            f"{osp.basename(str(sample.get('img_path')))}: no "
                            f'{key} for head {name!r} (a MultiHeadEncoderDecoder '
                            'predicts it; the pipeline packs its labels with '
                            'PackMultiLabelSegInputs)')
                pred = sample[fields.pred]['data'].squeeze()
                if scoring:
                    result[name] = confusion_matrix(
                        pred, sample[fields.gt]['data'].squeeze(),
                        len(self._head_classes(name)), self.ignore_index)
                if output_dir is not None:
                    self._save_head_prediction(pred, sample['img_path'], name,
                                               output_dir)
            if result is not None:
                self.results.append(result)

    def _save_head_prediction(self, pred, img_path: str, name: str,
                              output_dir: str) -> None:
        """Write ``pred`` as a palette PNG ``<output_dir>/<stem>_<name>.png``."""
        meta = head_meta(self.dataset_meta, name)
        palette = resolve_palette(len(meta['classes']), meta)
        stem = osp.splitext(osp.basename(img_path))[0]
        label_image(pred.cpu().numpy(), palette).save(
            osp.join(output_dir, f'{stem}_{name}.png'))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Score the primary head as :class:`FCNMetric`, then the other heads.

        Args:
            results (list): Per sample, the primary's confusion matrix, or a dict
                of every head's (None: the primary).

        Returns:
            dict[str, float]: Percentages; other heads' as ``<head>.<score>``.
        """
        hists = [r[None] if isinstance(r, dict) else r for r in results]
        metrics = super().compute_metrics(hists)
        self.left_out = {}
        if getattr(self, 'format_only', False):
            return metrics
        if self.present_classes_only and hists:
            self._present_only(metrics, None, np.sum(np.stack(hists), axis=0))
        for name, wanted in self.heads.items():
            size = len(self._head_classes(name))
            parts = [r[name] for r in results if isinstance(r, dict)]
            hist = np.sum(np.stack(parts), axis=0) if parts else np.zeros(
                (size, size), np.int64)
            if self.present_classes_only:
                scores = self._present_only({}, name, hist)
            else:
                scores = fcn_scores(hist)
            for score in wanted:
                metrics[f'{name}.{score}'] = float(np.round(scores[score] * 100, 2))
        return metrics

    def _present_only(self, metrics: dict, name: Optional[str],
                      hist: np.ndarray) -> dict:
        """Put the present-classes mean IU of head ``name`` into ``metrics`` and
        log which classes it left out; return the scores."""
        classes = self._head_classes(name)
        scores, absent = present_class_scores(hist)
        self.left_out[name] = [classes[i] for i in absent]
        if 'mIoU' in metrics:
            metrics['mIoU'] = float(np.round(scores['mIoU'] * 100, 2))
        what = 'mean IU' if name is None else f'{name} mean IU'
        if len(absent):
            all_classes = np.round(fcn_scores(hist)['mIoU'] * 100, 2)
            print_log(
                f'{what} over the {len(classes) - len(absent)} of {len(classes)} '
                f'classes present in the ground truth: {scores["mIoU"] * 100:.2f}; '
                f'left out (no ground-truth pixel): '
                f'{", ".join(self.left_out[name])}; over all {len(classes)}: '
                f'{all_classes:.2f}', logger='current')
        return scores
