"""Inference with converted weights: mmseg APIs, MMSegInferencer, tools/infer.py."""
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from mmseg_fcn_classic.converters.caffe import convert_caffe
from mmseg_fcn_classic.tools import convert_weights
from mmseg_fcn_classic.tools import infer as infer_tool
from mmseg_fcn_classic.utils import runtime
from tests.test_converters.reference_nets import (caffemodel_bytes, fcn_model_cfg,
                                                  reference_arrays, reference_forward)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(ROOT, 'tools', 'infer.py')
CAFFE_MEAN = np.array([104.00699, 116.66877, 122.67892], np.float32)
VARIANT = '8s'
PALETTE = [[0, 0, 0], [200, 30, 30], [30, 200, 30], [30, 30, 200], [220, 220, 40]]
CLASSES = ['background', 'a', 'b', 'c', 'd']


@pytest.fixture
def infer(monkeypatch):
    """The infer tool; the process-wide malloc setting is recorded in
    ``infer.malloc_calls`` instead of changing pytest's process (the
    command-line test below runs the real one)."""
    calls = []
    monkeypatch.setattr(runtime, 'tune_glibc_malloc',
                        lambda: calls.append(True) or True)
    monkeypatch.setattr(infer_tool, 'malloc_calls', calls, raising=False)
    return infer_tool


def _config_text(custom_imports=True):
    pipeline = [dict(type='LoadImageFromFile'), dict(type='PackSegInputs')]
    lines = [
        "default_scope = 'mmseg'",
        f'model = {fcn_model_cfg(VARIANT)!r}',
        f'test_pipeline = {pipeline!r}',
        'test_dataloader = dict(batch_size=1, num_workers=0, dataset=dict('
        "type='BaseSegDataset', data_root='', pipeline=test_pipeline, "
        f'metainfo=dict(classes={CLASSES!r}, palette={PALETTE!r})))',
        "visualizer = dict(type='SegLocalVisualizer', "
        "vis_backends=[dict(type='LocalVisBackend')], name='visualizer')",
    ]
    if custom_imports:
        lines.insert(0, "custom_imports = dict(imports=['mmseg_fcn_classic'], "
                        'allow_failed_imports=False)')
    return '\n'.join(lines) + '\n'


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    """A config, a checkpoint converted from a caffemodel, and a folder of images."""
    root = tmp_path_factory.mktemp('infer')
    arrays = reference_arrays(VARIANT, seed=5)
    # a strong per-class bias makes every class show up somewhere
    arrays['score_fr.bias'] = np.linspace(-2, 2, 5).astype(np.float32)
    model_file = root / 'fcn8s.caffemodel'
    model_file.write_bytes(caffemodel_bytes(arrays, VARIANT))
    state_dict, _ = convert_caffe(str(model_file))
    ckpt = root / 'fcn8s.pth'
    torch.save({'state_dict': state_dict, 'meta': {'variant': VARIANT}}, ckpt)
    config = root / 'fcn8s_tiny.py'
    config.write_text(_config_text())

    rng = np.random.default_rng(0)
    images = root / 'images'
    (images / 'nested').mkdir(parents=True)
    files = {}
    for rel, (h, w) in {'a.png': (37, 53), 'nested/b.jpg': (24, 31),
                        'nested/c.BMP': (40, 29), 'd.tif': (19, 22)}.items():
        img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        path = images / rel
        cv2.imwrite(str(path), img)
        files[rel] = cv2.imread(str(path), cv2.IMREAD_COLOR)  # as decoded (jpg)
    (images / 'readme.txt').write_text('not an image')
    return dict(root=root, arrays=arrays, ckpt=str(ckpt), config=str(config),
                images=images, files=files)


def _expected_labels(arrays, img_bgr):
    """Argmax of the reference net on the Caffe-normalised BGR image."""
    x = torch.from_numpy((img_bgr.astype(np.float32) - CAFFE_MEAN).transpose(2, 0, 1))
    with torch.no_grad():
        logits = reference_forward(arrays, x[None], VARIANT)
    return logits[0].argmax(0).numpy()


def test_init_model_and_inference_model(setup):
    from mmseg.apis import inference_model, init_model
    model = init_model(setup['config'], setup['ckpt'], device='cpu')
    for rel, img in setup['files'].items():
        result = inference_model(model, str(setup['images'] / rel))
        labels = result.pred_sem_seg.data[0].numpy()
        assert labels.shape == img.shape[:2]
        np.testing.assert_array_equal(labels, _expected_labels(setup['arrays'], img))
    assert len(np.unique(labels)) > 1


