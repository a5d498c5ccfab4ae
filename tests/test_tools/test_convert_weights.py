"""tools/convert_weights.py on small files of every source format."""
import os.path as osp
import subprocess
import sys
from collections import OrderedDict

import numpy as np
import pytest
import torch

from mmseg_fcn_classic.tools import convert_weights
from tests.test_converters.reference_nets import (CONV_LAYERS, FC_CHANNELS, WIDTHS,
                                                  caffemodel_bytes, fcn_model_cfg,
                                                  reference_arrays)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(ROOT, 'tools', 'convert_weights.py')




def _run(argv, capsys):
    code = convert_weights.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _tensors(arrays):
    return OrderedDict((k, torch.from_numpy(v.copy())) for k, v in arrays.items())


def _torchvision_state_dict(arrays):
    """The layout of ``torchvision.models.vgg16().state_dict()``."""
    sd, index = OrderedDict(), 0
    for name in CONV_LAYERS:
        for p in ('weight', 'bias'):
            sd[f'features.{index}.{p}'] = torch.from_numpy(arrays[f'{name}.{p}'])
        index += 3 if name.endswith('_2') and name[4] in '12' or name.endswith(
            '_3') else 2
    for i, name in ((0, 'fc6'), (3, 'fc7'), (6, 'fc8')):
        w = arrays[f'{name}.weight']
        sd[f'classifier.{i}.weight'] = torch.from_numpy(w.reshape(w.shape[0], -1))
        sd[f'classifier.{i}.bias'] = torch.from_numpy(arrays[f'{name}.bias'])
    return sd


def _write_config(tmp_path, variant, num_classes=21):
    path = tmp_path / f'fcn{variant}_tiny.py'
    path.write_text(
        "custom_imports = dict(imports=['mmseg_fcn_classic'], "
        'allow_failed_imports=False)\n'
        f'model = {fcn_model_cfg(variant, num_classes=num_classes)!r}\n')
    return str(path)


def test_caffe_fcn_to_init_model(tmp_path, capsys):
    from mmseg.apis import init_model
    arrays = reference_arrays('8s-atonce', num_classes=21)
    src = tmp_path / 'fcn8s-atonce-pascal.caffemodel'
    src.write_bytes(caffemodel_bytes(arrays, '8s-atonce'))
    dst = tmp_path / 'out' / 'fcn8s_atonce.pth'
    code, out, _ = _run([src, dst], capsys)
    assert code == 0
    assert 'caffe weights (FCN-8s-atonce)' in out
    assert ('dropped  scale_pool4 (Scale constant 0.01, applied by the at-once '
            'head)') in out
    assert 'mapped   fc6.weight -> backbone.fc6.weight (16, 12, 7, 7)' in out
    assert ('BGR 0-255, mean (104.00699, 116.66877, 122.67892), '
            'std (1.0, 1.0, 1.0)') in out

    checkpoint = torch.load(dst, weights_only=True)  # plain types only
    meta = checkpoint['meta']
    assert meta['variant'] == '8s-atonce' and meta['source_format'] == 'caffe'
    assert meta['input_convention']['bgr_to_rgb'] is False
    assert meta['dataset_meta']['classes'][15] == 'person'

    model = init_model(_write_config(tmp_path, '8s-atonce'), str(dst), device='cpu')
    assert model.dataset_meta['classes'][0] == 'background'
    assert torch.equal(model.decode_head.score_pool3.weight,
                       torch.from_numpy(arrays['score_pool3.weight']))
    assert torch.equal(model.backbone.conv5_3.bias,
                       torch.from_numpy(arrays['conv5_3.bias']))


def test_caffe_vgg16_to_pretrained_backbone(tmp_path, capsys):
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    arrays = reference_arrays('vgg16')
    src = tmp_path / 'VGG_ILSVRC_16_layers.caffemodel'
    src.write_bytes(caffemodel_bytes(arrays, 'vgg16', v1=True))
    dst = tmp_path / 'vgg16_caffe.pth'
    code, out, _ = _run([src, dst, '--format', 'caffe'], capsys)
    assert code == 0
    assert 'reshaped fc6: (1, 1, 16, 588) -> (16, 12, 7, 7)' in out
    assert 'dropped  fc8.weight (VGG16 ImageNet classifier)' in out
    assert "init_cfg=dict(type='Pretrained'" in out
    assert set(torch.load(dst, weights_only=True)['state_dict']) == {
        k for k in arrays if not k.startswith('fc8')}

    init_default_scope('mmseg')
    backbone = MODELS.build(dict(
        type='VGG16FC', widths=WIDTHS, fc_channels=FC_CHANNELS,
        init_cfg=dict(type='Pretrained', checkpoint=str(dst))))
    backbone.init_weights()
    assert torch.equal(backbone.fc6.weight, torch.from_numpy(arrays['fc6.weight']))
    assert torch.equal(backbone.conv1_1.weight,
                       torch.from_numpy(arrays['conv1_1.weight']))


