"""MultiHeadEncoderDecoder: one trunk, named heads, each its own labels and loss;
it equals one single-head EncoderDecoder per head sharing the trunk."""
import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmseg_fcn_classic.models import MultiHeadEncoderDecoder
from mmseg_fcn_classic.models.segmentors import decode_heads

from .conftest import backbone_cfg, build_model, head_cfg, randomize_, segmentor_cfg

GEO = 3


#: The shipped configs' loss: summed over pixels.
SUM = dict(loss_decode=dict(type='CrossEntropyLoss', reduction='sum'))


def multi_head_cfg(variant='16s', **kwargs):
    cfg = segmentor_cfg(variant, **kwargs)
    cfg['data_preprocessor']['size_divisor'] = 1  # pad a batch to its largest only
    cfg.update(type='MultiHeadEncoderDecoder',
               decode_head=dict(sem=head_cfg(variant, num_classes=5, **SUM),
                                geo=head_cfg(variant, num_classes=GEO, **SUM)))
    return cfg


@pytest.fixture(scope='module')
def models():
    """The two-headed model and, per head, a one-head model with its weights."""
    model = build_model(multi_head_cfg()).eval()
    randomize_(model, seed=3)
    singles = {}
    for name, n in (('sem', 5), ('geo', GEO)):
        single = build_model(segmentor_cfg(
            '16s', decode_head=head_cfg('16s', num_classes=n, **SUM)))
        single.backbone.load_state_dict(model.backbone.state_dict())
        single.decode_head.load_state_dict(model.decode_head[name].state_dict())
        singles[name] = single.eval()
    return model, singles


def _samples(sizes, seed=0):
    gen = torch.Generator().manual_seed(seed)
    samples = []
    for h, w in sizes:
        s = SegDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w)))
        s.gt_sem_seg = PixelData(data=torch.randint(0, 5, (1, h, w), generator=gen))
        s.gt_geo_seg = PixelData(data=torch.randint(0, GEO, (1, h, w), generator=gen))
        s.gt_geo_seg.data[:, :2] = 255
        samples.append(s)
    return samples


