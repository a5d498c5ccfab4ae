"""Checkpoint loading on torch>=2.6 and the CPU-distributed config fixes."""
import os
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader, _load_checkpoint

import mmseg_fcn_classic  # noqa: F401  (registers the loader schemes)
from mmseg_fcn_classic.engine.checkpoint import TRUSTED_PREFIX, load_checkpoint_file

MARKER_ENV = 'FCN_CLASSIC_TEST_MARKER'


class _Payload:
    """Unpickling this runs code: it creates the file named in the env var."""

    def __reduce__(self):
        return (open, (os.environ[MARKER_ENV], 'w'))


def test_local_scheme_is_ours():
    loader = CheckpointLoader._get_checkpoint_loader('work_dirs/x/iter_4.pth')
    assert loader.__module__ == 'mmseg_fcn_classic.engine.checkpoint'
    assert CheckpointLoader._get_checkpoint_loader(
        TRUSTED_PREFIX + 'a.pth').__module__ == 'mmseg_fcn_classic.engine.checkpoint'


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
