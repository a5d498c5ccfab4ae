"""``mmseg_fcn_classic::`` config paths: the start-up hook and the shipped configs."""
import doctest
import subprocess
import sys
import textwrap
import types

import pytest

import _mmseg_fcn_classic_scope as scope_hook
from mmseg_fcn_classic.utils.config import config_path, resolve_config, shipped_configs


def _fake_config_utils():
    calls = []

    def get_package_and_cfg_path(cfg_path):
        calls.append(cfg_path)
        return 'resolved', cfg_path

    return types.SimpleNamespace(MODULE2PACKAGE={'mmseg': 'mmsegmentation'},
                                 _get_package_and_cfg_path=get_package_and_cfg_path,
                                 calls=calls)


def test_register_adds_scope_once_and_explains_paths_without_folder():
    utils = _fake_config_utils()
    scope_hook.register(utils)
    wrapped = utils._get_package_and_cfg_path
    scope_hook.register(utils)  # idempotent
    assert utils._get_package_and_cfg_path is wrapped
    assert utils.MODULE2PACKAGE == {'mmseg': 'mmsegmentation',
                                    'mmseg_fcn_classic': 'mmseg_fcn_classic.registry'}
    assert wrapped('mmseg::fcn/x.py') == ('resolved', 'mmseg::fcn/x.py')
    assert wrapped('mmseg_fcn_classic::_base_/x.py')[0] == 'resolved'
    with pytest.raises(ValueError, match=r"_base_/\.\./fcn8s_vgg16_voc\.py"):
        wrapped('mmseg_fcn_classic::fcn8s_vgg16_voc.py')
    assert utils.calls == ['mmseg::fcn/x.py', 'mmseg_fcn_classic::_base_/x.py']


def test_docstring_examples():
    assert doctest.testmod(scope_hook).failed == 0


def test_finder_registers_when_the_module_is_imported(tmp_path, monkeypatch):
    (tmp_path / 'fake_config_utils.py').write_text(
        'MODULE2PACKAGE = {}\n'
        'def _get_package_and_cfg_path(cfg_path):\n    return cfg_path\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(scope_hook, 'TARGET', 'fake_config_utils')
    monkeypatch.delitem(sys.modules, 'fake_config_utils', raising=False)
    scope_hook.install()
    try:
        assert any(isinstance(f, scope_hook._RegisterOnImport) for f in sys.meta_path)
        import fake_config_utils
        assert fake_config_utils.MODULE2PACKAGE == {
            'mmseg_fcn_classic': 'mmseg_fcn_classic.registry'}
        assert fake_config_utils.__loader__.get_filename()  # the real loader
        assert not any(isinstance(f, scope_hook._RegisterOnImport)
                       for f in sys.meta_path)
    finally:
        scope_hook.uninstall()
        sys.modules.pop('fake_config_utils', None)


def _python(code: str, cwd) -> str:
    proc = subprocess.run([sys.executable, '-c', textwrap.dedent(code)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc.stdout


def test_installed_package_resolves_scope_in_fresh_process(tmp_path):
    """The (editable) install's start-up hook: no plugin import, any folder."""
    (tmp_path / 'bases.py').write_text(
        "_base_ = ['mmseg_fcn_classic::_base_/models/fcn8s_vgg16.py']\n")
    (tmp_path / 'leaf.py').write_text(
        "_base_ = 'mmseg_fcn_classic::_base_/../fcn8s_vgg16_voc.py'\n")
    (tmp_path / 'no_folder.py').write_text(
        "_base_ = 'mmseg_fcn_classic::fcn8s_vgg16_voc.py'\n")
    out = _python('''
        import sys
        from mmengine.config import Config
        assert 'mmseg_fcn_classic' not in sys.modules and 'torch' not in sys.modules
        print(Config.fromfile('bases.py').model.backbone.type)
        print(Config.fromfile('leaf.py').optim_wrapper.optimizer.lr)
        try:
            Config.fromfile('no_folder.py')
        except ValueError as e:
            print(str(e).splitlines()[0])
        ''', tmp_path).splitlines()
    assert out[-3:] == [
        'VGG16FC', '1e-14',
        "'mmseg_fcn_classic::fcn8s_vgg16_voc.py': mmengine resolves only "
        "'package::dir/file.py' config paths."]


def test_without_start_up_hook_the_plugin_must_be_imported_first(tmp_path):
    """What docs/plugin.md says for a source tree on PYTHONPATH (no install)."""
    (tmp_path / 'bases.py').write_text(
        "_base_ = ['mmseg_fcn_classic::_base_/models/fcn8s_vgg16.py']\n")
    out = _python('''
        import _mmseg_fcn_classic_scope
        _mmseg_fcn_classic_scope.uninstall()  # as if no .pth had run
        from mmengine.config import Config
        try:
            Config.fromfile('bases.py')
        except AssertionError as e:
            print(e)
        import mmseg_fcn_classic
        print(Config.fromfile('bases.py').model.backbone.type)
        ''', tmp_path).splitlines()
    assert out[-2:] == ['mmengine does not support to load mmseg_fcn_classic config.',
                        'VGG16FC']


def test_config_path_finds_shipped_configs():
    assert config_path('fcn8s_vgg16_voc.py').endswith('fcn8s_vgg16_voc.py')
    assert config_path('_base_/models/fcn8s_vgg16.py').endswith('fcn8s_vgg16.py')
    with pytest.raises(FileNotFoundError, match='nope.py'):
        config_path('nope.py')


def test_resolve_config_by_name_package_path_or_file(tmp_path, monkeypatch):
    shipped = config_path('fcn8s_vgg16_demo.py')
    for name in ('fcn8s_vgg16_demo', 'fcn8s_vgg16_demo.py',
                 'mmseg_fcn_classic::fcn8s_vgg16_demo.py',
                 'mmseg_fcn_classic::fcn8s_vgg16_demo',
                 'mmseg_fcn_classic::_base_/../fcn8s_vgg16_demo.py'):
        assert resolve_config(name) == shipped, name
    assert resolve_config('mmseg_fcn_classic::_base_/models/fcn8s_vgg16.py') == \
        config_path('_base_/models/fcn8s_vgg16.py')
    mmseg_cfg = resolve_config('mmseg::_base_/models/fcn_r50-d8.py')
    assert mmseg_cfg.endswith('mmseg/.mim/configs/_base_/models/fcn_r50-d8.py')
    # a local file of that name wins
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'fcn8s_vgg16_demo.py').write_text('x = 1\n')
    assert resolve_config('fcn8s_vgg16_demo.py') == 'fcn8s_vgg16_demo.py'
    assert resolve_config('fcn8s_vgg16_demo') == shipped
    assert 'fcn8s_vgg16_voc.py' in shipped_configs()
    assert not any('_base_' in c for c in shipped_configs())


@pytest.mark.parametrize('name, match', [
    ('fcn8s_vgg16_dem', 'did you mean fcn8s_vgg16_demo'),
    ('zzz', 'shipped configs: .*fcn8s_vgg16_voc'),
    ('mmseg_fcn_classic::../setup.py', 'neither a file nor a config shipped'),
    ('mmseg::fcn/nope.py', 'no such file'),
    ('nope::x.py', "'nope' is not a package whose configs mmengine resolves"),
])
def test_resolve_config_names_what_is_missing(name, match):
    with pytest.raises(FileNotFoundError, match=match):
        resolve_config(name)