def _batch(sizes, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return dict(inputs=[torch.randint(0, 256, (3, h, w), generator=gen).float()
                        for h, w in sizes], data_samples=_samples(sizes, seed))


def test_keys_and_state_dict(models):
    model, _ = models
    assert model.head_names == ('sem', 'geo')
    assert model.out_channels == 5 + GEO and model.num_classes == 5
    keys = model.state_dict().keys()
    assert {'decode_head.sem.score_fr.weight', 'decode_head.geo.upscore16.weight',
            'decode_head.geo.score_pool4.bias'} <= set(keys)
    assert list(decode_heads(model)) == [None, 'geo']


def test_predict_equals_one_model_per_head(models):
    model, singles = models
    batch = _batch([(37, 29)])
    with torch.no_grad():
        out = model.test_step(batch)[0]
        for name, key, logits_key in (('sem', 'pred_sem_seg', 'seg_logits'),
                                      ('geo', 'pred_geo_seg', 'geo_seg_logits')):
            ref = singles[name].test_step(_batch([(37, 29)]))[0]
            torch.testing.assert_close(out.get(logits_key).data, ref.seg_logits.data)
            assert torch.equal(out.get(key).data, ref.pred_sem_seg.data)
    assert out.pred_geo_seg.shape == (37, 29)
    assert out.seg_logits.data.shape[0] == 5 and out.geo_seg_logits.data.shape[0] == GEO


def test_losses_by_name_equal_each_heads_own(models):
    model, singles = models  # in eval mode: no dropout, the same features
    batch = model.data_preprocessor(_batch([(40, 33)]), training=True)
    losses = model.loss(batch['inputs'], batch['data_samples'])
    assert {'decode.sem.loss_ce', 'decode.geo.loss_ce', 'decode.sem.acc_seg',
            'decode.geo.acc_seg'} == set(losses)
    for name, key in (('sem', 'gt_sem_seg'), ('geo', 'gt_geo_seg')):
        single = singles[name]
        x = single.extract_feat(batch['inputs'])
        logits = single.decode_head.forward(x, out_size=(40, 33))
        label = _samples([(40, 33)])[0].get(key).data
        expected = torch.nn.functional.cross_entropy(
            logits, label, ignore_index=255, reduction='sum')
        torch.testing.assert_close(losses[f'decode.{name}.loss_ce'], expected)
    total, log = model.parse_losses(losses)
    torch.testing.assert_close(
        total, losses['decode.sem.loss_ce'] + losses['decode.geo.loss_ce'])
    assert 'decode.geo.loss_ce' in log and 'decode.sem.loss_ce' in log


def test_head_labels_are_padded_as_gt_sem_seg(models):
    model, _ = models
    batch = model.data_preprocessor(_batch([(30, 20), (26, 35)]), training=True)
    views = model.head_samples(batch['data_samples'], 'geo')
    for view, sample in zip(views, batch['data_samples']):
        assert view.gt_sem_seg.shape == sample.gt_sem_seg.shape == (30, 35)
    assert (views[0].gt_sem_seg.data[0, :, 20:] == 255).all()
    assert (views[1].gt_sem_seg.data[0, 26:] == 255).all()
    torch.testing.assert_close(views[1].gt_sem_seg.data[0, :26, :35],
                               _samples([(30, 20), (26, 35)])[1].gt_geo_seg.data[0])


def test_missing_head_labels_are_named(models):
    model, _ = models
    sample = _samples([(20, 20)])[0]
    del sample.gt_geo_seg
    sample.set_metainfo(dict(img_path='x/img7.jpg'))
    with pytest.raises(KeyError, match=r"head 'geo' reads its labels from "
                       r"'gt_geo_seg'.*img7\.jpg.*LoadHeadAnnotations"):
        model.head_samples([sample], 'geo')


def test_tensor_mode_gives_each_head(models):
    model, _ = models
    with torch.no_grad():
        out = model(torch.rand(1, 3, 24, 24), mode='tensor')
    assert set(out) == {'sem', 'geo'} and out['geo'].shape[1] == GEO


def test_slide_inference_keeps_the_heads_apart(models):
    model, _ = models
    model.test_cfg = ConfigDict(mode='slide', crop_size=(24, 24), stride=(16, 16))
    try:
        with torch.no_grad():
            out = model.test_step(_batch([(40, 30)]))[0]
    finally:
        model.test_cfg = ConfigDict(mode='whole')
    assert out.seg_logits.data.shape == (5, 40, 30)
    assert out.geo_seg_logits.data.shape == (GEO, 40, 30)


def test_tta_merges_every_head(models):
    from mmseg.registry import MODELS
    model, _ = models
    tta = MODELS.build(dict(type='MultiHeadSegTTAModel', module=model))
    plain = _batch([(27, 31)])
    img = plain['inputs'][0]
    flipped = SegDataSample(metainfo=dict(plain['data_samples'][0].metainfo, flip=True,
                                          flip_direction='horizontal'))
    data = dict(inputs=[[img], [img.flip(-1)]],
                data_samples=[plain['data_samples'], [flipped]])
    with torch.no_grad():
        merged = tta.test_step(data)[0]
        views = [model.test_step(dict(inputs=[img], data_samples=_samples([(27, 31)])))[0],
                 model.test_step(dict(inputs=[img.flip(-1)], data_samples=[flipped]))[0]]
    for pred, logits in (('pred_sem_seg', 'seg_logits'),
                         ('pred_geo_seg', 'geo_seg_logits')):
        mean = sum(v.get(logits).data.softmax(0) for v in views) / 2
        assert torch.equal(merged.get(pred).data, mean.argmax(0, keepdim=True))
    assert torch.equal(merged.gt_geo_seg.data, plain['data_samples'][0].gt_geo_seg.data)


def test_init_weights_reaches_every_head():
    cfg = multi_head_cfg('32s')
    cfg['decode_head']['geo']['init_cfg'] = dict(type='Constant', val=0.25,
                                                 layer='Conv2d')
    model = build_model(cfg)
    model.init_weights()
    assert (model.decode_head.geo.score_fr.weight == 0.25).all()
    assert (model.decode_head.sem.score_fr.weight == 0).all()  # the reference init


@pytest.mark.parametrize('decode_head, error, message', [
    (head_cfg('32s'), TypeError, r'decode_head=dict\(<name>=<head config>'),
    ({}, ValueError, 'at least one head'),
    (dict(sem=head_cfg('32s'), sem2=head_cfg('32s'), seg=head_cfg('32s')),
     ValueError, "got 'seg'"),
    (dict(a=head_cfg('32s'), b=head_cfg('32s', align_corners=True)), ValueError,
     'align_corners'),
])
def test_bad_head_configs(decode_head, error, message):
    with pytest.raises(error, match=message):
        MultiHeadEncoderDecoder(backbone=backbone_cfg(), decode_head=decode_head)
