"""Checkpoint loading on torch>=2.6 and the CPU-distributed config fixes."""
import os
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader, _load_checkpoint

import mmseg_fcn_classic  # noqa: F401  (registers the loader schemes)
from mmseg_fcn_classic.engine.policy import TRUSTED_PREFIX, load_checkpoint_file

MARKER_ENV = 'FCN_CLASSIC_TEST_MARKER'


class _Payload:
    """Unpickling this runs code: it creates the file named in the env var."""

    def __reduce__(self):
        return (open, (os.environ[MARKER_ENV], 'w'))


def test_local_scheme_is_ours():
    loader = CheckpointLoader._get_checkpoint_loader('work_dirs/x/iter_4.pth')
    assert loader.__module__ == 'mmseg_fcn_classic.engine.schemes'
    assert CheckpointLoader._get_checkpoint_loader(
        TRUSTED_PREFIX + 'a.pth').__module__ == 'mmseg_fcn_classic.engine.schemes'


def test_state_dict_loads_weights_only(tmp_path, monkeypatch):
    path = str(tmp_path / 'vgg16.pth')
    sd = {'state_dict': {'conv1_1.weight': torch.randn(4, 3, 3, 3)}}
    torch.save(sd, path)
    seen = []
    real_load = torch.load

    def spy(*args, **kwargs):
        seen.append(kwargs.get('weights_only'))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, 'load', spy)
    out = _load_checkpoint(path, map_location='cpu')
    assert seen == [True]
    torch.testing.assert_close(out['state_dict']['conv1_1.weight'],
                               sd['state_dict']['conv1_1.weight'])


def test_runner_style_checkpoint_loads_without_full_unpickling(tmp_path):
    buf = HistoryBuffer()
    buf.update(1.5)
    buf.update(np.float64(2.0))
    ckpt = {
        'meta': {'iter': 3, 'seed': np.int64(7), 'arr': np.arange(3)},
        'state_dict': {'w': torch.ones(2)},
        'message_hub': {'log_scalars': {'train/loss': buf}, 'runtime_info': {}},
    }
    path = str(tmp_path / 'iter_3.pth')
    torch.save(ckpt, path)
    with pytest.raises(pickle.UnpicklingError):  # what plain torch>=2.6 does
        torch.load(path)
    out = _load_checkpoint(path, map_location='cpu')
    assert out['meta']['iter'] == 3
    assert out['message_hub']['log_scalars']['train/loss'].current() == 2.0
    np.testing.assert_array_equal(out['meta']['arr'], np.arange(3))


def test_code_object_refused_unless_trusted(tmp_path, monkeypatch):
    marker = tmp_path / 'pwned'
    monkeypatch.setenv(MARKER_ENV, str(marker))
    path = str(tmp_path / 'evil.pth')
    torch.save({'state_dict': {}, 'x': _Payload()}, path)
    assert not marker.exists()  # torch.save only records the call
    with pytest.raises(pickle.UnpicklingError) as err:
        _load_checkpoint(path, map_location='cpu')
    assert path in str(err.value) and 'trusted://' in str(err.value)
    assert not marker.exists(), 'refused file must not have executed anything'
    _load_checkpoint(TRUSTED_PREFIX + path, map_location='cpu')
    assert marker.exists(), 'the explicit opt-in unpickles fully'


def test_missing_file_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        load_checkpoint_file(str(tmp_path / 'nope.pth'))


def test_import_does_not_import_torchvision():
    import subprocess
    import sys
    code = ('import sys, mmseg_fcn_classic; '
            'from mmseg.registry import MODELS, DATASETS, TRANSFORMS, METRICS; '
            "assert 'torchvision' not in sys.modules, 'torchvision imported'; "
            "names = ['VGG16FC', 'ClassicFCNHead', 'FCNDataPreProcessor']; "
            'assert all(MODELS.get(n) for n in names), names; '
            "assert DATASETS.get('Polyps912Dataset') and DATASETS.get('PascalVOCSBDDataset'); "
            "assert METRICS.get('FCNMetric')")
    subprocess.run([sys.executable, '-c', code], check=True)


class _GetattrPayload:
    """Pickles as getattr(HistoryBuffer, '__init__'): only statistics may be fetched."""

    def __reduce__(self):
        return (getattr, (HistoryBuffer, '__init__'))


def test_getattr_limited_to_history_buffer_statistics(tmp_path):
    path = str(tmp_path / 'sneaky.pth')
    torch.save({'x': _GetattrPayload()}, path)
    with pytest.raises(pickle.UnpicklingError, match='sneaky.pth'):
        _load_checkpoint(path, map_location='cpu')


@pytest.mark.parametrize('content', ['truncated', 'garbage'])
def test_unreadable_file_named(tmp_path, content):
    path = tmp_path / 'broken.pth'
    torch.save({'state_dict': {'w': torch.ones(100)}}, path)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2] if content == 'truncated' else b'hello')
    with pytest.raises(RuntimeError, match=r"cannot read checkpoint .*broken\.pth"):
        _load_checkpoint(str(path), map_location='cpu')


# ---------------------------------------------------------------- issue 11 cases

from mmseg_fcn_classic.engine.policy import (  # noqa: E402
    MAX_INFLATION_ENV, CheckpointRefusedError, UntrustedPathError, plain_local_path,
    scheme_of, stored_config_problem)


def _deflated_copy(src, dst):
    """The same torch file with its entries deflate-compressed (a 'zip bomb')."""
    import zipfile
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(
            dst, 'w', zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info.filename))


