"""The SIFT Flow net through the command lines on a fixture tree in the real formats
(jpg, scipy ``.mat``): train 2 iterations, resume bit-exact, tools/test.py --out
with <id>.png and <id>_geo.png, tools/infer.py --head, tools/export.py with one
output per head and tools/infer_onnx.py."""
import json
import os.path as osp
import textwrap

import numpy as np
import pytest
import torch
from PIL import Image

from mmseg_fcn_classic.apis import init_model, show_result
from mmseg_fcn_classic.apis.deploy import SegmentationNet, input_convention
from mmseg_fcn_classic.models.utils import fcn_spec
from mmseg_fcn_classic.testing.narrow import FC_CHANNELS, WIDTHS
from mmseg_fcn_classic.testing.synthetic import make_siftflow_tree
from mmseg_fcn_classic.tools import export, infer
from mmseg_fcn_classic.tools import test as test_tool
from mmseg_fcn_classic.tools import train
from mmseg_fcn_classic.utils.config import config_path

TRAINVAL = ('coast_n1', 'forest_n2', 'street_n3')
TEST = ('highway_t1', 'tallbuilding_t2')


def _write_config(path, data_root, name):
    head = fcn_spec.head_inputs(('pool4', ), WIDTHS, FC_CHANNELS)
    text = f'''
    _base_ = [{config_path('fcn16s_vgg16_siftflow.py')!r}]
    data_root = {data_root!r}
    model = dict(backbone=dict(widths={WIDTHS!r}, fc_channels={FC_CHANNELS}),
                 decode_head=dict(sem={head!r}, geo={head!r}))
    optim_wrapper = dict(optimizer=dict(lr=1e-5))
    train_dataloader = dict(num_workers=0, persistent_workers=False,
                            dataset=dict(data_root=data_root))
    val_dataloader = dict(num_workers=0, persistent_workers=False,
                          dataset=dict(data_root=data_root))
    test_dataloader = val_dataloader
    train_cfg = dict(max_iters=2, val_interval=1000)
    default_hooks = dict(logger=dict(interval=1),
                         checkpoint=dict(interval=1, max_keep_ckpts=-1))
    visualizer = dict(name={name!r})
    load_from = None
    randomness = dict(seed=0)
    '''
    with open(path, 'w') as f:
        f.write(textwrap.dedent(text))
    return str(path)


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """Two iterations of the narrowed fcn16s_vgg16_siftflow.py with tools/train.py."""
    root = tmp_path_factory.mktemp('siftflow_tools')
    data = make_siftflow_tree(str(root / 'data'), trainval=TRAINVAL, test=TEST)
    config = _write_config(root / 'fcn16s_siftflow.py', str(root / 'data'),
                           'siftflow_tools_train')
    work = str(root / 'work')
    train.main([config, '--work-dir', work])
    return dict(config=config, work=work, root=root, data=data)


def test_resume_is_bit_exact(trained, tmp_path):
    work = str(tmp_path / 'resumed')
    train.main([trained['config'], '--work-dir', work, '--resume',
                osp.join(trained['work'], 'iter_1.pth'),
                '--cfg-options', 'visualizer.name=siftflow_tools_resume'])
    straight = torch.load(osp.join(trained['work'], 'iter_2.pth'), weights_only=False)
    resumed = torch.load(osp.join(work, 'iter_2.pth'), weights_only=False)
    first = torch.load(osp.join(trained['work'], 'iter_1.pth'), weights_only=False)
    assert straight['state_dict'].keys() == resumed['state_dict'].keys()
    for key, value in straight['state_dict'].items():
        assert torch.equal(value, resumed['state_dict'][key]), key
    changed = [k for k, v in straight['state_dict'].items()
               if not torch.equal(v, first['state_dict'][k])]
    assert any('decode_head.geo.' in k for k in changed)  # both heads trained
    assert any('decode_head.sem.' in k for k in changed)
    momentum = [s['momentum_buffer'] for s in straight['optimizer']['state'].values()]
    for buf, other in zip(momentum, [s['momentum_buffer'] for s in
                                     resumed['optimizer']['state'].values()]):
        assert torch.equal(buf, other)


