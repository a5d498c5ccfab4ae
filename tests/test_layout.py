"""The package's layers: no import loops, and each module in its room."""
import ast
import glob
import os.path as osp
from typing import Dict, Set

import pytest

import mmseg_fcn_classic

PACKAGE = 'mmseg_fcn_classic'
ROOT = osp.dirname(osp.abspath(mmseg_fcn_classic.__file__))
REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def _module_name(path: str) -> str:
    rel = osp.relpath(path, osp.dirname(ROOT))[:-3].replace(osp.sep, '.')
    return rel[:-len('.__init__')] if rel.endswith('.__init__') else rel


def _modules() -> Dict[str, str]:
    return {_module_name(p): p
            for p in glob.glob(osp.join(ROOT, '**', '*.py'), recursive=True)}


def import_graph() -> Dict[str, Set[str]]:
    """Module -> the package modules its code imports, anywhere in the file.

    Importing ``a.b.c`` also runs the ``__init__`` of every package on the way
    (``a.b``) that is not already a package of the importer, so those count too.
    """
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        is_pkg = path.endswith('__init__.py')
        package = name if is_pkg else name.rpartition('.')[0]
        targets = set()
        for node in ast.walk(ast.parse(open(path).read(), path)):
            if isinstance(node, ast.Import):
                found = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ''
                if node.level:
                    parts = package.split('.')[:len(package.split('.')) - node.level + 1]
                    base = '.'.join(parts + ([base] if base else []))
                found = [base] + [f'{base}.{alias.name}' for alias in node.names]
            else:
                continue
            for target in found:
                if target in modules and target != name:
                    targets.add(target)
        for target in list(targets):  # the package __init__s that run on the way
            parts = target.split('.')
            for i in range(1, len(parts)):
                parent = '.'.join(parts[:i])
                if not (name == parent or name.startswith(parent + '.')):
                    targets.add(parent)
        graph[name] = targets - {name}
    return graph


def find_cycle(graph: Dict[str, Set[str]]):
    """One import loop as a list of modules, or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = 'open'
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 'open':
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        state[node] = 'done'
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_find_cycle_finds_a_loop():
    assert find_cycle({'a': {'b'}, 'b': {'c'}, 'c': {'a'}}) == ['a', 'b', 'c', 'a']
    assert find_cycle({'a': {'b'}, 'b': set()}) is None


def test_no_import_loops():
    cycle = find_cycle(import_graph())
    assert cycle is None, ' -> '.join(cycle)


@pytest.mark.parametrize('lower, higher', [
    ('evaluation', 'apis'), ('models', 'apis'), ('models', 'tools'),
    ('datasets', 'apis'), ('datasets', 'tools'), ('models', 'datasets'),
    ('models', 'engine'), ('evaluation', 'tools'), ('engine', 'tools'),
])
def test_layers_import_only_downwards(lower, higher):
    graph = import_graph()
    offenders = {m: sorted(t for t in targets if t.startswith(f'{PACKAGE}.{higher}'))
                 for m, targets in graph.items()
                 if m.startswith(f'{PACKAGE}.{lower}')}
    assert not {m: t for m, t in offenders.items() if t}


def test_models_hold_no_process_wide_settings():
    for path in glob.glob(osp.join(ROOT, 'models', '**', '*.py'), recursive=True):
        text = open(path).read()
        assert 'mallopt' not in text and 'ctypes' not in text, path


def test_tools_are_thin_and_load_no_path():
    for path in glob.glob(osp.join(REPO, 'tools', '*.py')):
        text = open(path).read()
        assert len(text.splitlines()) <= 400, path
    for path in glob.glob(osp.join(ROOT, 'tools', '*.py')):
        assert 'sys.path' not in open(path).read(), path


def test_tests_import_tools_as_modules():
    for path in glob.glob(osp.join(REPO, 'tests', '**', '*.py'), recursive=True):
        if osp.samefile(path, __file__):
            continue
        assert 'spec_from_file_location' not in open(path).read(), path


#: The layers, bottom up: a module imports only from its own layer or lower ones.
LAYERS = {'registry': 0, 'models': 0, 'datasets': 0, 'evaluation': 0,
          'visualization': 0, 'utils': 0, 'engine': 1, 'converters': 1,
          'apis': 2, 'testing': 2, 'tools': 3}
#: Upward edges on purpose: ``VGG16FC`` reads torchvision weights through the pure
#: tensor maps of ``converters/torchvision.py``, which import nothing of ours.
UPWARD = {('mmseg_fcn_classic.models.backbones.vgg16_fc',
           'mmseg_fcn_classic.converters.torchvision'),
          ('mmseg_fcn_classic.models.backbones.vgg16_fc', 'mmseg_fcn_classic.converters')}


def _layer(module: str):
    parts = module.split('.')
    return LAYERS.get(parts[1]) if len(parts) > 1 else None


def test_layers_are_ranked():
    graph = import_graph()
    subpackages = {m.split('.')[1] for m in graph if m.count('.')}
    assert subpackages <= set(LAYERS), subpackages - set(LAYERS)
    upward = {(m, t) for m, targets in graph.items() for t in targets
              if _layer(m) is not None and _layer(t) is not None
              and _layer(t) > _layer(m)}
    assert upward == UPWARD
    assert not graph['mmseg_fcn_classic.converters.torchvision']


#: The page whose ``## Modules`` table names every module.
MODULE_TABLE_PAGE = osp.join(REPO, 'docs', 'layout.md')


def _module_table_paths():
    text = open(MODULE_TABLE_PAGE, encoding='utf-8').read()
    section = text.split('\n## Modules\n', 1)[1].split('\n## ', 1)[0]
    paths = set()
    for line in section.splitlines():
        if not line.startswith('| `'):
            continue
        cell = line.split('|')[1]
        names = [n.strip().strip('`') for n in cell.split(',')]
        folder = osp.dirname(names[0])
        paths.update(names[0] if i == 0 else osp.join(folder, n)
                     for i, n in enumerate(names))
    return paths


def test_module_table_matches_the_tree():
    """docs/layout.md's module table names every module, and only those."""
    named = _module_table_paths()
    modules = {osp.relpath(p, ROOT) for p in _modules().values()
               if not p.endswith('__init__.py')}
    benchmarks = {osp.relpath(p, REPO) for pattern in ('*.py', '*.md', '*.sh')
                  for p in glob.glob(osp.join(REPO, 'benchmarks', pattern))
                  if not p.endswith(('__init__.py', '__main__.py'))}
    assert named == modules | benchmarks


#: The engine's checkpoint jobs, bottom up (each may import only those before it):
#: stored configs, the unpickling policy, resume discovery, ``stage://``, the
#: loader schemes.
ENGINE_JOBS = ('stored_config', 'policy', 'resume', 'stage', 'schemes')


@pytest.mark.parametrize('job', ENGINE_JOBS)
def test_engine_jobs_import_only_downwards(job):
    graph = import_graph()
    engine = f'{PACKAGE}.engine'
    higher = {f'{engine}.{j}' for j in ENGINE_JOBS[ENGINE_JOBS.index(job) + 1:]}
    assert not graph[f'{engine}.{job}'] & higher
    # the schemes register on import: only the engine package imports them
    importers = {m for m, targets in graph.items() if f'{engine}.schemes' in targets}
    assert importers <= {engine}