def test_zip_that_inflates_is_refused_before_loading(tmp_path, monkeypatch):
    plain = tmp_path / 'plain.pth'
    torch.save({'w': torch.zeros(2_000_000)}, plain)
    bomb = tmp_path / 'bomb.pth'
    _deflated_copy(plain, bomb)
    assert bomb.stat().st_size * 100 < plain.stat().st_size
    with pytest.raises(CheckpointRefusedError) as err:
        _load_checkpoint(str(bomb))
    assert str(bomb) in str(err.value) and MAX_INFLATION_ENV in str(err.value)
    assert _load_checkpoint(str(plain))['w'].shape == (2_000_000, )  # torch's own files
    monkeypatch.setenv(MAX_INFLATION_ENV, '1000')  # the documented way to raise it
    assert _load_checkpoint(str(bomb))['w'].shape == (2_000_000, )


@pytest.mark.parametrize('text', [
    "import os\nos.system('touch pwned')\n",
    "model = dict(type=__import__('os').system('touch pwned'))\n",
    "dict = exec\nx = dict('import os')\n",
    "_base_ = ['/tmp/evil.py']\n",
    "x = dict(a=().__class__)\n",
    "with read_base():\n    x = 1\n",
])
def test_stored_config_that_is_code_is_refused(tmp_path, text):
    assert stored_config_problem(text) is not None
    for where in ('cfg', 'config'):
        path = tmp_path / f'{where}.pth'
        torch.save({'meta': {where: text}, 'state_dict': {'w': torch.ones(1)}}, path)
        with pytest.raises(CheckpointRefusedError, match=rf"{path}.*meta\['{where}'\]"):
            _load_checkpoint(str(path))
    path = tmp_path / 'hub.pth'
    torch.save({'message_hub': {'runtime_info': {'cfg': text}}}, path)
    with pytest.raises(CheckpointRefusedError, match='runtime_info'):
        _load_checkpoint(str(path))
    assert _load_checkpoint('trusted://' + str(path))['message_hub']  # opt-in


def test_shipped_configs_stored_as_data_pass():
    """What the runner stores (Config.pretty_text) of every shipped config is data."""
    import glob
    from mmengine.config import Config
    REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for path in sorted(glob.glob(os.path.join(REPO, 'configs', '*.py'))):
        problem = stored_config_problem(Config.fromfile(path).pretty_text)
        assert problem is None, (path, problem)


def test_inferencer_does_not_execute_a_stored_config(tmp_path, marker):
    """MMSegInferencer(model=None) executes meta['cfg']; the loader refuses it first."""
    from mmseg.apis import MMSegInferencer
    path = tmp_path / 'ckpt.pth'
    cfg = f"import os\nopen({str(marker)!r}, 'w')\nmodel = dict(type='X')\n"
    torch.save({'meta': {'cfg': cfg}, 'state_dict': {'w': torch.ones(1)}}, path)
    with pytest.raises(CheckpointRefusedError, match=str(path)):
        MMSegInferencer(model=None, weights=str(path), device='cpu')


def test_scheme_of_and_plain_local_path():
    assert scheme_of('/a/iter_4.pth') is None and scheme_of('iter_4.pth') is None
    for path, scheme in [('trusted:///a.pth', 'trusted://'), ('http://h/a', 'http://'),
                         ('open-mmlab://x', 'open-mmlab://'), ('stage://w', 'stage://'),
                         ('c:s3://b/a', r'(\S+\:)?s3://'), ('foo://x', 'foo://')]:
        assert scheme_of(path) == scheme, path
        with pytest.raises(UntrustedPathError, match=r'work/last_checkpoint names'):
            plain_local_path(path, 'work/last_checkpoint')
    assert plain_local_path('/a/iter_4.pth', 'x') == '/a/iter_4.pth'


def test_stage_with_scheme_in_last_checkpoint_is_an_error(tmp_path, evil):
    work = tmp_path / 'stage1'
    work.mkdir()
    (work / 'last_checkpoint').write_text(f'trusted://{evil()}')
    with pytest.raises(UntrustedPathError, match=str(work / 'last_checkpoint')):
        _load_checkpoint(f'stage://{work}')


def test_missing_vgg16_caffe_says_how_to_make_it(tmp_path, monkeypatch):
    """The configs' default backbone init: the error names the source and command."""
    from mmseg_fcn_classic.models.backbones.vgg16_fc import VGG16FC
    monkeypatch.chdir(tmp_path)
    backbone = VGG16FC(widths=(2, 2, 2, 2, 2), fc_channels=4, init_cfg=dict(
        type='Pretrained', checkpoint='checkpoints/vgg16_caffe.pth'))
    with pytest.raises(FileNotFoundError) as err:
        backbone.init_weights()
    assert ('python tools/convert_weights.py VGG_ILSVRC_16_layers.caffemodel '
            'checkpoints/vgg16_caffe.pth') in str(err.value)
    with pytest.raises(FileNotFoundError) as err:
        _load_checkpoint('weights/fcn8s_voc.pth')
    assert 'python tools/convert_weights.py SRC weights/fcn8s_voc.pth' in str(err.value)


def test_pretrained_init_cfg_over_http_is_refused(served, torch_home, evil):
    from mmseg_fcn_classic.models.backbones.vgg16_fc import VGG16FC
    evil(served.root / 'vgg16.pth')
    backbone = VGG16FC(widths=(2, 2, 2, 2, 2), fc_channels=4, init_cfg=dict(
        type='Pretrained', checkpoint=f'{served.url}/vgg16.pth'))
    with pytest.raises(CheckpointRefusedError, match='vgg16.pth'):
        backbone.init_weights()
