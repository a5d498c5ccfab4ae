"""The FCN paper's four segmentation scores from one confusion matrix.

Definitions follow the reference ``score.py`` of the FCN code, with ``hist`` the
confusion matrix over the whole evaluation set (rows: ground truth, columns:
prediction; ignored pixels excluded)::

    aAcc  = diag.sum() / hist.sum()                      pixel accuracy
    Acc   = diag / hist.sum(1);    mAcc = nanmean(Acc)   mean per-class accuracy
    IoU   = diag / (hist.sum(1) + hist.sum(0) - diag);   mIoU = nanmean(IoU)
    freq  = hist.sum(1) / hist.sum()
    fwIoU = (freq[freq > 0] * IoU[freq > 0]).sum()       frequency-weighted IoU
"""
import os
import os.path as osp
import warnings
from collections import OrderedDict
from typing import Dict, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.dist import is_main_process
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log
from mmseg.registry import METRICS

from ..visualization.palette import label_image

ArrayLike = Union[np.ndarray, torch.Tensor]


def confusion_matrix(pred: ArrayLike,
                     label: ArrayLike,
                     num_classes: int,
                     ignore_index: int = 255) -> np.ndarray:
    """Confusion matrix of one prediction, as ``score.py``'s ``fast_hist``.

    Pixels whose label is the ignore index or outside ``0..num_classes-1`` are
    left out.

    Args:
        pred (np.ndarray | torch.Tensor): Predicted class per pixel.
        label (np.ndarray | torch.Tensor): Ground truth, same shape.
        num_classes (int): Number of classes.
        ignore_index (int): Label value to leave out. Defaults to 255.

    Returns:
        np.ndarray: (num_classes, num_classes) int64, ``hist[gt, pred]``.

    Example:
        >>> confusion_matrix(np.array([0, 1, 1]), np.array([0, 1, 255]), 2)
        array([[1, 0],
               [0, 1]])
    """
    pred = torch.as_tensor(pred)
    label = torch.as_tensor(label).to(pred.device)
    if pred.shape != label.shape:
        raise ValueError(f'prediction shape {tuple(pred.shape)} differs from '
                         f'the ground truth shape {tuple(label.shape)}')
    pred = pred.reshape(-1).long()
    label = label.reshape(-1).long()
    keep = (label >= 0) & (label < num_classes) & (label != ignore_index)
    pred, label = pred[keep], label[keep]
    if pred.numel() and (pred.min() < 0 or pred.max() >= num_classes):
        raise ValueError(f'predicted classes must be in 0..{num_classes - 1}')
    hist = torch.bincount(label * num_classes + pred,
                          minlength=num_classes**2)
    return hist.reshape(num_classes, num_classes).cpu().numpy().astype(np.int64)


def fcn_scores(hist: np.ndarray) -> Dict[str, Union[float, np.ndarray]]:
    """The FCN scores of a confusion matrix (fractions, not percentages).

    Args:
        hist (np.ndarray): (C, C) confusion matrix, rows ground truth.

    Returns:
        dict: ``aAcc``, ``mAcc``, ``mIoU``, ``fwIoU`` (floats) and per-class
        ``Acc`` and ``IoU`` (arrays; NaN for a class with no pixel in the ground
        truth (Acc) or in both ground truth and prediction (IoU)).

    Example:
        >>> s = fcn_scores(np.array([[3, 1], [0, 2]]))
        >>> round(s['aAcc'], 4), round(s['mIoU'], 4)
        (0.8333, 0.7083)
    """
    hist = np.asarray(hist, dtype=np.float64)
    diag = np.diag(hist)
    gt = hist.sum(1)
    total = hist.sum()
    with np.errstate(divide='ignore', invalid='ignore'), \
            warnings.catch_warnings():
        warnings.simplefilter('ignore', RuntimeWarning)  # nanmean of all-NaN
        acc = diag.sum() / total
        acc_cls = diag / gt
        iou = diag / (gt + hist.sum(0) - diag)
        freq = gt / total
        mean_acc = np.nanmean(acc_cls)
        mean_iou = np.nanmean(iou)
    fw_iou = (freq[freq > 0] * iou[freq > 0]).sum() if total else np.nan
    return OrderedDict(
        aAcc=float(acc), mAcc=float(mean_acc), mIoU=float(mean_iou),
        fwIoU=float(fw_iou), Acc=acc_cls, IoU=iou)


