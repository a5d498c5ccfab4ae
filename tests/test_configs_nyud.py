"""The NYUDv2 configs follow the reference solvers and nets (nyud-fcn32s-*), and the
metafile lists them with the CVPR paper's Table 4 numbers and the released weights."""
import os.path as osp
import re

import pytest
from mmengine.config import Config
from mmengine.fileio import load

import mmseg_fcn_classic  # noqa: F401

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
COLOR_HHA_STAGES = dict(color='stage://work_dirs/fcn32s_vgg16_nyud-color',
                        hha='stage://work_dirs/fcn32s_vgg16_nyud-hha')
#: config -> (modalities, skips, lr, load_from, released caffemodel)
REFERENCE = {
    'fcn32s_vgg16_nyud-color.py': (('color', ), (), 1e-10, None,
                                   'nyud-fcn32s-color-heavy.caffemodel'),
    'fcn32s_vgg16_nyud-hha.py': (('hha', ), (), 1e-10, None,
                                 'nyud-fcn32s-hha-heavy.caffemodel'),
    'fcn32s_vgg16_nyud-color-d.py': (('color', 'depth'), (), 1e-10, None, None),
    'fcn32s_vgg16_nyud-color-hha.py': (('color', 'hha'), (), 1e-12, None,
                                       'nyud-fcn32s-color-hha-heavy.caffemodel'),
    'fcn16s_vgg16_nyud-color-hha.py': (
        ('color', 'hha'), ('pool4', ), 1e-14,
        'stage://work_dirs/fcn32s_vgg16_nyud-color-hha', None),
}
#: CVPR 2015 paper, Table 4 (NYUDv2 test): pixel acc., mean acc., mean IU, f.w. IU
TABLE4 = {
    'fcn32s_vgg16_nyud-color.py': (60.0, 42.2, 29.2, 43.9),
    'fcn32s_vgg16_nyud-color-d.py': (61.5, 42.4, 30.5, 45.5),
    'fcn32s_vgg16_nyud-hha.py': (57.1, 35.2, 24.2, 40.4),
    'fcn32s_vgg16_nyud-color-hha.py': (64.3, 44.9, 32.8, 48.0),
    'fcn16s_vgg16_nyud-color-hha.py': (65.4, 46.1, 34.0, 49.5),
}


@pytest.mark.parametrize('name', sorted(REFERENCE))
def test_nyud_configs_follow_the_reference(name):
    modalities, skips, lr, load_from, _ = REFERENCE[name]
    cfg = Config.fromfile(osp.join(REPO, 'configs', name))
    model = cfg.model
    assert model.data_preprocessor.type == 'MultiModalDataPreProcessor'
    assert tuple(model.data_preprocessor.modalities) == modalities
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = cfg[loader].dataset
        assert dataset.type == 'NYUDv2Dataset'
        assert tuple(dataset.modalities) == modalities
        assert dataset.split == ('trainval' if loader == 'train_dataloader' else 'test')
    # nyud_layers.py: whole images, batch 1, no augmentation
    assert [t['type'] for t in cfg.train_dataloader.dataset.pipeline] == [
        'LoadMultiModalImageFromFiles', 'LoadFCNAnnotations', 'PackSegInputs']
    assert cfg.train_dataloader.batch_size == 1
    head = model.decode_head
    assert head.num_classes == 40 and tuple(head.skips) == skips
    assert head.loss_decode.reduction == 'sum'  # SoftmaxWithLoss(normalize=False)
    assert not head.get('learn_upsampling', False)
    # solver.prototxt / solve.py
    optimizer = cfg.optim_wrapper.optimizer
    assert (optimizer.lr, optimizer.momentum, optimizer.weight_decay) == (lr, 0.99, 5e-4)
    assert cfg.optim_wrapper.paramwise_cfg == dict(bias_lr_mult=2.0, bias_decay_mult=0.0)
    assert cfg.param_scheduler == []
    assert cfg.train_cfg.max_iters == 100000 and cfg.train_cfg.val_interval == 2000
    assert cfg.default_hooks.checkpoint.interval == 2000
    assert cfg.load_from == load_from
    if len(modalities) == 2 and modalities[1] == 'hha':  # late fusion
        assert model.backbone.type == 'LateFusionVGG16FC'
        assert head.type == 'LateFusionFCNHead'
        assert tuple(head.fusion_weights) == (0.5, 0.5)  # Eltwise coeff
        init = model.backbone.init_cfg
        if skips:  # the 16s stage starts from the 32s one
            assert init is None and head.init_cfg is None
        else:  # surgery.transplant(..., suffix='color' / 'hha')
            assert init == head.init_cfg == dict(type='Pretrained',
                                                 checkpoint=COLOR_HHA_STAGES)
    else:
        assert model.backbone.type == 'VGG16FC'
        assert model.backbone.get('in_channels', 3) == (4 if 'depth' in modalities else 3)
        init = model.backbone.init_cfg
        assert init.checkpoint == 'checkpoints/vgg16_caffe.pth'
        assert init.get('extra_channels') == ('mean' if 'depth' in modalities else None)


def test_metafile_lists_table_4_and_the_released_weights():
    models = {m['Config']: m for m in load(osp.join(REPO, 'configs', 'metafile.yaml'))[
        'Models']}
    text = open(osp.join(REPO, 'configs', 'metafile.yaml')).read()
    assert 'Table 4 of the CVPR 2015 paper' in text
    for name, (acc, macc, miou, fwiou) in TABLE4.items():
        model = models[f'configs/{name}']
        assert model['Results']['Dataset'] == 'NYUDv2 test (654 images)'
        assert model['Results']['Metrics'] == dict(aAcc=acc, mAcc=macc, mIoU=miou,
                                                   fwIoU=fwiou)
        config = open(osp.join(REPO, 'configs', name)).read()
        stated = re.search(r'Reference result \(CVPR paper Table 4, [^)]+\): mean IU '
                           r'(\d+\.\d)', config)
        assert float(stated.group(1)) == miou, name
        released = REFERENCE[name][4]
        sources = model.get('Released Weights', [])
        if released is None:
            assert not sources and 'Converted From' not in model
            assert model['Weights'] is None
            continue
        url = f'http://dl.caffe.berkeleyvision.org/{released}'
        assert model['Weights'] == url  # what mim download fetches; convert it
        assert [(s['File'], s['Format'], s['URL'], s['md5']) for s in sources] == [
            (released, 'caffe', url, None)]
        assert model['Converted From']['Weights'] == url