def test_pytorch_fcn_trainer_checkpoint(tmp_path, capsys):
    arrays = reference_arrays('8s', num_classes=4)
    src = tmp_path / 'checkpoint.pth.tar'
    torch.save({'epoch': 2, 'iteration': 10, 'arch': 'FCN8s',
                'optim_state_dict': {'state': {}, 'param_groups': [{'lr': 1e-14}]},
                'model_state_dict': _tensors(arrays),
                'best_mean_iu': np.float64(0.5)}, src)
    dst = tmp_path / 'fcn8s.pth'
    code, out, _ = _run([src, dst, '--variant', '8s-atonce'], capsys)
    assert code == 0
    assert 'pytorch-fcn weights (FCN-8s-atonce)' in out
    assert "from the checkpoint key 'model_state_dict'" in out
    checkpoint = torch.load(dst, weights_only=True)
    assert checkpoint['meta']['variant'] == '8s-atonce'
    assert 'dataset_meta' not in checkpoint['meta']  # 4 classes: not VOC
    assert torch.equal(checkpoint['state_dict']['decode_head.upscore_pool4.weight'],
                       torch.from_numpy(arrays['upscore_pool4.weight']))


def test_pytorch_fcn_atonce_name_hint(tmp_path, capsys):
    src = tmp_path / 'fcn8s-atonce_from_caffe.pth'
    torch.save(_tensors(reference_arrays('8s')), src)
    code, out, _ = _run([src, tmp_path / 'out.pth'], capsys)
    assert code == 0 and 'FCN-8s-atonce' in out


def test_torchvision_vgg16(tmp_path, capsys):
    arrays = reference_arrays('vgg16')
    src = tmp_path / 'vgg16-397923af.pth'
    torch.save(_torchvision_state_dict(arrays), src)
    dst = tmp_path / 'vgg16_tv.pth'
    code, out, _ = _run([src, dst], capsys)
    assert code == 0
    assert 'torchvision weights (VGG16 backbone)' in out
    assert 'mapped   features.28.bias -> conv5_3.bias' in out
    assert 'RGB 0-255' in out and "weights='torchvision'" in out
    assert 'dropped  classifier.6.weight' in out
    checkpoint = torch.load(dst, weights_only=True)
    assert checkpoint['meta']['input_convention']['bgr_to_rgb'] is True
    for key, value in checkpoint['state_dict'].items():
        assert torch.equal(value, torch.from_numpy(arrays[key])), key


def test_errors_name_the_file(tmp_path, capsys):
    missing = tmp_path / 'nope.caffemodel'
    code, _, err = _run([missing, tmp_path / 'o.pth'], capsys)
    assert code == 1 and f'{missing}: no such file' in err

    garbage = tmp_path / 'notes.txt'
    garbage.write_text('not weights at all\n')
    code, _, err = _run([garbage, tmp_path / 'o.pth'], capsys)
    assert code == 1 and f'{garbage}: unknown format' in err

    truncated = tmp_path / 'fcn32s-heavy-pascal.caffemodel'
    truncated.write_bytes(caffemodel_bytes(reference_arrays('32s'), '32s')[:-100])
    code, _, err = _run([truncated, tmp_path / 'o.pth', '--format', 'caffe'], capsys)
    assert code == 1 and f'{truncated}: truncated protobuf' in err

    other = tmp_path / 'resnet.pth'
    torch.save({'conv1.weight': torch.zeros(1)}, other)
    code, _, err = _run([other, tmp_path / 'o.pth'], capsys)
    assert code == 1 and 'unknown format' in err and 'conv1.weight' in err

    code, _, err = _run([other, tmp_path / 'o.pth', '--format', 'caffe'], capsys)
    assert code == 1 and f'{other}: is a zip archive' in err

    incomplete = tmp_path / 'fcn16s.pth'
    sd = _tensors(reference_arrays('16s'))
    del sd['score_pool4.bias']
    torch.save(sd, incomplete)
    code, _, err = _run([incomplete, tmp_path / 'o.pth'], capsys)
    assert code == 1 and 'missing layers for 16s: score_pool4.bias' in err
    assert not (tmp_path / 'o.pth').exists()