def test_test_tool_writes_both_maps_per_image(trained, tmp_path):
    out = tmp_path / 'preds'
    test_tool.main([trained['config'], osp.join(trained['work'], 'iter_2.pth'),
                    '--work-dir', str(tmp_path / 'w'), '--out', str(out),
                    '--cfg-options', 'visualizer.name=siftflow_tools_test'])
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f'{i}.png' for i in TEST] + [f'{i}_geo.png' for i in TEST])
    for sample_id in TEST:
        sem = np.array(Image.open(out / f'{sample_id}.png'))
        geo = np.array(Image.open(out / f'{sample_id}_geo.png'))
        assert sem.shape == geo.shape == trained['data']['sizes'][sample_id]
        assert sem.max() < 33 and geo.max() < 3


def test_infer_tool_shows_semantic_by_default_and_geometric_on_request(
        trained, tmp_path, capsys):
    ckpt = osp.join(trained['work'], 'iter_2.pth')
    images = str(trained['root'] / 'data' / 'Images')
    for head, out in ((None, tmp_path / 'sem'), ('geo', tmp_path / 'geo')):
        argv = [trained['config'], ckpt, images, '--out-dir', str(out), '--no-progress']
        assert infer.main(argv + (['--head', head] if head else [])) == 0
    model = init_model(trained['config'], ckpt)
    assert model.dataset_meta['geo_classes'] == ['sky', 'horizontal', 'vertical']
    for sample_id in TEST:
        name = osp.join('spatial_envelope_256x256_static_8outdoorcategories', sample_id)
        sem = Image.open(tmp_path / 'sem' / 'labels' / f'{name}.png')
        geo = Image.open(tmp_path / 'geo' / 'labels' / f'{name}.png')
        assert geo.getpalette()[:9] == sum(model.dataset_meta['geo_palette'], [])
        assert sem.getpalette()[:6] == sum(model.dataset_meta['palette'][:2], [])
        assert np.array(geo).max() < 3
    assert infer.main([trained['config'], ckpt, images, '--out-dir',
                       str(tmp_path / 'x'), '--head', 'depth']) == 1
    assert "the model has no head 'depth'; its other heads: geo" in capsys.readouterr().err

    from mmseg.apis import inference_model
    img = osp.join(images, 'spatial_envelope_256x256_static_8outdoorcategories',
                   TEST[0] + '.jpg')
    result = inference_model(model, img)
    drawn = show_result(model, img, result, head='geo', show=False, draw_gt=False,
                        with_labels=False, opacity=1.0)
    colours = {tuple(c) for c in drawn.reshape(-1, 3)}
    assert colours <= {tuple(c) for c in model.dataset_meta['geo_palette']}


def test_visualizer_draws_the_chosen_head(trained):
    from mmseg.registry import VISUALIZERS
    model = init_model(trained['config'], osp.join(trained['work'], 'iter_2.pth'))
    from mmseg.apis import inference_model
    img_path = osp.join(str(trained['root'] / 'data'), 'Images',
                        'spatial_envelope_256x256_static_8outdoorcategories',
                        TEST[1] + '.jpg')
    result = inference_model(model, img_path)
    image = np.zeros(result.pred_sem_seg.shape + (3, ), np.uint8)
    drawn = {}
    for head in (None, 'geo'):
        vis = VISUALIZERS.build(dict(type='MultiHeadSegLocalVisualizer', head=head,
                                     name=f'siftflow_vis_{head}', alpha=1.0))
        vis.dataset_meta = model.dataset_meta
        vis.add_datasample('x', image, result, draw_gt=False, with_labels=False)
        drawn[head] = vis.get_image()
        assert vis.dataset_meta is model.dataset_meta  # restored
    palette = np.array(model.dataset_meta['geo_palette'])
    np.testing.assert_array_equal(drawn['geo'],
                                  palette[result.pred_geo_seg.data[0].numpy()])
    palette = np.array(model.dataset_meta['palette'])
    np.testing.assert_array_equal(drawn[None],
                                  palette[result.pred_sem_seg.data[0].numpy()])


