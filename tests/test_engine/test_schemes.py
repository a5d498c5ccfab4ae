"""Every loader scheme goes through the safe policy: a malicious pickle never runs.

Each test fetches a checkpoint through mmengine's ``_load_checkpoint`` (the function
the runner, ``Pretrained`` and the inferencers call), so the scheme dispatch and
mmengine's own name tables are exercised. Network schemes fetch from a real HTTP
server on 127.0.0.1; schemes whose service cannot run offline (``https://``,
``mmcls://``, ``pavi://``, ``s3://``) get their bytes from a local stand-in reached
through the same code path (torch's download cache, a ``pavi`` package, an mmengine
file backend). ``marker`` asserts after each test that nothing was unpickled fully.
"""
import json
import os.path as osp
import sys

import pytest
import torch
from mmengine.fileio.backends import backends as file_backends
from mmengine.fileio.backends import register_backend
from mmengine.runner.checkpoint import CheckpointLoader, _load_checkpoint

from mmseg_fcn_classic.engine.policy import CheckpointRefusedError
from mmseg_fcn_classic.engine.schemes import register_checkpoint_loaders

REFUSED = r'(?s)Refusing to fully unpickle checkpoint .*{}.*\(io\.open\)'


def test_every_registered_scheme_is_under_the_policy():
    for prefix, loader in CheckpointLoader._schemes.items():
        assert loader.__module__.startswith('mmseg_fcn_classic.engine.'), (prefix, loader)
    for prefix in ('', 'http://', 'https://', 'torchvision://', 'modelzoo://',
                   'open-mmlab://', 'openmmlab://', 'mmcls://', 'pavi://',
                   r'(\S+\:)?s3://', r'(\S+\:)?petrel://', 'trusted://', 'stage://'):
        assert prefix in CheckpointLoader._schemes, prefix


def test_a_scheme_registered_earlier_by_another_package_is_wrapped(
        tmp_path, evil, marker):
    """Another package's naive loader keeps its fetch but cannot unpickle fully."""
    def load_from_naive(filename, map_location=None):
        return torch.load(filename[len('naive://'):], map_location=map_location,
                          weights_only=False)

    CheckpointLoader.register_scheme('naive://', load_from_naive, force=True)
    try:
        register_checkpoint_loaders()
        wrapped = CheckpointLoader._schemes['naive://']
        assert wrapped.wrapped is load_from_naive
        with pytest.raises(CheckpointRefusedError, match=r'(?s)naive://.*open'):
            _load_checkpoint(f'naive://{evil()}')
        plain = tmp_path / 'plain.pth'
        torch.save({'w': torch.arange(3)}, plain)
        assert _load_checkpoint(f'naive://{plain}')['w'].tolist() == [0, 1, 2]
        register_checkpoint_loaders()  # idempotent: not wrapped twice
        assert CheckpointLoader._schemes['naive://'] is wrapped
    finally:
        del CheckpointLoader._schemes['naive://']


def test_http(served, torch_home, evil):
    evil(served.root / 'evil.pth')
    torch.save({'state_dict': {'w': torch.arange(4.)}}, served.root / 'good.pth')
    url = f'{served.url}/evil.pth'
    with pytest.raises(CheckpointRefusedError, match=REFUSED.format(url)):
        _load_checkpoint(url, map_location='cpu')
    good = _load_checkpoint(f'{served.url}/good.pth', map_location='cpu')
    assert good['state_dict']['w'].tolist() == [0, 1, 2, 3]
    assert (torch_home / 'good.pth').is_file()  # torch's hub cache, as mmengine


def test_https_uses_the_same_fetch_and_policy(torch_home, evil):
    """No TLS server offline: the file is already in the download cache, which the
    https fetch reads before any network access."""
    url = 'https://download.example.org/models/evil-0123abcd.pth'
    evil(torch_home / 'evil-0123abcd.pth')
    with pytest.raises(CheckpointRefusedError, match=REFUSED.format(url)):
        _load_checkpoint(url, map_location='cpu')


@pytest.fixture
def fake_torchvision(tmp_path, monkeypatch, served):
    """A torchvision package on disk whose model table points at the loopback
    server (mmengine's get_torchvision_models reads ``model_urls`` of torchvision
    < 0.13)."""
    pkg = tmp_path / 'site' / 'torchvision'
    (pkg / 'models').mkdir(parents=True)
    (pkg / '__init__.py').write_text("__version__ = '0.12.0'\nfrom . import models\n")
    (pkg / 'models' / '__init__.py').write_text('')
    (pkg / 'models' / 'vgg.py').write_text(
        f"model_urls = {{'vgg16': '{served.url}/vgg16-397923af.pth'}}\n")
    for name in [m for m in sys.modules if m.split('.')[0] == 'torchvision']:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.syspath_prepend(str(tmp_path / 'site'))
    yield
    for name in [m for m in sys.modules if m.split('.')[0] == 'torchvision']:
        del sys.modules[name]


