"""The NYUDv2 configs through the tools: train 2 iterations and resume bit-exact
(tools/train.py), predictions named by id (tools/test.py --out), inference with the
extra modalities (tools/infer.py --hha / --depth), one input per modality in export
(tools/export.py, tools/infer_onnx.py)."""
import glob
import re
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image

from mmseg_fcn_classic.testing.synthetic import make_nyud_tree
from mmseg_fcn_classic.tools import infer, test, train
from tests.test_configs import narrow_options

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
NYUD_CONFIGS = sorted(osp.basename(p) for p in glob.glob(
    osp.join(REPO, 'configs', '*nyud*.py')))
EXTRA = {'fcn32s_vgg16_nyud-color-d.py': 'depth',
         'fcn32s_vgg16_nyud-color-hha.py': 'hha',
         'fcn16s_vgg16_nyud-color-hha.py': 'hha'}


@pytest.fixture(scope='module')
def tree(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('nyud'))
    return root, make_nyud_tree(root)


def narrow_config(name, root, tmp_path, visualizer):
    """The shipped config, narrowed to a 2-iteration run on the fixture tree, saved
    as a config file (what the tools read)."""
    cfg = Config.fromfile(osp.join(REPO, 'configs', name))
    cfg.merge_from_dict(narrow_options(cfg, root, str(tmp_path / 'work')))
    cfg.merge_from_dict({'train_cfg.val_interval': 100,  # no validation: faster
                         'default_hooks.checkpoint.interval': 1,
                         # the reference 1e-10 would leave the narrow trunks unchanged
                         # in 2 steps: the resume would be trivially exact
                         'optim_wrapper.optimizer.lr': 1e-4,
                         'visualizer.name': visualizer})
    path = str(tmp_path / name)
    cfg.dump(path)
    return path


@pytest.fixture
def visualizers(request):
    from mmseg.visualization import SegLocalVisualizer
    names = []

    def make(tag):
        names.append(f'vis_{request.node.name}_{tag}')
        return names[-1]
    yield make
    for name in names:
        SegLocalVisualizer._instance_dict.pop(name, None)


def _state(path):
    return torch.load(path, map_location='cpu', weights_only=False)['state_dict']


@pytest.mark.parametrize('name', NYUD_CONFIGS)
def test_train_resume_bit_exact_and_test_out(name, tree, tmp_path, visualizers):
    """2 iterations straight = 1, then --resume from iter_1.pth for 1 more."""
    root, t = tree
    straight, resumed = str(tmp_path / 'straight'), str(tmp_path / 'resumed')
    cfg = narrow_config(name, root, tmp_path, visualizers('a'))
    train.main([cfg, '--work-dir', straight])
    cfg = narrow_config(name, root, tmp_path, visualizers('b'))
    train.main([cfg, '--work-dir', resumed, '--resume',
                osp.join(straight, 'iter_1.pth')])
    a, b = _state(osp.join(straight, 'iter_2.pth')), _state(osp.join(resumed, 'iter_2.pth'))
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a), 'resume is not bit-exact'
    first = _state(osp.join(straight, 'iter_1.pth'))
    conv1_1 = next(k for k in a if k.endswith('conv1_1.weight'))
    assert not torch.equal(first[conv1_1], a[conv1_1])  # the trunk did learn
    if name != 'fcn32s_vgg16_nyud-color-hha.py':
        return  # the configs share the test pipeline: --out once

    out = tmp_path / 'preds'
    cfg = narrow_config(name, root, tmp_path, visualizers('c'))
    test.main([cfg, osp.join(straight, 'iter_2.pth'), '--work-dir', straight,
               '--out', str(out), '--show-dir', str(tmp_path / 'show'),
               '--no-keep-freed-memory'])
    assert sorted(p.name for p in out.glob('*.png')) == ['5001.png', '5002.png']
    # --show-dir draws on the colour image (img_path)
    assert sorted(p.name for p in (tmp_path / 'show').rglob('*.png')) == [
        'test_img_5001.png_0.png', 'test_img_5002.png_0.png']
    for sample_id in ('5001', '5002'):
        with Image.open(out / f'{sample_id}.png') as png:
            assert png.mode == 'P' and png.size[::-1] == t['sizes'][sample_id]
            labels = np.asarray(png)  # the dataset's values: 1..40 (0 is void)
            assert 1 <= labels.min() and labels.max() <= 40