def test_export_gives_one_output_per_head(trained, tmp_path, capsys):
    import onnxruntime as ort
    ckpt = osp.join(trained['work'], 'iter_2.pth')
    onnx_file = str(tmp_path / 'siftflow.onnx')
    assert export.main([trained['config'], ckpt, '--format', 'onnx', '--dynamic',
                        '--out', onnx_file, '--shape', '32', '32']) == 0
    assert 'output logits (33 classes), geo_logits (3 classes)' in capsys.readouterr().out
    session = ort.InferenceSession(onnx_file, providers=['CPUExecutionProvider'])
    assert [o.name for o in session.get_outputs()] == ['logits', 'geo_logits']
    meta = {k: json.loads(v) for k, v in
            session.get_modelmeta().custom_metadata_map.items()}
    model = init_model(trained['config'], ckpt)
    assert meta == input_convention(model)
    assert meta['mean'] == [114.578, 115.294, 108.353]
    assert meta['outputs'] == ['logits', 'geo_logits']
    assert meta['heads']['geo']['classes'] == ['sky', 'horizontal', 'vertical']
    net = SegmentationNet(model).eval()
    for size in ((1, 1), (27, 45)):
        x = torch.randn(1, 3, *size, generator=torch.Generator().manual_seed(1))
        sem, geo = session.run(None, {'image': x.numpy()})
        with torch.no_grad():
            ref_sem, ref_geo = net(x)
        torch.testing.assert_close(torch.from_numpy(sem), ref_sem, rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(torch.from_numpy(geo), ref_geo, rtol=1e-4, atol=1e-4)

    import mmseg_fcn_classic_onnx  # mmseg-fcn-infer-onnx
    images = osp.join(str(trained['root'] / 'data'), 'Images')
    out = tmp_path / 'onnx_labels'
    assert mmseg_fcn_classic_onnx.main([onnx_file, images, '--out-dir', str(out)]) == 0
    assert f'wrote {2 * len(TRAINVAL + TEST)} label PNGs' in capsys.readouterr().out
    names = sorted(p.name for p in out.rglob('*.png'))
    assert names == sorted([f'{i}.png' for i in TRAINVAL + TEST] +
                           [f'{i}_geo.png' for i in TRAINVAL + TEST])


@pytest.mark.parametrize('heads, message', [
    ('[1]', "'heads' must map"),
    ('{"geo x": {"output": "geo_logits"}}', 'names a head'),
    ('{"geo": {"num_classes": 3}}', "'heads.geo' must name its output"),
    ('{"geo": {"output": "geo_logits", "num_classes": 0}}',
     "'heads.geo.num_classes' must be an integer"),
    ('{"geo": {"output": "geo_logits", "palette": [[0, 0, 300]]}}',
     "'heads.geo.palette' must be a list"),
])
def test_infer_onnx_checks_the_heads_metadata(heads, message):
    from mmseg_fcn_classic_onnx import ConventionError, parse_convention
    meta = dict(mean='[114.578, 115.294, 108.353]', std='[1, 1, 1]',
                channel_order='"bgr"', input='"image"', output='"logits"')
    good = parse_convention(dict(meta, heads='{"geo": {"output": "geo_logits", '
                                 '"num_classes": 3}}'))
    assert good['heads'] == {'geo': {'output': 'geo_logits', 'num_classes': 3}}
    with pytest.raises(ConventionError, match=message):
        parse_convention(dict(meta, heads=heads), 'sf.onnx')