@METRICS.register_module()
class FCNMetric(BaseMetric):
    """Pixel accuracy, mean accuracy, mean IoU and frequency-weighted IoU.

    The four numbers of the FCN paper, computed from ONE confusion matrix summed
    over the whole evaluation set (:func:`fcn_scores`), plus the IoU (Jaccard
    index) of every class. Values are percentages rounded to 2 decimals, as
    mmseg's ``IoUMetric`` reports them, with which ``aAcc``, ``mAcc``, ``mIoU``
    and the per-class IoU agree.

    Each sample's confusion matrix is kept as one result, so under distributed
    evaluation mmengine gathers them from all ranks and drops the samples the
    sampler padded before they are summed: the total is exact.

    Keys: ``aAcc``, ``mAcc``, ``mIoU``, ``fwIoU`` and ``IoU.<class>``; a per-class
    table (IoU, Acc) is logged.

    It takes the arguments of mmseg's ``IoUMetric`` that mmseg's tools set
    (``output_dir``, ``format_only``, ``keep_results``, ``prefix``), with the same
    meaning, so mmseg's stock ``tools/test.py --out DIR`` works with it.

    Args:
        ignore_index (int): Label value left out. Defaults to 255.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        output_dir (str, optional): Also write every prediction there as a palette
            PNG named after its image (or its ``sample_id`` where the data
            samples carry one, e.g. NYUDv2's ``5001``), pixel value = class index
            (plus 1 for a dataset with ``reduce_zero_label``, as ``IoUMetric``
            writes them). Defaults to None.
        format_only (bool): Only write the predictions to ``output_dir`` and
            compute no metric, e.g. for a test set without ground truth (needs
            ``output_dir``). Defaults to False.
        keep_results (bool): Set by mmseg's ``tools/test.py --out``; the PNGs in
            ``output_dir`` are always kept (``IoUMetric`` accepts and ignores it
            too). Defaults to False.
        prefix (str, optional): Prefix of the metric names (``'<prefix>/mIoU'``).
            Defaults to None: the plain names, which the configs' ``save_best``
            refer to.
        **kwargs: Other ``BaseMetric`` arguments (``collect_dir``).

    Example:
        >>> val_evaluator = dict(type='FCNMetric')
    """
    #: No prefix unless one is given (``''``, not None: mmengine warns on None).
    default_prefix: Optional[str] = ''

    def __init__(self,
                 ignore_index: int = 255,
                 collect_device: str = 'cpu',
                 output_dir: Optional[str] = None,
                 format_only: bool = False,
                 keep_results: bool = False,
                 prefix: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix, **kwargs)
        if format_only and output_dir is None:
            raise ValueError('FCNMetric(format_only=True) writes the predictions '
                             'and nothing else: it needs output_dir')
        self.ignore_index = ignore_index
        self.output_dir = output_dir
        self.format_only = format_only
        self.keep_results = keep_results
        if output_dir is not None and is_main_process():
            os.makedirs(output_dir, exist_ok=True)

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Add the confusion matrix of every sample of a batch.

        Args:
            data_batch (dict): Unused.
            data_samples (Sequence[dict]): Model outputs with ``pred_sem_seg``
                and ``gt_sem_seg`` (each ``{'data': (1, H, W) tensor}``; no
                ``gt_sem_seg`` needed with ``format_only``).
        """
        num_classes = len(self.dataset_meta['classes'])
        for sample in data_samples:
            pred = sample['pred_sem_seg']['data'].squeeze()
            if not self.format_only:
                label = sample['gt_sem_seg']['data'].squeeze()
                self.results.append(
                    confusion_matrix(pred, label, num_classes, self.ignore_index))
            if self.output_dir is not None:
                # named by the sample's id where the dataset packs one (NYUDv2:
                # '5001' for img_5001.png, as the reference score.py names them)
                self._save_prediction(pred, sample.get('sample_id') or sample['img_path'],
                                      sample.get('reduce_zero_label', False))

    def _save_prediction(self, pred: torch.Tensor, img_path: str,
                         reduce_zero_label: bool = False) -> None:
        """Write ``pred`` as a palette PNG ``<output_dir>/<image stem>.png``."""
        palette = list(self.dataset_meta.get('palette') or [])
        label = pred.cpu().numpy()
        if reduce_zero_label:  # back to the dataset's own label values
            label, palette = label + 1, [(0, 0, 0)] + palette
        stem = osp.splitext(osp.basename(img_path))[0]
        label_image(label, palette).save(osp.join(self.output_dir, stem + '.png'))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Sum the per-sample confusion matrices and score them.

        Args:
            results (list[np.ndarray]): Per-sample confusion matrices, from all
                ranks.

        Returns:
            dict[str, float]: Percentages.
        """
        if self.format_only:
            print_log(f'format_only: predictions written to {self.output_dir}; '
                      'no metrics computed', logger='current')
            return OrderedDict()
        classes = self.dataset_meta['classes']
        hist = np.sum(np.stack(results), axis=0) if results else np.zeros(
            (len(classes), len(classes)), dtype=np.int64)
        return scores_to_metrics(fcn_scores(hist), classes)


def scores_to_metrics(scores: dict, classes: Sequence[str],
                      log: bool = True) -> Dict[str, float]:
    """Format :func:`fcn_scores` as percentages and log a per-class table.

    Args:
        scores (dict): Output of :func:`fcn_scores`.
        classes (Sequence[str]): Class names.
        log (bool): Log the per-class table. Defaults to True.

    Returns:
        dict[str, float]: ``aAcc``, ``mAcc``, ``mIoU``, ``fwIoU``,
        ``IoU.<class>``.
    """

    def pct(x):
        return np.round(np.asarray(x, dtype=np.float64) * 100, 2)

    metrics = OrderedDict(
        (k, float(pct(scores[k]))) for k in ('aAcc', 'mAcc', 'mIoU', 'fwIoU'))
    iou, acc = pct(scores['IoU']), pct(scores['Acc'])
    for name, value in zip(classes, iou):
        metrics[f'IoU.{name}'] = float(value)
    if log:
        from prettytable import PrettyTable
        table = PrettyTable()
        table.add_column('Class', list(classes))
        table.add_column('IoU', iou.tolist())
        table.add_column('Acc', acc.tolist())
        logger: MMLogger = MMLogger.get_current_instance()
        print_log('per class results:', logger)
        print_log('\n' + table.get_string(), logger=logger)
    return metrics
