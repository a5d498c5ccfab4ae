"""mmseg-fcn-export (ONNX, torch.export) and mmseg-fcn-infer-onnx (no mmseg, no torch)."""
import json
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

import mmseg_fcn_classic_onnx as infer_onnx
from mmseg_fcn_classic.apis import init_model
from mmseg_fcn_classic.apis.deploy import (CONVENTION_FILE, SegmentationNet,
                                           input_convention, load_exported_program)
from mmseg_fcn_classic.testing.narrow import randomize_, write_tiny_config
from mmseg_fcn_classic.testing.synthetic import write_png_header_only
from mmseg_fcn_classic.tools.export import main as export_main

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: The clone's script (the console script runs the same main).
INFER_ONNX = osp.join(REPO, 'tools', 'infer_onnx.py')
EXPORT_SIZE = (48, 64)
#: Sizes other than the exported one, down to 1x1.
SIZES = [(1, 1), (17, 33), (64, 80), (120, 97)]


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """A tiny FCN-8s config (2 classes) and a checkpoint of random weights with
    dataset_meta."""
    from mmseg.apis import init_model as mmseg_init_model
    root = tmp_path_factory.mktemp('export')
    config = write_tiny_config(str(root / 'tiny.py'), str(root / 'no_data'))
    model = mmseg_init_model(config, None, device='cpu')
    randomize_(model, upscore='bilinear')
    assert model.decode_head.num_classes == 2
    meta = dict(classes=['mucosa', 'polyp'], palette=[[0, 0, 0], [255, 0, 0]])
    checkpoint = str(root / 'tiny.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict(dataset_meta=meta)),
               checkpoint)
    return config, checkpoint, root


@pytest.fixture(scope='module')
def onnx_file(trained):
    config, checkpoint, root = trained
    out = str(root / 'tiny.onnx')
    assert export_main([config, checkpoint, '--format', 'onnx', '--dynamic', '--out',
                        out, '--shape', *map(str, EXPORT_SIZE)]) == 0
    return out


def _reference(config, checkpoint):
    """The PyTorch network of the checkpoint, and its input convention."""
    model = init_model(config, checkpoint, device='cpu')
    return SegmentationNet(model).eval(), input_convention(model)


def _images(n=2):
    gen = torch.Generator().manual_seed(3)
    return [torch.randint(0, 256, (1, 3, *size), generator=gen).float()
            for size in SIZES[:n]]


def _normalise(img, convention):
    """``(1, 3, H, W)`` BGR 0-255 (as mmcv reads images) to the network input."""
    x = img[:, [2, 1, 0]] if convention['channel_order'] == 'rgb' else img
    mean = torch.tensor(convention['mean']).view(1, 3, 1, 1)
    std = torch.tensor(convention['std']).view(1, 3, 1, 1)
    return (x - mean) / std


def test_onnx_dynamic_equals_pytorch_at_other_sizes(trained, onnx_file):
    import onnxruntime as ort
    net, convention = _reference(*trained[:2])
    session = ort.InferenceSession(onnx_file, providers=['CPUExecutionProvider'])
    (inp, ), (out, ) = session.get_inputs(), session.get_outputs()
    assert (inp.name, out.name) == ('image', 'logits')
    gen = torch.Generator().manual_seed(0)
    for size in SIZES:
        x = _normalise(torch.randint(0, 256, (1, 3, *size), generator=gen).float(),
                       convention)
        got = session.run(None, {'image': x.numpy()})[0]
        with torch.no_grad():
            expected = net(x)
        assert got.shape == (1, 2, *size)
        assert expected.abs().max() > 0.1  # a non-trivial comparison
        torch.testing.assert_close(torch.from_numpy(got), expected, rtol=1e-4,
                                   atol=1e-4)


def test_onnx_carries_the_input_convention(trained, onnx_file):
    import onnx
    meta = {p.key: json.loads(p.value) for p in onnx.load(onnx_file).metadata_props}
    _, convention = _reference(*trained[:2])
    assert meta == convention
    # the demo config's caffe convention: BGR, Caffe mean, std 1
    assert meta['channel_order'] == 'bgr' and meta['std'] == [1.0, 1.0, 1.0]
    assert meta['mean'] == pytest.approx([104.00699, 116.66877, 122.67892])
    assert meta['classes'] == ['mucosa', 'polyp']  # the checkpoint's dataset_meta
    assert meta['palette'] == [[0, 0, 0], [255, 0, 0]] and meta['num_classes'] == 2


