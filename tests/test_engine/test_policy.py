"""The unpickling policy (engine/policy.py): what a checkpoint may hold, and how
every failure names the file."""
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
    scheme_of)


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
    from mmseg_fcn_classic.utils.commands import tool_command
    from mmseg_fcn_classic.models.backbones.vgg16_fc import VGG16FC
    monkeypatch.chdir(tmp_path)
    backbone = VGG16FC(widths=(2, 2, 2, 2, 2), fc_channels=4, init_cfg=dict(
        type='Pretrained', checkpoint='checkpoints/vgg16_caffe.pth'))
    with pytest.raises(FileNotFoundError) as err:
        backbone.init_weights()
    message = str(err.value)  # the installed command first, the clone's second
    installed = tool_command('convert_weights', 'VGG_ILSVRC_16_layers.caffemodel '
                             'checkpoints/vgg16_caffe.pth')
    clone = ('python tools/convert_weights.py VGG_ILSVRC_16_layers.caffemodel '
             'checkpoints/vgg16_caffe.pth')
    assert installed in message and clone in message
    assert message.index(installed) < message.index(clone)
    with pytest.raises(FileNotFoundError) as err:
        _load_checkpoint('weights/fcn8s_voc.pth')
    assert tool_command('convert_weights', 'SRC weights/fcn8s_voc.pth') in str(err.value)
    assert 'python tools/convert_weights.py SRC weights/fcn8s_voc.pth' in str(err.value)


def test_pretrained_init_cfg_over_http_is_refused(served, torch_home, evil):
    from mmseg_fcn_classic.models.backbones.vgg16_fc import VGG16FC
    evil(served.root / 'vgg16.pth')
    backbone = VGG16FC(widths=(2, 2, 2, 2, 2), fc_channels=4, init_cfg=dict(
        type='Pretrained', checkpoint=f'{served.url}/vgg16.pth'))
    with pytest.raises(CheckpointRefusedError, match='vgg16.pth'):
        backbone.init_weights()


# ---------------------------------------------------------------- issue 20 payloads

from mmseg_fcn_classic.engine.policy import CheckpointReadError  # noqa: E402

from . import pickles  # noqa: E402


@pytest.mark.parametrize('payload, error, reason', [
    (pickles.zero_size_array, CheckpointRefusedError,
     r'an array of shape \(1000000000000000,\) and dtype \[\]: '
     r'1,000,000,000,000,000 elements'),
    (pickles.object_flag_dtype, CheckpointReadError,
     'TypeError: object pickle not returning list'),
    (pickles.negative_shape, CheckpointReadError,
     'ValueError: negative dimensions are not allowed'),
    (pickles.negative_state_shape, CheckpointReadError, 'impossible dimension'),
    (pickles.legacy_storage_bomb, CheckpointRefusedError,
     'its storages declare 322,122,547,200 bytes in a [0-9,]+-byte file'),
], ids=['zero-size-dtype', 'object-flags', 'negative-shape', 'negative-state-shape',
        'legacy-300GiB'])
def test_hostile_arguments_to_allowed_types_are_refused_naming_the_file(
        tmp_path, payload, error, reason):
    """Each payload is built only from allowlisted globals; torch alone hangs later
    (10^15 elements), raises a bare error or reserves 300 GiB."""
    path = payload(tmp_path / 'hostile.pth')
    assert os.path.getsize(path) < 20_000
    with pytest.raises(error, match=rf"(?s){path}.*{reason}"):
        _load_checkpoint(path, map_location='cpu')


def test_history_buffer_does_not_change_the_class(tmp_path):
    """A buffer remapping 'mean' to 'max' loads, and every buffer's mean stays mean;
    the statistics a file may name are fixed in our code."""
    HistoryBuffer()  # mmengine registers its statistics lazily
    before = dict(HistoryBuffer._statistics_methods)
    loaded = _load_checkpoint(pickles.remapped_mean(tmp_path / 'remap.pth'))
    assert HistoryBuffer._statistics_methods == before
    assert HistoryBuffer._statistics_methods['mean'] is HistoryBuffer.mean
    buf = loaded['message_hub']['log_scalars']['train/loss']
    assert type(buf) is HistoryBuffer and buf.mean() == 1.0
    fresh = HistoryBuffer([1.0, 3.0], [1, 1])
    assert fresh.statistics('mean') == 2.0
    # a name registered in this process does not widen what a file may fetch
    HistoryBuffer._statistics_methods['custom'] = HistoryBuffer.max
    try:
        for name in ('custom', '__init__', '__subclasses__'):
            path = pickles.save(pickles.runner_like(log_scalars={'x': pickles.history_buffer(
                pickles.buffer_state(**{name: pickles.statistic(name)}))}),
                tmp_path / f'{name}.pth')
            with pytest.raises(CheckpointRefusedError,
                               match=rf"(?s){path}.*getattr\(HistoryBuffer, '{name}'\)"):
                _load_checkpoint(path)
    finally:
        del HistoryBuffer._statistics_methods['custom']


@pytest.mark.parametrize('state, reason', [
    ([1, 2], 'HistoryBuffer state is a list'),
    (dict(max_length=-1), 'max_length -1 is not a positive integer'),
    (dict(max_length=2, _log_history='x', _count_history='x'), 'not a 1-d numeric'),
])
def test_malformed_history_buffer_state_is_refused(tmp_path, state, reason):
    """mmengine's __setstate__ raised a bare AttributeError on a list state."""
    path = pickles.save(pickles.runner_like(
        log_scalars={'x': pickles.history_buffer(state)}), tmp_path / 'buffer.pth')
    with pytest.raises(CheckpointRefusedError, match=rf'(?s){path}.*{reason}'):
        _load_checkpoint(path)


def test_genuine_legacy_format_file_loads(tmp_path):
    """pytorch-fcn's 2017 files are in torch's legacy format: the bound passes them."""
    path = tmp_path / 'legacy.pth'
    weights = {'conv1_1.weight': torch.randn(4, 3, 3, 3), 'w': torch.arange(5.)[1:]}
    torch.save(weights, path, _use_new_zipfile_serialization=False)
    loaded = _load_checkpoint(str(path))
    for key, value in weights.items():
        assert torch.equal(loaded[key], value)