@pytest.fixture(scope='module')
def trained(tree, tmp_path_factory):
    """Narrow color-hha and color-d checkpoints (2 iterations, random init)."""
    root, _ = tree
    out = {}
    for name in ('fcn32s_vgg16_nyud-color-hha.py', 'fcn32s_vgg16_nyud-color-d.py'):
        tmp = tmp_path_factory.mktemp(name[:-3])
        from mmseg.visualization import SegLocalVisualizer
        cfg = narrow_config(name, root, tmp, f'vis_trained_{name}')
        model_cfg = Config.fromfile(cfg)
        from mmengine.registry import init_default_scope
        from mmseg.registry import MODELS
        init_default_scope('mmseg')
        model = MODELS.build(model_cfg.model)
        from mmseg_fcn_classic.testing.narrow import randomize_
        randomize_(model, seed=1, upscore='bilinear')
        ckpt = str(tmp / 'model.pth')
        torch.save({'state_dict': model.state_dict(), 'meta': {}}, ckpt)
        SegLocalVisualizer._instance_dict.pop(f'vis_trained_{name}', None)
        out[name] = cfg, ckpt
    return out


def test_infer_reads_the_extra_modality_by_name(tree, trained, tmp_path, capsys):
    root, t = tree
    cfg, ckpt = trained['fcn32s_vgg16_nyud-color-hha.py']
    images = osp.join(root, 'data', 'images')
    code = infer.main([cfg, ckpt, images, '--hha', osp.join(root, 'data', 'hha'),
                       '--out-dir', str(tmp_path / 'out'), '--no-progress',
                       '--no-keep-freed-memory'])
    assert code == 0, capsys.readouterr().err
    labels = sorted(p.name for p in (tmp_path / 'out' / 'labels').glob('*.png'))
    assert labels == [f'img_{i}.png' for i in sorted(t['sizes'])]

    # the same prediction as the dataset pipeline + model (test split sample)
    from mmseg_fcn_classic.apis import init_model
    from mmseg.registry import DATASETS
    model = init_model(cfg, ckpt)
    sample = DATASETS.build(model.cfg.test_dataloader.dataset)[0]
    with torch.no_grad():
        pred = model.test_step(dict(inputs=[sample['inputs']],
                                    data_samples=[sample['data_samples']]))[0]
    with Image.open(tmp_path / 'out' / 'labels' / 'img_5001.png') as png:
        np.testing.assert_array_equal(np.asarray(png),
                                      pred.pred_sem_seg.data[0].numpy())

    # without --hha: the form the inputs need
    code = infer.main([cfg, ckpt, images, '--out-dir', str(tmp_path / 'o2'),
                       '--no-keep-freed-memory'])
    err = capsys.readouterr().err
    assert code == 1
    assert "reads the modalities ('color', 'hha'): give the color images as inputs " \
           'and --hha DIR' in err and 'missing: --hha' in err
    code = infer.main([cfg, ckpt, images, '--hha', osp.join(root, 'data', 'hha'),
                       '--depth', osp.join(root, 'data', 'depth'),
                       '--out-dir', str(tmp_path / 'o3'), '--no-keep-freed-memory'])
    assert code == 1 and 'not read by this model: --depth' in capsys.readouterr().err


def test_infer_names_a_missing_modality_file(tree, trained, tmp_path, capsys):
    root, _ = tree
    cfg, ckpt = trained['fcn32s_vgg16_nyud-color-d.py']
    depth = tmp_path / 'depth'
    depth.mkdir()
    src = osp.join(root, 'data', 'depth', 'img_5001.png')
    (depth / 'img_5001.png').write_bytes(open(src, 'rb').read())
    code = infer.main([cfg, ckpt, osp.join(root, 'data', 'images'), '--depth',
                       str(depth), '--out-dir', str(tmp_path / 'out'), '--no-progress',
                       '--no-keep-freed-memory'])
    err = capsys.readouterr().err
    assert code == 1
    assert 'no depth image named img_5002.png' in err and str(depth) in err
    assert (tmp_path / 'out' / 'labels' / 'img_5001.png').is_file()