def test_exported_program_dynamic_and_static(trained):
    config, checkpoint, root = trained
    net, convention = _reference(config, checkpoint)
    dynamic, static = str(root / 'dynamic.pt2'), str(root / 'static.pt2')
    assert export_main([config, checkpoint, '--format', 'exported-program',
                        '--dynamic', '--out', dynamic, '--shape', '40', '30']) == 0
    program, stored = load_exported_program(dynamic)
    assert stored == convention
    extra = {CONVENTION_FILE: ''}  # plain torch.export.load reads it too
    torch.export.load(dynamic, extra_files=extra)
    assert json.loads(extra[CONVENTION_FILE]) == convention
    module = program.module()
    for x in _images(4):
        with torch.no_grad():
            torch.testing.assert_close(module(x), net(x), rtol=1e-4, atol=1e-4)

    assert export_main([config, checkpoint, '--format', 'exported-program',
                        '--out', static, '--shape', '40', '30']) == 0
    module = load_exported_program(static)[0].module()
    x = torch.rand(1, 3, 40, 30)
    with torch.no_grad():
        torch.testing.assert_close(module(x), net(x), rtol=1e-4, atol=1e-4)
        with pytest.raises(Exception, match='== 40'):  # only the exported size
            module(torch.rand(1, 3, 41, 30))


def test_export_reports_a_missing_checkpoint(trained, tmp_path, capsys):
    config = trained[0]
    assert export_main([config, str(tmp_path / 'nope.pth'), '--out',
                        str(tmp_path / 'x.onnx')]) == 1
    assert 'nope.pth' in capsys.readouterr().err


def test_export_without_onnx_packages_names_the_extra(trained, tmp_path, capsys,
                                                      monkeypatch):
    monkeypatch.setitem(sys.modules, 'onnxscript', None)  # import fails
    assert export_main([trained[0], trained[1], '--out', str(tmp_path / 'x.onnx')]) == 1
    err = capsys.readouterr().err
    assert "'onnxscript'" in err and "pip install 'mmseg_fcn_classic[export]'" in err
    assert not (tmp_path / 'x.onnx').exists()


def _write_pngs(folder, sizes):
    folder.mkdir()
    gen = np.random.default_rng(0)
    rgbs = {}
    for i, size in enumerate(sizes):
        rgb = gen.integers(0, 256, (*size, 3), dtype=np.uint8)
        Image.fromarray(rgb).save(folder / f'img{i}.png')
        rgbs[f'img{i}'] = rgb
    return rgbs


