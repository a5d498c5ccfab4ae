import numpy as np
import pytest
import torch
from mmseg.registry import METRICS
from PIL import Image

from mmseg_fcn_classic.evaluation import confusion_matrix, fcn_scores

CLASSES = ('background', 'a', 'b')

# rows: ground truth, columns: prediction
HIST = np.array([[50, 2, 3],
                 [5, 20, 0],
                 [0, 10, 10]])


def test_fcn_scores_hand_computed():
    s = fcn_scores(HIST)
    # total 100, diagonal 80; gt rows 55 / 25 / 20; predicted columns 55 / 32 / 13
    assert s['aAcc'] == pytest.approx(80 / 100)
    np.testing.assert_allclose(s['Acc'], [50 / 55, 20 / 25, 10 / 20])
    assert s['mAcc'] == pytest.approx((50 / 55 + 20 / 25 + 10 / 20) / 3)
    iou = [50 / (55 + 55 - 50), 20 / (25 + 32 - 20), 10 / (20 + 13 - 10)]
    np.testing.assert_allclose(s['IoU'], iou)
    assert s['mIoU'] == pytest.approx(np.mean(iou))
    assert s['fwIoU'] == pytest.approx(0.55 * iou[0] + 0.25 * iou[1] +
                                       0.20 * iou[2])


def test_fcn_scores_absent_classes():
    hist = np.array([[4, 0, 1], [0, 0, 0], [0, 0, 5]])
    s = fcn_scores(hist)
    # class 1: absent from ground truth and prediction -> NaN, left out of means
    assert np.isnan(s['IoU'][1]) and np.isnan(s['Acc'][1])
    assert s['mIoU'] == pytest.approx((4 / 5 + 5 / 6) / 2)
    assert s['mAcc'] == pytest.approx((4 / 5 + 1) / 2)
    # a class only predicted counts with IoU 0 (as in score.py)
    s = fcn_scores(np.array([[4, 1], [0, 0]]))
    assert s['IoU'][1] == 0 and s['mIoU'] == pytest.approx(0.4)
    assert s['fwIoU'] == pytest.approx(0.8)
    assert np.isnan(fcn_scores(np.zeros((2, 2)))['aAcc'])


def test_confusion_matrix():
    label = np.array([[0, 0, 1], [2, 255, 7]])
    pred = np.array([[0, 1, 1], [1, 2, 0]])
    hist = confusion_matrix(pred, label, 3)
    np.testing.assert_array_equal(hist, [[1, 1, 0], [0, 1, 0], [0, 1, 0]])
    assert hist.dtype == np.int64
    np.testing.assert_array_equal(
        confusion_matrix(torch.from_numpy(pred), torch.from_numpy(label), 3),
        hist)
    with pytest.raises(ValueError, match='shape'):
        confusion_matrix(pred[:1], label, 3)