@pytest.mark.parametrize('scheme', ['torchvision://', 'modelzoo://'])
def test_torchvision(scheme, fake_torchvision, served, torch_home, evil):
    evil(served.root / 'vgg16-397923af.pth')
    with pytest.raises(CheckpointRefusedError, match=REFUSED.format('vgg16-397923af')):
        _load_checkpoint(f'{scheme}vgg16', map_location='cpu')


def test_torchvision_missing_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, 'torchvision', None)  # import fails
    with pytest.raises(ImportError) as err:
        _load_checkpoint('torchvision://vgg16')
    assert "pip install 'mmseg_fcn_classic[torchvision]'" in str(err.value)
    assert 'torchvision://vgg16' in str(err.value)


@pytest.mark.parametrize('scheme', ['open-mmlab://', 'openmmlab://'])
def test_openmmlab(scheme, tmp_path, monkeypatch, served, torch_home, evil):
    """mmengine reads MMENGINE_HOME/open_mmlab.json: a URL, or a file under it."""
    home = tmp_path / 'mmengine_home'
    home.mkdir()
    (home / 'open_mmlab.json').write_text(json.dumps(
        {'evil_url': f'{served.url}/evil_url.pth', 'evil_file': 'evil_file.pth'}))
    monkeypatch.setenv('MMENGINE_HOME', str(home))
    evil(served.root / 'evil_url.pth')
    evil(home / 'evil_file.pth')
    with pytest.raises(CheckpointRefusedError, match=REFUSED.format('evil_url')):
        _load_checkpoint(f'{scheme}evil_url')
    with pytest.raises(CheckpointRefusedError,
                       match=REFUSED.format(osp.join(str(home), 'evil_file.pth'))):
        _load_checkpoint(f'{scheme}evil_file')


def test_mmcls(torch_home, evil, marker):
    """mmcls://vgg16 resolves through mmengine's hub/mmcls.json to an https URL;
    its file is placed in the download cache."""
    cached = torch_home / 'vgg16_batch256_imagenet_20210208-db26f1a5.pth'
    evil(cached)
    with pytest.raises(CheckpointRefusedError, match=REFUSED.format(cached.name)):
        _load_checkpoint('mmcls://vgg16')
    torch.save({'state_dict': {'backbone.conv.weight': torch.ones(1),
                               'head.fc.weight': torch.ones(1)}}, cached)
    assert list(_load_checkpoint('mmcls://vgg16')['state_dict']) == ['conv.weight']


def test_pavi(tmp_path, monkeypatch, evil):
    """A ``pavi`` package on disk whose modelcloud 'downloads' a local file."""
    source = evil(tmp_path / 'cloud' / 'evil.pth')
    pkg = tmp_path / 'site' / 'pavi'
    pkg.mkdir(parents=True)
    (pkg / '__init__.py').write_text('')
    (pkg / 'modelcloud.py').write_text(
        'import shutil\n'
        'class _Model:\n'
        "    name = 'evil.pth'\n"
        '    def download(self, path):\n'
        f'        shutil.copy({str(source)!r}, path)\n'
        'def get(path):\n'
        '    return _Model()\n')
    monkeypatch.syspath_prepend(str(tmp_path / 'site'))
    monkeypatch.delitem(sys.modules, 'pavi', raising=False)
    monkeypatch.delitem(sys.modules, 'pavi.modelcloud', raising=False)
    try:
        with pytest.raises(CheckpointRefusedError, match=REFUSED.format('pavi://')):
            _load_checkpoint('pavi://project/evil.pth')
    finally:
        sys.modules.pop('pavi', None)
        sys.modules.pop('pavi.modelcloud', None)


@pytest.mark.parametrize('uri', ['s3://bucket/evil.pth', 'cluster:s3://bucket/evil.pth',
                                 'petrel://bucket/evil.pth'])
def test_s3_petrel(uri, tmp_path, monkeypatch, evil):
    """mmengine's 'petrel' file backend (needs petrel_client) stood in for by a
    backend registered under its name that serves a local folder."""
    from mmengine.fileio import LocalBackend
    evil_bytes = evil().read_bytes()

    class Store(LocalBackend):
        def get(self, filepath):
            assert filepath == uri
            return evil_bytes

    monkeypatch.setitem(file_backends, 'petrel', file_backends['petrel'])
    register_backend('petrel', Store, force=True)
    with pytest.raises(CheckpointRefusedError, match=REFUSED.format(uri)):
        _load_checkpoint(uri)