def test_mmseg_inferencer(setup, tmp_path):
    from mmseg.apis import MMSegInferencer
    inferencer = MMSegInferencer(model=setup['config'], weights=setup['ckpt'],
                                 device='cpu')
    img_path = str(setup['images'] / 'a.png')
    result = inferencer(img_path, out_dir=str(tmp_path))
    np.testing.assert_array_equal(
        result['predictions'],
        _expected_labels(setup['arrays'], setup['files']['a.png']))
    assert (tmp_path / 'vis' / 'a.png').is_file()
    assert len(list((tmp_path / 'pred').iterdir())) == 1


def test_infer_tool(infer, setup, tmp_path, capsys):
    out_dir = tmp_path / 'out'
    code = infer.main([setup['config'], setup['ckpt'], str(setup['images']),
                       '--out-dir', str(out_dir), '--device', 'cpu', '--timing',
                       '--opacity', '0.6'])
    captured = capsys.readouterr()
    assert code == 0
    assert infer.malloc_calls == [True]  # on the CPU, freed memory is kept
    assert 'wrote 4 label and overlay PNGs' in captured.out
    assert 'a.png: 53x37 in' in captured.out and '4 images, mean' in captured.out
    assert 'segmenting' in captured.err  # the progress bar
    for rel, img in setup['files'].items():
        name = osp.splitext(rel)[0] + '.png'
        label_png = Image.open(out_dir / 'labels' / name)
        assert label_png.mode == 'P'
        assert label_png.size == (img.shape[1], img.shape[0])
        labels = np.asarray(label_png)
        np.testing.assert_array_equal(labels, _expected_labels(setup['arrays'], img))
        # the palette is the config's metainfo (the checkpoint has no dataset_meta)
        assert label_png.getpalette()[:15] == sum(PALETTE, [])
        overlay = np.asarray(Image.open(out_dir / 'overlays' / name))
        assert overlay.shape == img.shape
        colours = np.asarray(PALETTE, np.float32)[labels]
        blended = 0.4 * img[..., ::-1].astype(np.float32) + 0.6 * colours
        assert np.abs(overlay - blended).max() <= 1


def test_infer_tool_errors(infer, setup, tmp_path, capsys):
    missing = tmp_path / 'missing.jpg'
    code = infer.main([setup['config'], setup['ckpt'], str(missing),
                       '--out-dir', str(tmp_path / 'o'), '--device', 'cpu'])
    assert code == 1 and f"input '{missing}' does not exist" in capsys.readouterr().err

    broken = tmp_path / 'broken.png'
    broken.write_bytes(b'\x89PNG\r\n\x1a\n but then nothing')
    code = infer.main([setup['config'], setup['ckpt'], str(broken),
                       '--out-dir', str(tmp_path / 'o'), '--device', 'cpu'])
    assert code == 1 and f"cannot read image '{broken}'" in capsys.readouterr().err

    empty = tmp_path / 'empty'
    empty.mkdir()
    code = infer.main([setup['config'], setup['ckpt'], str(empty),
                       '--out-dir', str(tmp_path / 'o'), '--device', 'cpu'])
    assert code == 1 and 'no images' in capsys.readouterr().err
    assert infer.malloc_calls == [True] * 3


def test_infer_tool_can_leave_malloc_alone(infer, setup, tmp_path):
    code = infer.main([setup['config'], setup['ckpt'], str(setup['images'] / 'd.tif'),
                       '--out-dir', str(tmp_path / 'o'), '--device', 'cpu',
                       '--no-progress', '--no-keep-freed-memory'])
    assert code == 0 and infer.malloc_calls == []
    assert (tmp_path / 'o' / 'labels' / 'd.png').is_file()