def _samples(n, num_classes=3, size=(7, 9), seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        gt = rng.integers(0, num_classes, size=size)
        gt[rng.random(size) < 0.2] = 255
        pred = np.where(rng.random(size) < 0.6, gt, rng.integers(0, num_classes,
                                                                 size=size))
        pred[pred == 255] = 0
        out.append(dict(
            pred_sem_seg=dict(data=torch.from_numpy(pred)[None]),
            gt_sem_seg=dict(data=torch.from_numpy(gt)[None])))
    return out


def _metric(type_='FCNMetric', **kwargs):
    metric = METRICS.build(dict(type=type_, **kwargs))
    metric.dataset_meta = dict(classes=CLASSES)
    return metric


def test_fcn_metric_keys_and_values():
    samples = _samples(4)
    metric = _metric()
    metric.process({}, samples)
    assert len(metric.results) == 4
    res = metric.evaluate(4)
    assert list(res) == ['aAcc', 'mAcc', 'mIoU', 'fwIoU', 'IoU.background',
                         'IoU.a', 'IoU.b']
    hist = sum(confusion_matrix(s['pred_sem_seg']['data'][0],
                                s['gt_sem_seg']['data'][0], 3) for s in samples)
    expected = fcn_scores(hist)
    assert res['mIoU'] == pytest.approx(round(expected['mIoU'] * 100, 2))
    assert res['fwIoU'] == pytest.approx(round(expected['fwIoU'] * 100, 2))
    assert res['IoU.b'] == pytest.approx(round(expected['IoU'][2] * 100, 2))


@pytest.mark.parametrize('seed', [0, 1])
def test_agrees_with_mmseg_iou_metric(seed):
    samples = _samples(5, seed=seed)
    ours, theirs = _metric(), _metric('IoUMetric')
    ours.process({}, samples)
    theirs.process({}, samples)
    a, b = ours.evaluate(5), theirs.evaluate(5)
    for key in ('aAcc', 'mAcc', 'mIoU'):
        assert a[key] == pytest.approx(b[key], abs=1e-6), key


def test_agrees_with_mmseg_iou_metric_per_class():
    from mmseg.evaluation import IoUMetric
    samples = _samples(3)
    parts = [IoUMetric.intersect_and_union(s['pred_sem_seg']['data'][0],
                                           s['gt_sem_seg']['data'][0], 3, 255)
             for s in samples]
    inter, union = sum(p[0] for p in parts), sum(p[1] for p in parts)
    metric = _metric()
    metric.process({}, samples)
    res = metric.evaluate(3)
    for k, name in enumerate(CLASSES):
        assert res[f'IoU.{name}'] == pytest.approx(
            round(float(inter[k] / union[k]) * 100, 2))


def test_two_rank_merge_is_exact():
    """Per-sample matrices collected from two ranks sum to the single-process
    result; the sampler's padded duplicates are dropped by ``size``."""
    samples = _samples(7, seed=3)
    single = _metric()
    single.process({}, samples)
    expected = single.compute_metrics(single.results)

    rank0, rank1 = _metric(), _metric()
    rank0.process({}, samples[0::2])  # mmengine's DefaultSampler interleaves
    rank1.process({}, samples[1::2] + samples[:1])  # padded to equal length
    gathered = [r for pair in zip(rank0.results, rank1.results) for r in pair]
    assert len(gathered) == 8
    assert rank0.compute_metrics(gathered[:7]) == expected
    assert rank0.compute_metrics(gathered) != expected  # the duplicate counts

    padded = _metric()
    padded.process({}, samples + samples[:1])
    assert padded.evaluate(7) == expected


def test_ignore_index_argument():
    gt = torch.tensor([[0, 1], [2, 2]])
    pred = torch.tensor([[0, 0], [1, 1]])
    metric = _metric(ignore_index=2)
    metric.process({}, [dict(pred_sem_seg=dict(data=pred[None]),
                             gt_sem_seg=dict(data=gt[None]))])
    res = metric.evaluate(1)
    assert res['aAcc'] == 50.0 and res['IoU.a'] == 0.0
    assert np.isnan(res['IoU.b'])


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_confusion_matrix_on_gpu():
    sample = _samples(1)[0]
    pred, gt = sample['pred_sem_seg']['data'], sample['gt_sem_seg']['data']
    np.testing.assert_array_equal(
        confusion_matrix(pred.cuda(), gt.cuda(), 3), confusion_matrix(pred, gt, 3))


def test_iou_metric_arguments_of_mmseg_tools(tmp_path, monkeypatch):
    """What mmseg's stock ``tools/test.py --out DIR`` sets on the evaluator:
    ``output_dir`` and ``keep_results``; no warning about the prefix."""
    import mmengine.evaluator.metric as metric_module
    logged = []
    monkeypatch.setattr(metric_module, 'print_log',
                        lambda msg, *a, **k: logged.append(msg))
    out = tmp_path / 'out'
    metric = _metric(output_dir=str(out), keep_results=True)
    assert not any('prefix' in m for m in logged), logged
    assert out.is_dir() and metric.keep_results
    samples = _samples(2)
    for k, s in enumerate(samples):
        s['img_path'] = f'/data/img_{k}.jpg'
    samples[1]['reduce_zero_label'] = True
    metric.process({}, samples)
    res = metric.evaluate(2)
    assert list(res)[:4] == ['aAcc', 'mAcc', 'mIoU', 'fwIoU']  # no prefix
    for k, shift in ((0, 0), (1, 1)):  # IoUMetric's +1 for reduce_zero_label
        png = Image.open(out / f'img_{k}.png')
        assert png.mode == 'P'
        np.testing.assert_array_equal(
            np.asarray(png), samples[k]['pred_sem_seg']['data'][0].numpy() + shift)


def test_format_only_and_prefix(tmp_path):
    metric = _metric(output_dir=str(tmp_path), format_only=True)
    pred = torch.tensor([[0, 2], [1, 1]])
    metric.process({}, [dict(pred_sem_seg=dict(data=pred[None]),  # no ground truth
                             img_path='x/test_1.png')])
    assert metric.evaluate(1) == {}
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / 'test_1.png')),
                                  pred.numpy())
    with pytest.raises(ValueError, match='needs output_dir'):
        _metric(format_only=True)
    metric = _metric(prefix='fcn')
    metric.process({}, _samples(1))
    assert 'fcn/mIoU' in metric.evaluate(1)
