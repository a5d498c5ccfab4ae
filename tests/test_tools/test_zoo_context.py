"""The PASCAL-Context and FCN-AlexNet configs through the stock tools on fixture
trees in the real formats: train, resume, test --out."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image

from mmseg_fcn_classic.testing.synthetic import (make_mmseg_context_tree,
                                                 make_pascal_context_tree,
                                                 make_voc_sbd_tree)
from mmseg_fcn_classic.tools import test as test_tool
from mmseg_fcn_classic.tools import train as train_tool
from mmseg_fcn_classic.utils.config import config_path
from tests.test_configs import narrow_options, shrink_mmseg_pipelines


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    # short names: mmengine formats the config (yapf) for every log, dump and
    # checkpoint, and a data_root too long for one line makes that take seconds
    root = tmp_path_factory.mktemp('zoo')
    context = make_pascal_context_tree(str(root / 'context'))
    mmseg_labels = {i: np.random.default_rng(1).integers(0, 60, size)
                    for i, size in context['sizes'].items()}
    mmseg_root = make_mmseg_context_tree(str(root / 'mm'), mmseg_labels,
                                         context['train'], context['val'])
    voc = make_voc_sbd_tree(str(root / 'voc_sbd'))
    return dict(context=context, mmseg=mmseg_root, voc=voc, root=str(root))


def _narrow_config(name, data_root, tmp_path, visualizer_name, **extra):
    """The shipped config, narrowed to a fixture run, written out as a file."""
    cfg = Config.fromfile(config_path(name))
    options = narrow_options(cfg, data_root, str(tmp_path / 'unused'))
    options.pop('work_dir')
    options.update({'train_cfg.val_interval': 1000, 'visualizer.name': visualizer_name},
                   **extra)
    cfg.merge_from_dict(options)
    shrink_mmseg_pipelines(cfg)
    path = tmp_path / name
    cfg.dump(str(path))
    return str(path)


def _test_out(cfg, ckpt, work, out, ids, sizes):
    test_tool.main([cfg, ckpt, '--work-dir', work, '--out', out,
                    '--no-keep-freed-memory'])
    written = sorted(p[:-4] for p in map(osp.basename, __import__('glob').glob(
        osp.join(out, '*.png'))))
    assert written == sorted(ids)  # one label png per image, named by its id
    for sample_id in ids:
        label = np.asarray(Image.open(osp.join(out, sample_id + '.png')))
        assert label.shape == tuple(sizes[sample_id])


def test_pascal_context_trains_resumes_and_tests(data, tmp_path, visualizer_name):
    """FCN-16s (the stage that starts from stage://, here from scratch): trained,
    resumed, tested."""
    context = data['context']
    cfg = _narrow_config('fcn16s_vgg16_pascal-context.py', context['context_root'],
                         tmp_path, visualizer_name)
    work = str(tmp_path / 'work')
    train_tool.main([cfg, '--work-dir', work])
    train_tool.main([cfg, '--work-dir', work, '--resume',
                     '--cfg-options', 'train_cfg.max_iters=3'])
    resumed = torch.load(osp.join(work, 'iter_3.pth'), weights_only=False)
    assert resumed['meta']['iter'] == 3
    assert resumed['meta']['dataset_meta']['classes'][11] == 'table'
    assert resumed['state_dict']['decode_head.score_pool4.weight'].shape[0] == 60
    _test_out(cfg, osp.join(work, 'iter_3.pth'), work, str(tmp_path / 'preds'),
              context['val'], context['sizes'])


def test_pascal_context_mmseg_layout_trains_and_tests(data, tmp_path,
                                                      visualizer_name):
    """mmseg's layout, from a checkpoint as --config conversion writes it."""
    cfg = _narrow_config('fcn8s_vgg16_pascal-context_mmseg.py', data['mmseg'],
                         tmp_path, visualizer_name)
    work = str(tmp_path / 'work')
    train_tool.main([cfg, '--work-dir', work])
    train_tool.main([cfg, '--work-dir', work, '--resume',
                     '--cfg-options', 'train_cfg.max_iters=3'])
    context = data['context']
    _test_out(cfg, osp.join(work, 'iter_3.pth'), work, str(tmp_path / 'preds'),
              context['val'], context['sizes'])


def test_fcn_alexnet_trains_resumes_and_tests(data, tmp_path, visualizer_name):
    voc = data['voc']
    cfg = _narrow_config('fcn32s_alexnet_voc.py', osp.join(data['root'], 'voc_sbd'),
                         tmp_path, visualizer_name,
                         **{'optim_wrapper.accumulative_counts': 2})
    work = str(tmp_path / 'work')
    train_tool.main([cfg, '--work-dir', work, '--cfg-options', 'train_cfg.max_iters=4',
                     'default_hooks.checkpoint.interval=2'])
    straight = torch.load(osp.join(work, 'iter_4.pth'), weights_only=False)
    # the same run, stopped after the first update and resumed
    work2 = str(tmp_path / 'work2')
    train_tool.main([cfg, '--work-dir', work2])
    train_tool.main([cfg, '--work-dir', work2, '--resume', '--cfg-options',
                     'train_cfg.max_iters=4', 'default_hooks.checkpoint.interval=2'])
    resumed = torch.load(osp.join(work2, 'iter_4.pth'), weights_only=False)
    for key, value in straight['state_dict'].items():
        torch.testing.assert_close(resumed['state_dict'][key], value, msg=key)
    ids = voc['voc_val']
    _test_out(cfg, osp.join(work2, 'iter_4.pth'), work2, str(tmp_path / 'preds'), ids,
              voc['sizes'])
