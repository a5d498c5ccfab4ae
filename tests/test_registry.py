"""Scope ``mmseg_fcn_classic``: its child registries find everything mmseg's find.

mmseg registers most modules lazily, when a registry of its own is first searched.
A lookup through our child registry must trigger that too; the checks run in fresh
processes, where nothing but the plugin has been imported.
"""
import json
import subprocess
import sys
import textwrap

from mmengine.registry import Registry
from mmengine.registry import root as mmengine_root
from mmseg import registry as mmseg_registry

from mmseg_fcn_classic import registry

# one name per mmseg registry that mmseg registers from its `locations`
MMSEG_NAMES = textwrap.dedent('''
    import json
    from mmengine.registry import Registry
    from mmseg import registry
    names = {}
    for name in dir(registry):
        reg = getattr(registry, name)
        if not (isinstance(reg, Registry) and name.isupper()):
            continue
        reg.import_from_location()
        ours = sorted(k for k, v in reg.module_dict.items()
                      if getattr(v, '__module__', '').startswith('mmseg.'))
        if ours:
            names[name] = ours[0]
    print(json.dumps(names))
''')

CHILD_LOOKUPS = textwrap.dedent('''
    import json, sys
    from mmseg_fcn_classic import registry
    names = json.loads(sys.argv[1])
    found = {}
    for reg_name, key in names.items():
        child = getattr(registry, reg_name)
        assert child.scope == 'mmseg_fcn_classic'
        obj = child.get(key)
        found[reg_name] = None if obj is None else obj.__name__
    print(json.dumps(found))
''')


def _python(code: str, *args: str, cwd=None) -> str:
    proc = subprocess.run([sys.executable, '-c', code, *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc.stdout.strip().splitlines()[-1]


def test_children_carry_their_parents_locations():
    for name in registry.__all__:
        child = getattr(registry, name)
        parent = getattr(mmseg_registry if hasattr(mmseg_registry, name)
                         else mmengine_root, name)
        assert isinstance(child, Registry) and child.parent is parent
        assert set(parent._locations) <= set(child._locations), name
        assert 'mmseg_fcn_classic' in child._locations


def test_every_registry_has_a_child_in_our_scope():
    for module in (mmengine_root, mmseg_registry):
        for name, reg in vars(module).items():
            if isinstance(reg, Registry) and name.isupper():
                assert reg.root._search_child('mmseg_fcn_classic') is not None, name


def test_every_mmseg_module_resolves_in_our_scope(tmp_path):
    names = json.loads(_python(MMSEG_NAMES, cwd=tmp_path))
    assert {'MODELS', 'DATASETS', 'TRANSFORMS', 'METRICS', 'VISUALIZERS', 'HOOKS'} \
        <= set(names)
    found = json.loads(_python(CHILD_LOOKUPS, json.dumps(names), cwd=tmp_path))
    assert found == names


def test_runtime_inherited_by_scope_builds_mmseg_visualizer(tmp_path):
    """The visualizer of a base inherited as ``mmseg_fcn_classic::`` is built in our
    scope, where mmseg's ``SegLocalVisualizer`` was once not found; the shipped
    runtime names ``FCNSegLocalVisualizer``, registered in mmseg's registry."""
    (tmp_path / 'user.py').write_text(
        "_base_ = ['mmseg_fcn_classic::_base_/default_runtime.py']\n")
    code = textwrap.dedent('''
        from mmengine.config import Config
        from mmengine.registry import VISUALIZERS
        cfg = Config.fromfile('user.py')
        assert cfg.visualizer._scope_ == 'mmseg_fcn_classic', cfg.visualizer
        print(type(VISUALIZERS.build(cfg.visualizer)).__name__)
    ''')
    assert _python(code, cwd=tmp_path) == 'FCNSegLocalVisualizer'


def test_mmseg_scope_finds_a_function_registry_without_warning():
    """MMSegInferencer (scope mmseg) looks its collate function up this way."""
    from mmengine.dataset import pseudo_collate
    from mmengine.logging import MMLogger
    from mmengine.registry import FUNCTIONS

    from tests.conftest import logged
    with logged(MMLogger.get_current_instance()) as log:
        with FUNCTIONS.switch_scope_and_registry('mmseg') as found:
            collate = found.get('pseudo_collate')
    assert log.messages() == []
    assert (found.scope, found.parent, collate) == ('mmseg', FUNCTIONS, pseudo_collate)


def test_mmseg_scope_registries_added_only_where_mmseg_has_none():
    missing = {name for name, reg in vars(mmengine_root).items()
               if isinstance(reg, Registry) and name.isupper()
               and not hasattr(mmseg_registry, name)}
    assert missing == {'FUNCTIONS', 'STRATEGIES'}  # mmseg 1.2.2
    for name, reg in vars(mmengine_root).items():
        if not (isinstance(reg, Registry) and name.isupper()):
            continue
        child = reg.children['mmseg']
        if name in missing:  # ours: empty, falls back to mmengine's
            assert child.module_dict == {} and child.parent is reg, name
        else:  # mmseg's own, untouched
            assert child is getattr(mmseg_registry, name), name
    assert registry.add_missing_mmseg_registries() == []  # importing added them
