"""ChannelsLastHook: model weights and inputs in channels_last, same outputs."""
import copy
import os.path as osp
from types import SimpleNamespace

import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmseg_fcn_classic.engine.hooks import ChannelsLastHook
from mmseg_fcn_classic.engine.hooks.channels_last_hook import convs_to_channels_last
from mmseg_fcn_classic.models.layers import GemmConv2d
from tests.test_models.conftest import build_model, randomize_, segmentor_cfg
from tests.test_models.test_encoder_decoder import _batch
from mmseg_fcn_classic.testing.narrow import make_tiny_data, write_tiny_config

CL = torch.channels_last


def _conv_weights(model):
    return {name: m.weight for name, m in model.named_modules()
            if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))}


def test_model_and_inputs_in_channels_last_same_outputs():
    model = build_model(segmentor_cfg('8s'))
    randomize_(model, upscore='bilinear')
    reference = copy.deepcopy(model)
    params = list(model.parameters())
    ChannelsLastHook().before_run(SimpleNamespace(model=model))
    assert list(model.parameters()) == params  # same objects: optimizers stay valid
    for name, weight in _conv_weights(model).items():
        if isinstance(model.get_submodule(name), GemmConv2d):
            assert weight.is_contiguous(), name  # fc6 / fc7 stay matrices
        else:
            assert weight.is_contiguous(memory_format=CL), name
    assert not model.backbone.conv1_1.weight.is_contiguous()
    assert not model.backbone.fc6.weight.is_contiguous(memory_format=CL)

    seen = {}
    model.backbone.conv1_1.register_forward_pre_hook(
        lambda m, args: seen.setdefault('input', args[0]))
    model.backbone.conv3_3.register_forward_hook(
        lambda m, args, out: seen.setdefault('conv3_3', out))
    model.eval()
    reference.eval()
    data = _batch([(45, 37)])
    with torch.no_grad():
        ours = model.test_step(data)[0].seg_logits.data
        theirs = reference.test_step(data)[0].seg_logits.data
    assert seen['input'].is_contiguous(memory_format=CL)
    assert not seen['input'].is_contiguous()
    assert seen['conv3_3'].is_contiguous(memory_format=CL)
    torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-4 * theirs.abs().max())


def test_convs_to_channels_last_counts_and_keeps_values():
    model = build_model(segmentor_cfg('16s'))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    # 13 VGG convs, score_fr, score_pool4, upscore2, upscore16; not fc6 / fc7
    assert convs_to_channels_last(model) == 17
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_config_switch_trains(tmp_path):
    data = make_tiny_data(str(tmp_path / 'polyps'), n_train=2)
    path = write_tiny_config(
        str(tmp_path / 'tiny.py'), data, max_iters=1, ckpt_interval=1,
        custom_hooks=('ChannelsLastHook', ))
    cfg = Config.fromfile(path)
    cfg.work_dir = str(tmp_path / 'work')
    # a visualizer of its own: mmengine keeps one instance per name per process
    cfg.visualizer.name = f'visualizer_{tmp_path.name}'
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.model.backbone.conv2_1.weight.is_contiguous(memory_format=CL)
    assert osp.isfile(osp.join(cfg.work_dir, 'iter_1.pth'))
