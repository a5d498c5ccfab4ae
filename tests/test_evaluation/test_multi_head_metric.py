"""MultiHeadFCNMetric: the paper's SIFT Flow scores (Table 5), mean IU over the
classes present in the ground truth, other heads' scores, per-head label PNGs."""
import numpy as np
import pytest
import torch
from mmseg.registry import METRICS
from PIL import Image

from mmseg_fcn_classic.evaluation import FCNMetric, fcn_scores, present_class_scores

CLASSES = ('sky', 'cow', 'tree', 'moon', 'road')
GEO = ('sky', 'horizontal', 'vertical')
META = dict(classes=CLASSES, palette=[[i, i, i] for i in range(5)],
            geo_classes=GEO, geo_palette=[[9, 0, 0], [0, 9, 0], [0, 0, 9]])


def _sample(gt, pred, geo_gt, geo_pred, name='img'):
    t = torch.as_tensor
    return dict(img_path=f'data/{name}.jpg',
                gt_sem_seg=dict(data=t(gt)[None]), pred_sem_seg=dict(data=t(pred)[None]),
                gt_geo_seg=dict(data=t(geo_gt)[None]),
                pred_geo_seg=dict(data=t(geo_pred)[None]))


def _data(seed=0, n=3, size=(6, 8)):
    """Ground truth without cow (1) and moon (3), which the predictions use."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        gt = rng.choice([0, 2, 4, 255], size=size)
        pred = rng.integers(0, 5, size=size)
        geo_gt = rng.choice([0, 1, 2, 255], size=size)
        geo_pred = rng.integers(0, 3, size=size)
        out.append(_sample(gt, pred, geo_gt, geo_pred, f'img{i}'))
    return out


def _hist(samples, gt_key, pred_key, n):
    hist = np.zeros((n, n), np.int64)
    for s in samples:
        gt, pred = s[gt_key]['data'].numpy().ravel(), s[pred_key]['data'].numpy().ravel()
        keep = gt != 255
        np.add.at(hist, (gt[keep], pred[keep]), 1)
    return hist


def _build(**kwargs):
    metric = METRICS.build(dict(type='MultiHeadFCNMetric', **kwargs))
    metric.dataset_meta = META
    return metric


def test_present_class_scores_hand_computed():
    # rows: ground truth; class 1 has no ground truth but is predicted twice
    hist = np.array([[5, 2, 0], [0, 0, 0], [1, 0, 3]])
    scores, absent = present_class_scores(hist)
    assert absent.tolist() == [1]
    iou = [5 / (7 + 6 - 5), 3 / (4 + 3 - 3)]
    assert scores['mIoU'] == pytest.approx(np.mean(iou))
    assert np.isnan(scores['IoU'][1])
    every = fcn_scores(hist)
    assert every['mIoU'] == pytest.approx((iou[0] + 0 + iou[1]) / 3)  # IU 0 for it
    for key in ('aAcc', 'mAcc', 'fwIoU'):  # unchanged
        assert scores[key] == pytest.approx(every[key])


def test_leaves_out_exactly_the_absent_classes_and_says_so(monkeypatch):
    from mmseg_fcn_classic.evaluation import multi_head_metric
    logged = []
    monkeypatch.setattr(multi_head_metric, 'print_log',
                        lambda msg, **kwargs: logged.append(msg))
    samples = _data()
    metric = _build(heads=dict(geo=('aAcc', )), present_classes_only=True)
    metric.process({}, samples)
    metrics = metric.evaluate(len(samples))
    assert metric.left_out == {None: ['cow', 'moon'], 'geo': []}
    hist = _hist(samples, 'gt_sem_seg', 'pred_sem_seg', 5)
    assert hist[[1, 3]].sum() == 0 and hist[:, [1, 3]].sum() > 0
    present = [0, 2, 4]
    iou = np.diag(hist) / (hist.sum(1) + hist.sum(0) - np.diag(hist))
    assert metrics['mIoU'] == pytest.approx(100 * iou[present].mean(), abs=0.006)
    scores = fcn_scores(hist)
    for key in ('aAcc', 'mAcc', 'fwIoU'):
        assert metrics[key] == pytest.approx(100 * scores[key], abs=0.006)
    geo = _hist(samples, 'gt_geo_seg', 'pred_geo_seg', 3)
    assert metrics['geo.aAcc'] == pytest.approx(100 * np.trace(geo) / geo.sum(), abs=0.006)
    assert not any(k.startswith('geo.') and k != 'geo.aAcc' for k in metrics)
    message, = logged
    assert message.startswith('mean IU over the 3 of 5 classes present in the '
                              f'ground truth: {metrics["mIoU"]:.2f}; left out (no '
                              'ground-truth pixel): cow, moon; over all 5: ')


def test_all_classes_option_equals_fcn_metric():
    samples = _data(seed=1)
    metric = _build(heads=dict(geo=('aAcc', 'mIoU')), present_classes_only=False)
    plain = METRICS.build(dict(type='FCNMetric'))
    plain.dataset_meta = META
    metric.process({}, samples)
    plain.process({}, samples)
    got, expected = metric.evaluate(len(samples)), plain.evaluate(len(samples))
    for key, value in expected.items():
        assert got[key] == value, key
    hist = _hist(samples, 'gt_sem_seg', 'pred_sem_seg', 5)
    assert got['mIoU'] == pytest.approx(100 * fcn_scores(hist)['mIoU'], abs=0.006)
    assert metric.left_out == {}
    assert {'geo.aAcc', 'geo.mIoU'} <= set(got)


def test_one_result_per_sample_for_distributed_collection():
    samples = _data(n=4)
    metric = _build(heads=dict(geo=('aAcc', )))
    metric.process({}, samples[:3])
    metric.process({}, samples[3:])
    assert len(metric.results) == 4  # mmengine truncates the gathered list to this
    assert set(metric.results[0]) == {None, 'geo'}
    assert isinstance(metric, FCNMetric)


def test_writes_a_png_per_head(tmp_path):
    samples = _data(n=2)
    metric = _build(heads=dict(geo=('aAcc', )), output_dir=str(tmp_path))
    metric.process({}, samples)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        'img0.png', 'img0_geo.png', 'img1.png', 'img1_geo.png']
    geo = Image.open(tmp_path / 'img1_geo.png')
    assert geo.mode == 'P' and geo.getpalette()[:9] == [9, 0, 0, 0, 9, 0, 0, 0, 9]
    np.testing.assert_array_equal(np.array(geo), samples[1]['pred_geo_seg']['data'][0])
    np.testing.assert_array_equal(np.array(Image.open(tmp_path / 'img1.png')),
                                  samples[1]['pred_sem_seg']['data'][0])


@pytest.mark.parametrize('kwargs, message', [
    (dict(heads=dict(geo=('pixel_acc', ))), 'scores must be some of'),
    (dict(heads=dict(sem=('aAcc', ))), 'head name'),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _build(**kwargs)


def test_missing_head_prediction_is_named():
    sample = _data(n=1)[0]
    del sample['pred_geo_seg']
    metric = _build(heads=dict(geo=('aAcc', )))
    with pytest.raises(KeyError, match=r"img0\.jpg: no pred_geo_seg for head 'geo'"):
        metric.process({}, [sample])


def test_format_only_writes_every_head_and_scores_nothing(tmp_path):
    samples = _data(n=2)
    for sample in samples:  # a test set without ground truth
        del sample['gt_sem_seg'], sample['gt_geo_seg']
    metric = _build(heads=dict(geo=('aAcc', )), output_dir=str(tmp_path),
                    format_only=True)
    metric.process({}, samples)
    assert metric.results == []
    assert metric.evaluate(2) == {}
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        'img0.png', 'img0_geo.png', 'img1.png', 'img1_geo.png']