def test_infer_command_line_imports_the_plugin(setup, tmp_path):
    """A config without custom_imports works: the tool imports the plugin itself."""
    config = tmp_path / 'plain.py'
    config.write_text(_config_text(custom_imports=False))
    out_dir = tmp_path / 'out'
    result = subprocess.run(
        [sys.executable, TOOL, str(config), setup['ckpt'],
         str(setup['images'] / 'd.tif'), '--out-dir', str(out_dir), '--device', 'cpu',
         '--no-progress'],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert Image.open(out_dir / 'labels' / 'd.png').size == (22, 19)


def test_help_states_the_input_convention(capsys):
    with pytest.raises(SystemExit):
        infer_tool.main(['--help'])
    assert 'bgr_to_rgb=False' in capsys.readouterr().out


def test_infer_tool_with_a_shipped_config(infer, setup, tmp_path, capsys):
    """The shipped VOC config (narrowed) with a converted 21-class checkpoint: the
    annotation loader of its test pipeline is skipped and the VOC palette comes from
    the checkpoint."""
    from mmseg.utils import get_palette
    arrays = reference_arrays('8s', num_classes=21, seed=7)
    src = tmp_path / 'fcn8s-heavy-pascal.caffemodel'
    src.write_bytes(caffemodel_bytes(arrays, '8s'))
    ckpt = tmp_path / 'fcn8s_voc.pth'
    assert convert_weights.main([str(src), str(ckpt)]) == 0
    out_dir = tmp_path / 'out'
    code = infer.main([
        osp.join(ROOT, 'configs', 'fcn8s_vgg16_voc.py'), str(ckpt),
        str(setup['images'] / 'nested'), '--out-dir', str(out_dir), '--device', 'cpu',
        '--cfg-options', 'model.backbone.widths=(4,6,8,10,12)',
        'model.backbone.fc_channels=16', 'model.decode_head.in_channels=(8,10,16)'])
    capsys.readouterr()
    assert code == 0
    img = setup['files']['nested/b.jpg']
    label_png = Image.open(out_dir / 'labels' / 'b.png')
    assert label_png.getpalette()[:63] == sum(get_palette('voc'), [])
    x = torch.from_numpy((img.astype(np.float32) - CAFFE_MEAN).transpose(2, 0, 1))
    with torch.no_grad():
        expected = reference_forward(arrays, x[None], '8s')[0].argmax(0).numpy()
    np.testing.assert_array_equal(np.asarray(label_png), expected)


# ---------------------------------------------------------------- bad input (issue 11)


def _run_infer(infer, setup, tmp_path, *extra, ckpt=None, inputs=None):
    """tools/infer.py on one image (or ``inputs``), into tmp_path/out by default."""
    out = [] if '--out-dir' in extra else ['--out-dir', str(tmp_path / 'out')]
    return infer.main([setup['config'], ckpt or setup['ckpt'],
                       *(inputs or [str(setup['images'] / 'd.tif')]), '--device', 'cpu',
                       '--no-progress', *out, *extra])


@pytest.mark.parametrize('kind', ['unrelated', 'mis-sized', 'missing'])
def test_checkpoint_that_does_not_fit_fails_naming_keys(infer, setup, tmp_path, capsys,
                                                        kind):
    state = torch.load(setup['ckpt'], weights_only=False)['state_dict']
    if kind == 'unrelated':
        state, expected = {'foo.weight': torch.ones(3)}, ['foo.weight', 'missing']
    elif kind == 'mis-sized':
        state['decode_head.score_fr.weight'] = torch.zeros(7, 16, 1, 1)
        expected = ['decode_head.score_fr.weight: checkpoint (7, 16, 1, 1) vs model '
                    '(5, 16, 1, 1)']
    else:
        del state['backbone.fc7.weight']
        expected = ['1 missing: backbone.fc7.weight']
    ckpt = tmp_path / 'other.pth'
    torch.save({'state_dict': state}, ckpt)
    assert _run_infer(infer, setup, tmp_path, ckpt=str(ckpt)) == 1
    err = capsys.readouterr().err
    assert f'checkpoint {ckpt} does not fit the model' in err and '--non-strict' in err
    for text in expected:
        assert text in err
    assert not (tmp_path / 'out' / 'labels').exists()
    # an explicit partial load is allowed
    assert _run_infer(infer, setup, tmp_path, '--non-strict', ckpt=str(ckpt)) == 0
    assert (tmp_path / 'out' / 'labels' / 'd.png').is_file()


def test_out_dir_checked_before_the_model_is_built(infer, setup, tmp_path, capsys):
    a_file = tmp_path / 'a_file'
    a_file.write_text('x')
    missing_ckpt = str(tmp_path / 'no_such.pth')  # would fail later, if reached
    for out_dir, message in [(a_file, 'exists and is not a folder'),
                             (a_file / 'sub', 'is not a writable folder')]:
        code = _run_infer(infer, setup, tmp_path, '--out-dir', str(out_dir),
                          ckpt=missing_ckpt)
        err = capsys.readouterr().err
        assert code == 1 and f"--out-dir '{out_dir}' {message}" in err, err
        assert 'no_such.pth' not in err


@pytest.mark.skipif(os.geteuid() == 0, reason='root may write to a read-only folder')
def test_unwritable_out_dir(infer, setup, tmp_path, capsys):
    locked = tmp_path / 'locked'
    locked.mkdir(mode=0o500)
    code = _run_infer(infer, setup, tmp_path, '--out-dir', str(locked))
    assert code == 1 and 'is not a writable folder' in capsys.readouterr().err


def test_out_dir_that_cannot_be_created(infer, setup, tmp_path, capsys):
    """Under a file no folder can be made, for root too."""
    (tmp_path / 'a_file').write_text('')
    out_dir = tmp_path / 'a_file' / 'out'
    code = _run_infer(infer, setup, tmp_path, '--out-dir', str(out_dir))
    err = capsys.readouterr().err
    assert code == 1
    assert f"--out-dir '{out_dir}' is not a writable folder: Not a directory" in err


@pytest.mark.skipif(not osp.isdir('/proc/self'), reason='needs procfs')
def test_out_dir_that_takes_no_files(infer, setup, tmp_path, capsys):
    """An existing folder that refuses new files, for root too."""
    code = _run_infer(infer, setup, tmp_path, '--out-dir', '/proc/self')
    assert code == 1
    assert "--out-dir '/proc/self' is not a writable folder" in capsys.readouterr().err


def test_one_bad_image_does_not_stop_the_batch(infer, setup, tmp_path, capsys):
    folder = tmp_path / 'batch'
    folder.mkdir()
    for name in ('a.png', 'd.tif'):
        (folder / name).write_bytes((setup['images'] / name).read_bytes())
    (folder / 'b_broken.png').write_bytes(b'\x89PNG\r\n\x1a\n but then nothing')
    (folder / 'c_big.png').write_bytes((setup['images'] / 'a.png').read_bytes())
    code = _run_infer(infer, setup, tmp_path, '--max-pixels', str(40 * 40),
                      inputs=[str(folder)])
    captured = capsys.readouterr()
    assert code == 1
    assert 'wrote 1 label and overlay PNGs' in captured.out  # d.tif (22x19)
    assert 'error: 3 of 4 images failed:' in captured.err
    assert f"cannot read image '{folder / 'b_broken.png'}'" in captured.err
    assert (f"image '{folder / 'c_big.png'}' is 53x37 = 1,961 pixels, above the limit "
            'of 1,600 (--max-pixels)') in captured.err
    assert sorted(p.name for p in (tmp_path / 'out' / 'labels').iterdir()) == ['d.png']
    assert _run_infer(infer, setup, tmp_path, '--max-pixels', '0',
                      inputs=[str(folder / 'c_big.png')]) == 0


def test_huge_image_refused_from_its_header(tmp_path):
    """An 8000x8000 PNG of a few kB: refused before it is decoded."""
    from mmseg_fcn_classic.apis.inference import MAX_PIXELS, read_image
    path = tmp_path / 'huge.png'
    Image.new('L', (8000, 8000)).save(path, optimize=True)
    assert path.stat().st_size < 200_000
    with pytest.raises(ValueError, match=r"huge\.png' is 8000x8000 = 64,000,000 pixels"):
        read_image(str(path), max_pixels=MAX_PIXELS)


def radiance_hdr(width: int, height: int) -> bytes:
    """A black Radiance HDR image (what cv2 decodes and PIL cannot parse), written
    scanline by scanline in its run-length encoding: 6000x6000 is 2.3 MB."""
    runs = b''.join(bytes([128 + min(127, width - x), 0])
                    for x in range(0, width, 127))
    line = bytes([2, 2, width >> 8, width & 255]) + runs * 4
    return (b'#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n' +
            f'-Y {height} +X {width}\n'.encode() + line * height)


def test_image_without_a_header_pil_reads_is_refused_before_decoding(tmp_path):
    """Issue 20: a 2.3 MB HDR of 6000x6000 saved as .png decoded fully (1 GB)
    before the pixel limit was checked."""
    from mmseg_fcn_classic.apis.inference import MAX_PIXELS, read_image
    small = tmp_path / 'small.png'
    small.write_bytes(radiance_hdr(300, 20))
    assert read_image(str(small), max_pixels=0).shape == (20, 300, 3)  # cv2 reads it
    path = tmp_path / 'huge.png'
    path.write_bytes(radiance_hdr(6000, 6000))
    assert 2_000_000 < path.stat().st_size < 2_500_000
    with pytest.raises(ValueError, match=rf"cannot read image '{path}': its size is "
                       'not in a header PIL reads') as err:
        read_image(str(path), max_pixels=MAX_PIXELS)
    assert '--max-pixels 0' in str(err.value)


def test_checkpoint_over_http_is_refused(infer, setup, tmp_path, capsys, monkeypatch):
    import functools
    import http.server
    import threading
    from tests.test_engine.conftest import WriteMarker
    marker = tmp_path / 'PWNED'
    (tmp_path / 'www').mkdir()
    torch.save({'state_dict': {}, 'x': WriteMarker(marker)}, tmp_path / 'www' / 'e.pth')
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / 'www')))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    try:
        url = f'http://127.0.0.1:{server.server_address[1]}/e.pth'
        assert _run_infer(infer, setup, tmp_path, ckpt=url) == 1
    finally:
        server.shutdown()
        server.server_close()
    err = capsys.readouterr().err
    assert 'Refusing to fully unpickle checkpoint' in err and url in err
    assert not marker.exists()