def test_command_line(tmp_path):
    src = tmp_path / 'fcn16s-heavy-pascal.caffemodel'
    src.write_bytes(caffemodel_bytes(reference_arrays('16s'), '16s'))
    dst = tmp_path / 'fcn16s.pth'
    result = subprocess.run([sys.executable, TOOL, str(src), str(dst)], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert 'FCN-16s' in result.stdout and dst.is_file()


def test_help_states_the_input_convention(capsys):
    with pytest.raises(SystemExit):
        convert_weights.main(['--help'])
    out = capsys.readouterr().out
    assert 'bgr_to_rgb=False' in out and 'bgr_to_rgb=True' in out


@pytest.mark.parametrize('variant', ['32s', '16s', '8s'])
def test_released_caffe_variants(tmp_path, capsys, variant):
    src = tmp_path / f'fcn{variant}-heavy-pascal.caffemodel'
    src.write_bytes(caffemodel_bytes(reference_arrays(variant), variant))
    code, out, _ = _run([src, tmp_path / 'o.pth'], capsys)
    assert code == 0 and f'caffe weights (FCN-{variant})' in out


def _narrow_config(tmp_path, base: str, name: str = 'narrow.py') -> str:
    """A config inheriting shipped ``base`` with the narrow reference widths."""
    from mmseg_fcn_classic.utils.config import config_path
    cfg = fcn_model_cfg('8s', num_classes=60)
    path = tmp_path / name
    path.write_text(
        f'_base_ = [{config_path(base)!r}]\n'
        f"model = dict(backbone=dict(widths={WIDTHS!r}, fc_channels={FC_CHANNELS}),\n"
        f"             decode_head=dict(in_channels={cfg['decode_head']['in_channels']!r},"
        f" in_index={cfg['decode_head']['in_index']!r}))\n")
    return str(path)


def test_pascal_context_weights_reordered_for_mmseg_layout(tmp_path, capsys):
    """--config: the 60 channels follow mmseg's alphabetical classes; the logits are
    the reference net's, permuted, and the predictions the same classes by name."""
    from mmseg.apis import init_model
    from mmseg.datasets import PascalContextDataset

    from mmseg_fcn_classic.datasets.pascal_context import CONTEXT_CLASSES
    from mmseg_fcn_classic.testing.narrow import logits
    from tests.test_converters.reference_nets import reference_forward

    arrays = reference_arrays('8s', seed=7, num_classes=60)
    src = tmp_path / 'pascalcontext-fcn8s-heavy.caffemodel'
    src.write_bytes(caffemodel_bytes(arrays, '8s'))
    shipped = osp.join(ROOT, 'configs', 'fcn8s_vgg16_pascal-context_mmseg.py')
    dst = tmp_path / 'fcn8s_pascal-context_mmseg.pth'
    code, out, err = _run([src, dst, '--config', shipped], capsys)
    assert code == 0, err
    assert "reordered the 60 classes from the PASCAL-Context (classes-59.txt order) " \
        "order to PascalContextDataset's" in out
    mmseg_classes = list(PascalContextDataset.METAINFO['classes'])
    meta = torch.load(dst, weights_only=True)['meta']
    assert meta['dataset_meta']['classes'] == mmseg_classes
    assert meta['classes_reordered_from'] == list(CONTEXT_CLASSES)
    perm = [CONTEXT_CLASSES.index(name) for name in mmseg_classes]

    model = init_model(_narrow_config(tmp_path, 'fcn8s_vgg16_pascal-context_mmseg.py'),
                       str(dst), device='cpu')
    assert model.dataset_meta['classes'] == mmseg_classes
    x = torch.randn(1, 3, 37, 45, generator=torch.Generator().manual_seed(3)) * 50
    with torch.no_grad():
        ours = logits(model, x)
    reference = reference_forward(arrays, x, '8s')
    scale = max(1.0, reference.abs().max().item())
    torch.testing.assert_close(ours, reference[:, perm], rtol=1e-4, atol=1e-4 * scale)
    ours_names = np.array(mmseg_classes)[ours.argmax(1).numpy()]
    reference_names = np.array(CONTEXT_CLASSES)[reference.argmax(1).numpy()]
    assert np.unique(reference_names).size > 3
    assert (ours_names == reference_names).all()

    # without --config: the reference order, recorded as such
    code, _, _ = _run([src, tmp_path / 'plain.pth'], capsys)
    meta = torch.load(tmp_path / 'plain.pth', weights_only=True)['meta']
    assert code == 0 and meta['dataset_meta']['classes'] == list(CONTEXT_CLASSES)


def test_class_reordering_errors(tmp_path, capsys):
    src = tmp_path / 'pascalcontext-fcn32s-heavy.caffemodel'
    src.write_bytes(caffemodel_bytes(reference_arrays('32s', num_classes=60), '32s'))
    voc = osp.join(ROOT, 'configs', 'fcn32s_vgg16_voc.py')
    code, _, err = _run([src, tmp_path / 'o.pth', '--config', voc], capsys)
    assert code == 1 and 'do not match the classes of' in err
    assert "have no match in the dataset: ['table', 'bag', 'bed'" in err
    assert "have no match in the weights: ['diningtable']" in err
    assert not (tmp_path / 'o.pth').exists()

    odd = tmp_path / 'odd.caffemodel'
    odd.write_bytes(caffemodel_bytes(reference_arrays('32s', num_classes=7), '32s'))
    code, _, err = _run([odd, tmp_path / 'o.pth', '--config', voc], capsys)
    assert code == 1 and 'names of its 7 classes are unknown' in err

    vgg = tmp_path / 'VGG_ILSVRC_16_layers.caffemodel'
    vgg.write_bytes(caffemodel_bytes(reference_arrays('vgg16'), 'vgg16', v1=True))
    code, _, err = _run([vgg, tmp_path / 'o.pth', '--config', voc], capsys)
    assert code == 1 and 'vgg16 backbone weights without classes' in err

    from tests.test_converters.reference_nets import (siftflow_arrays,
                                                      siftflow_caffemodel_bytes)
    two_heads = tmp_path / 'siftflow-fcn32s-heavy.caffemodel'
    two_heads.write_bytes(siftflow_caffemodel_bytes(siftflow_arrays('32s'), '32s'))
    code, _, err = _run([two_heads, tmp_path / 'o.pth', '--config', voc], capsys)
    assert code == 1 and "one-head FCN; this net has the heads ['sem', 'geo']" in err

    mismatch = tmp_path / 'bad_head.py'
    mismatch.write_text(f'_base_ = [{voc!r}]\nmodel = dict(decode_head=dict('
                        'num_classes=60))\n')
    code, _, err = _run([src, tmp_path / 'o.pth', '--config', mismatch], capsys)
    assert code == 1 and 'num_classes=60 but its dataset PascalVOCSBDDataset has 21' in err


def test_fcn_alexnet_and_imagenet_alexnet(tmp_path, capsys):
    from tests.test_converters.reference_nets import (alexnet_arrays,
                                                      alexnet_caffemodel_bytes)
    src = tmp_path / 'fcn-alexnet-pascal.caffemodel'
    src.write_bytes(alexnet_caffemodel_bytes(alexnet_arrays(num_classes=21),
                                             'alexnet-32s'))
    code, out, _ = _run([src, tmp_path / 'fcn_alexnet.pth'], capsys)
    assert code == 0 and 'caffe weights (FCN-AlexNet)' in out
    assert 'init_model(<fcn32s_alexnet config>' in out
    meta = torch.load(tmp_path / 'fcn_alexnet.pth', weights_only=True)['meta']
    assert meta['variant'] == 'alexnet-32s' and meta['dataset_meta']['classes'][0] == \
        'background'

    src = tmp_path / 'bvlc_alexnet.caffemodel'
    src.write_bytes(alexnet_caffemodel_bytes(alexnet_arrays('alexnet'), 'alexnet', v1=True))
    dst = tmp_path / 'alexnet_caffe.pth'
    code, out, _ = _run([src, dst], capsys)
    assert code == 0 and 'caffe weights (AlexNet backbone)' in out
    assert "init_cfg=dict(type='Pretrained'" in out

    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    from tests.test_converters.reference_nets import ALEXNET_WIDTHS
    init_default_scope('mmseg')
    backbone = MODELS.build(dict(
        type='AlexNetFC', widths=ALEXNET_WIDTHS, fc_channels=FC_CHANNELS,
        init_cfg=dict(type='Pretrained', checkpoint=str(dst))))
    backbone.init_weights()
    arrays = alexnet_arrays('alexnet')
    for key, value in backbone.state_dict().items():
        assert torch.equal(value, torch.from_numpy(arrays[key])), key