def test_infer_onnx_runs_without_mmseg_or_torch(trained, onnx_file, tmp_path):
    rgbs = _write_pngs(tmp_path / 'images', [(30, 41), (1, 1), (77, 50)])
    out = tmp_path / 'labels'
    blocked = "import sys; [sys.modules.__setitem__(m, None) for m in " \
              "('torch', 'mmseg', 'mmcv', 'mmengine', 'mmseg_fcn_classic')]; " \
              "import runpy; sys.argv = sys.argv[1:]; " \
              "runpy.run_path(sys.argv[0], run_name='__main__')"
    proc = subprocess.run(
        [sys.executable, '-c', blocked, INFER_ONNX, onnx_file,
         str(tmp_path / 'images'), '--out-dir', str(out)],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'wrote 3 label PNGs' in proc.stdout

    net, convention = _reference(*trained[:2])
    for name, rgb in rgbs.items():
        png = Image.open(out / f'{name}.png')
        assert png.mode == 'P' and png.getpalette()[3:6] == [255, 0, 0]
        bgr = rgb[..., ::-1].copy()  # as mmcv reads the file
        x = _normalise(torch.from_numpy(bgr).permute(2, 0, 1)[None].float(), convention)
        with torch.no_grad():
            logits = net(x)
        labels = np.asarray(png)
        assert labels.shape == rgb.shape[:2]
        agree = (labels == logits[0].argmax(0).numpy()).mean()
        assert agree > 0.99, name  # argmax near-ties aside, the same labels


def test_infer_onnx_logits_equal_pytorch(trained, onnx_file):
    import onnxruntime as ort
    session = ort.InferenceSession(onnx_file, providers=['CPUExecutionProvider'])
    convention = infer_onnx.read_convention(session)
    net, reference = _reference(*trained[:2])
    assert convention == reference
    rgb = np.random.default_rng(1).integers(0, 256, (33, 29, 3), dtype=np.uint8)
    logits, labels = infer_onnx.segment(session, rgb, convention)
    bgr = torch.from_numpy(rgb[..., ::-1].copy()).permute(2, 0, 1)[None].float()
    with torch.no_grad():
        expected = net(_normalise(bgr, reference))
    torch.testing.assert_close(torch.from_numpy(logits), expected, rtol=1e-4, atol=1e-4)
    assert np.array_equal(labels, logits[0].argmax(0))


def test_infer_onnx_rejects_a_model_without_convention(onnx_file, tmp_path):
    import onnx
    model = onnx.load(onnx_file)
    del model.metadata_props[:]
    bare = str(tmp_path / 'bare.onnx')
    onnx.save(model, bare)
    _write_pngs(tmp_path / 'images', [(5, 5)])
    proc = subprocess.run([sys.executable, INFER_ONNX, bare, str(tmp_path / 'images'),
                           '--out-dir', str(tmp_path / 'out')],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    assert 'bare.onnx' in proc.stderr and 'no input convention' in proc.stderr


def _with_metadata(onnx_file, tmp_path, **changes):
    """A copy of the ONNX file whose metadata values (JSON text) are replaced."""
    import onnx
    model = onnx.load(onnx_file)
    for prop in model.metadata_props:
        if prop.key in changes:
            prop.value = changes[prop.key]
    path = str(tmp_path / 'changed.onnx')
    onnx.save(model, path)
    return path


@pytest.mark.parametrize('changes, message', [
    (dict(palette='[' * 100000 + ']' * 100000), "'palette' is nested too deeply"),
    (dict(std='[1.0, 0, 1.0]'), "'std' must be positive"),
    (dict(mean='[1, 2]'), "'mean' must be a list of 3 finite numbers"),
    (dict(mean='[1, NaN, 2]'), "'mean' must be a list of 3 finite numbers"),
    (dict(channel_order='"hsv"'), "'channel_order' must be"),
    (dict(input='"nope"'), "'input' names 'nope'"),
    (dict(palette='[[0, 0, 999]]'), "'palette' must be a list"),
    (dict(classes='"polyp"'), "'classes' must be a list"),
    (dict(num_classes='1e3'), "'num_classes' must be an integer"),
    (dict(std='[1, 1'), "'std' is not JSON"),
])
def test_infer_onnx_refuses_bad_metadata(onnx_file, tmp_path, capsys, changes,
                                         message):
    """Every metadata problem is one line naming the file and the key; no PNG."""
    model = _with_metadata(onnx_file, tmp_path, **changes)
    _write_pngs(tmp_path / 'images', [(5, 6)])
    out = tmp_path / 'out'
    assert infer_onnx.main([model, str(tmp_path / 'images'), '--out-dir',
                            str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f'error: {model}: metadata ') and message in err, err
    assert not out.exists()


@pytest.mark.parametrize('max_pixels, limit', [(None, '16,777,216'),
                                               ('100000000', '100,000,000')])
def test_infer_onnx_names_an_oversized_image_and_goes_on(onnx_file, tmp_path, capsys,
                                                         max_pixels, limit):
    """Refused from the header (900 M pixels in 200 bytes), naming the image; the
    other images are segmented and the exit status says one failed."""
    _write_pngs(tmp_path / 'images', [(7, 9)])
    bomb = tmp_path / 'images' / 'bomb.png'
    write_png_header_only(str(bomb), 30000, 30000)
    out = tmp_path / 'out'
    extra = ['--max-pixels', max_pixels] if max_pixels else []
    assert infer_onnx.main([onnx_file, str(tmp_path / 'images'), '--out-dir', str(out),
                            *extra]) == 1
    captured = capsys.readouterr()
    assert (f"failed: {bomb}: image '{bomb}' is 30000x30000 = 900,000,000 pixels, "
            f'above the limit of {limit}') in captured.err
    assert 'wrote 1 label PNGs' in captured.out and (out / 'img0.png').is_file()
    # no limit of ours: PIL's own decompression-bomb error, naming the file
    with pytest.raises(ValueError, match=f"cannot read image '{bomb}': Image size"):
        infer_onnx.read_rgb(str(bomb), max_pixels=0)