def test_trusted_is_honoured_when_typed(evil, tmp_path):
    marker = tmp_path / 'PWNED'
    _load_checkpoint('trusted://' + str(evil()), map_location='cpu')
    assert marker.exists(), 'trusted:// typed by the user unpickles fully'
    marker.unlink()


CAFFE_REFUSED = (r"(?s)^'{url}' is a Caffe model \(\.caffemodel\), which loads only after "
                 r'conversion to a PyTorch checkpoint; nothing was downloaded\. Download '
                 r'it by hand{mim}, then convert it once:\n  \S.*convert.weights '
                 r'{source} {name}\.pth\nand pass {name}\.pth as the checkpoint')


def _caffe_refused(url, name, config=None, suffix='.caffemodel'):
    import re
    mim = (re.escape(f' (or: mim download mmseg_fcn_classic --config {config} '
                     '--dest DIR)') if config else '')
    return CAFFE_REFUSED.format(url=re.escape(url), mim=mim, name=re.escape(name),
                                source=re.escape(name + suffix))


@pytest.mark.parametrize('path, suffix', [
    ('models/fcn8s-heavy-pascal.caffemodel', '.caffemodel'),
    ('models/fcn8s-heavy-pascal.CAFFEMODEL?dl=1', '.CAFFEMODEL')])
def test_a_caffe_model_url_is_refused_before_downloading(served, torch_home, path,
                                                         suffix):
    (served.root / 'models').mkdir()
    (served.root / 'models' / 'fcn8s-heavy-pascal.caffemodel').write_bytes(b'caffe')
    url = f'{served.url}/{path}'
    with pytest.raises(CheckpointRefusedError, match=_caffe_refused(
            url, 'fcn8s-heavy-pascal', suffix=suffix)):
        _load_checkpoint(url, map_location='cpu')
    assert served.requests == [] and not torch_home.exists()
    # a .pth from the same server still loads
    torch.save({'w': torch.ones(1)}, served.root / 'models' / 'converted.pth')
    assert _load_checkpoint(f'{served.url}/models/converted.pth')['w'].tolist() == [1.]
    assert served.requests == ['/models/converted.pth']


def test_load_from_a_caffe_model_url_is_refused_before_downloading(served, torch_home,
                                                                   tmp_path):
    from .toy import toy_runner
    (served.root / 'fcn32s-heavy-pascal.caffemodel').write_bytes(b'caffe')
    url = f'{served.url}/fcn32s-heavy-pascal.caffemodel'
    runner = toy_runner(tmp_path / 'work', dict(type='AtomicCheckpointHook',
                                                interval=2, by_epoch=False),
                        max_iters=2, load_from=url)
    with pytest.raises(CheckpointRefusedError,
                       match=_caffe_refused(url, 'fcn32s-heavy-pascal')):
        runner.train()
    assert served.requests == [] and not torch_home.exists()


@pytest.mark.parametrize('model', ['fcn8s_vgg16_voc', 'fcn8s'])
def test_inferencer_by_metafile_name_refuses_the_released_caffe_model(
        model, torch_home, monkeypatch):
    """The metafile's Weights of the VOC nets: the released Caffe model (for mim
    download). Without weights=, nothing is downloaded and the error says what to do."""
    from mmseg.apis import MMSegInferencer

    def no_network(*args, **kwargs):
        raise AssertionError(f'network access: {args}')

    monkeypatch.setattr(torch.hub, 'download_url_to_file', no_network)
    monkeypatch.setattr('urllib.request.urlopen', no_network)
    url = 'http://dl.caffe.berkeleyvision.org/fcn8s-heavy-pascal.caffemodel'
    with pytest.raises(CheckpointRefusedError,
                       match=_caffe_refused(url, 'fcn8s-heavy-pascal', 'fcn8s_vgg16_voc')):
        MMSegInferencer(model, scope='mmseg_fcn_classic', device='cpu')
    assert not torch_home.exists()


def test_a_local_caffe_model_says_convert_it(tmp_path):
    path = tmp_path / 'fcn8s-heavy-pascal.caffemodel'
    path.write_bytes(b'caffe')
    stem = str(tmp_path / 'fcn8s-heavy-pascal')
    with pytest.raises(CheckpointRefusedError) as err:
        _load_checkpoint(str(path), map_location='cpu')
    assert str(err.value).startswith(
        f"'{path}' is a Caffe model (.caffemodel), which loads only after conversion "
        'to a PyTorch checkpoint: convert it once:\n')
    assert f'convert_weights {stem}.caffemodel {stem}.pth\nand pass {stem}.pth' in \
        str(err.value).replace('-convert-weights', '.convert_weights')