def test_export_one_input_per_modality(tree, trained, tmp_path, capsys):
    pytest.importorskip('onnxruntime')
    import onnx
    import onnxruntime as ort
    from mmseg_fcn_classic.apis import init_model
    from mmseg_fcn_classic.tools import export
    root, _ = tree
    cfg, ckpt = trained['fcn32s_vgg16_nyud-color-d.py']
    out = str(tmp_path / 'color_d.onnx')
    assert export.main([cfg, ckpt, '--format', 'onnx', '--dynamic', '--shape', '24',
                        '20', '--out', out]) == 0
    assert 'color (1, 3, H x W dynamic), depth (1, 1, H x W dynamic)' in \
        capsys.readouterr().out
    meta = {p.key: p.value for p in onnx.load(out).metadata_props}
    import json
    modalities = json.loads(meta['modalities'])
    assert [(m['name'], m['channels'], m['transform']) for m in modalities] == [
        ('color', 3, None), ('depth', 1, 'log')]
    assert modalities[1]['mean'] == [7.844]
    session = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    assert [i.name for i in session.get_inputs()] == ['color', 'depth']
    model = init_model(cfg, ckpt)
    gen = torch.Generator().manual_seed(0)
    color, depth = torch.randn(1, 3, 31, 17, generator=gen) * 40, torch.randn(1, 1, 31, 17)
    with torch.no_grad():
        expected = model.decode_head(model.backbone(torch.cat([color, depth], 1)),
                                     out_size=(31, 17)).numpy()
    got = session.run(['logits'], {'color': color.numpy(), 'depth': depth.numpy()})[0]
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())

    # tools/infer_onnx.py (onnxruntime only) gives infer.py's labels
    from tools import infer_onnx
    images, depths = osp.join(root, 'data', 'images'), osp.join(root, 'data', 'depth')
    assert infer_onnx.main([out, images, '--depth', depths, '--out-dir',
                            str(tmp_path / 'onnx')]) == 0
    assert infer.main([cfg, ckpt, images, '--depth', depths, '--out-dir',
                       str(tmp_path / 'torch'), '--no-progress',
                       '--no-keep-freed-memory']) == 0
    for png in sorted((tmp_path / 'torch' / 'labels').glob('*.png')):
        np.testing.assert_array_equal(np.asarray(Image.open(png)), np.asarray(
            Image.open(tmp_path / 'onnx' / png.name)))
    assert infer_onnx.main([out, images, '--out-dir', str(tmp_path / 'x')]) == 1
    assert "reads ['color', 'depth']" in capsys.readouterr().err


def test_exported_program_two_trunks(trained, tmp_path):
    from mmseg_fcn_classic.apis import init_model
    from mmseg_fcn_classic.apis.deploy import load_exported_program
    from mmseg_fcn_classic.tools import export
    cfg, ckpt = trained['fcn32s_vgg16_nyud-color-hha.py']
    out = str(tmp_path / 'color_hha.pt2')
    assert export.main([cfg, ckpt, '--format', 'exported-program', '--dynamic',
                        '--out', out]) == 0
    program, convention = load_exported_program(out)
    assert convention['input'] == ['color', 'hha']
    assert [m['channel_order'] for m in convention['modalities']] == ['bgr', 'rgb']
    model = init_model(cfg, ckpt)
    color, hha = torch.randn(1, 3, 9, 14) * 40, torch.randn(1, 3, 9, 14) * 40
    with torch.no_grad():
        expected = model.decode_head(model.backbone(torch.cat([color, hha], 1)),
                                     out_size=(9, 14))
        torch.testing.assert_close(program.module()(color, hha), expected,
                                   rtol=1e-4, atol=1e-4)


MODALITY_META = dict(
    mean='[116.19, 97.203, 92.318, 7.844]', std='[1, 1, 1, 1]',
    channel_order='"per modality"', input='["color", "depth"]', output='"logits"',
    modalities='[{"name": "color", "channels": 3, "channel_order": "bgr", '
               '"transform": null, "mean": [116.19, 97.203, 92.318], "std": [1, 1, 1]}, '
               '{"name": "depth", "channels": 1, "channel_order": null, '
               '"transform": "log", "mean": [7.844], "std": [1]}]')


@pytest.mark.parametrize('change, message', [
    (dict(input='["depth", "color"]'), "must list the modalities' names in order"),
    (dict(modalities='[]'), "'modalities' must be a non-empty list"),
    (dict(modalities=MODALITY_META['modalities'].replace('"log"', '"sqrt"')),
     "'modalities[1]': channels 3 with channel_order"),
    (dict(modalities=MODALITY_META['modalities'].replace('[1]}', '[0]}')),
     "'modalities[1]': std must be positive"),
    (dict(modalities=MODALITY_META['modalities'].replace('"depth"', '"ir"')),
     "'modalities[1]' must be a dict naming one of"),
])
def test_infer_onnx_checks_the_modalities(change, message):
    from mmseg_fcn_classic_onnx import ConventionError, parse_convention
    conv = parse_convention(MODALITY_META, 'm.onnx')
    assert [m['name'] for m in conv['modalities']] == ['color', 'depth']
    with pytest.raises(ConventionError, match=re.escape(message)):
        parse_convention(dict(MODALITY_META, **change), 'm.onnx')
