"""The set-up (tools/setup_env.sh, requirements/constraints.txt, .ci/run) keeps its pins.

These are fast checks of the set-up's rules; the set-up itself is exercised by every
``make test`` (and from nothing, with pip's cache off, by ``.ci/run``).
"""
import os
import os.path as osp
import re
import subprocess
import sys
from importlib import metadata

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
SETUP_SH = osp.join(REPO, 'tools', 'setup_env.sh')
CONSTRAINTS = osp.join(REPO, 'requirements', 'constraints.txt')


def read_requirements(path):
    """The requirements of a requirements/constraints file, without comments."""
    with open(path) as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [Requirement(line) for line in lines if line]


def shell_code(path):
    """The lines of a shell script that are not comments (heredoc bodies included)."""
    with open(path) as f:
        return [line for line in f.read().splitlines()
                if line.strip() and not line.lstrip().startswith('#')]


def constraints():
    reqs = {}
    for req in read_requirements(CONSTRAINTS):
        reqs.setdefault(req.name.lower(), []).append(req)
    return reqs


def test_every_pip_install_takes_the_constraints():
    code = shell_code(SETUP_SH)
    # one definition of the install command, and it carries the constraints file
    defs = [line for line in code if re.match(r'\s*PIP=\(', line)]
    assert len(defs) == 1, defs
    assert 'pip install' in defs[0] and '-c "$CONSTRAINTS"' in defs[0], defs[0]
    # no other `pip install` (the fixes the pre-build check prints take `-c` too);
    # any other pip call only uninstalls
    for line in code:
        if line in defs:
            continue
        line = re.sub(r'pip install -c \{constraints\}', '', line)
        assert 'pip install' not in line, line
        for m in re.finditer(r'-m pip (\w+)', line):
            assert m.group(1) == 'uninstall', line
    # PIP_CONSTRAINT would replace the constraint files of pip's own configuration
    assert not any('PIP_CONSTRAINT' in line for line in code)
    text = '\n'.join(code)
    assert 'CONSTRAINTS="$ROOT/requirements/constraints.txt"' in text
    # the stamp changes with the constraints, so editing a pin re-runs the set-up
    fingerprint = text[text.index('fingerprint() {'):]
    fingerprint = fingerprint[:fingerprint.index('}')]
    assert '$CONSTRAINTS' in fingerprint and 'tests.txt' in fingerprint
    # mmcv comes from its source distribution, built against the installed torch
    build = [line for line in code if 'mmcv==2.1.0"' in line]
    assert build and all('--no-build-isolation' in line and '--no-binary mmcv' in line
                         for line in build), build


def test_constraints_pin_the_stack():
    pins = constraints()
    setuptools = pins['setuptools']
    # pkg_resources (gone in 82), torch's floor, and no UserWarning on its import (80.9)
    for version, allowed in (('82.0.0', False), ('81.0.0', False), ('80.9.0', False),
                             ('80.8.0', True), ('77.0.3', True), ('77.0.2', False)):
        assert all(r.specifier.contains(version) for r in setuptools) is allowed, version
    for name, version in (('mmcv', '2.1.0'), ('torch', '2.13.0'), ('numpy', None),
                          ('opencv-python', None), ('scipy', None), ('mmengine', '0.10.7'),
                          ('mmsegmentation', '1.2.2')):
        (req,) = pins[name]
        (spec,) = req.specifier
        assert spec.operator == '==', req
        if version:
            assert spec.version == version, req
    # a local CPU or CUDA torch build satisfies the torch pin
    assert pins['torch'][0].specifier.contains('2.13.0+cpu')


@pytest.mark.parametrize('name', ['runtime.txt', 'tests.txt'])
def test_constraints_satisfy_the_requirements(name):
    pins = constraints()
    for req in read_requirements(osp.join(REPO, 'requirements', name)):
        assert req.name.lower() in pins, f'{req} has no pin in constraints.txt'
        for pin in pins[req.name.lower()]:
            for spec in pin.specifier:
                if spec.operator == '==':
                    assert req.specifier.contains(spec.version), (req, pin)


def test_environment_is_the_pinned_one():
    """The set-up applied the constraints: what runs the tests is what was pinned."""
    wrong = []
    for name, reqs in constraints().items():
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue  # not part of this environment (e.g. a build tool)
        if not all(r.specifier.contains(Version(version), prereleases=True) for r in reqs):
            wrong.append(f'{name} {version} (constraints: {", ".join(map(str, reqs))})')
    assert not wrong, 'installed versions differ from requirements/constraints.txt: ' + \
        '; '.join(wrong) + '. Re-run `make setup`.'


def fake_venv(tmp_path):
    """A VENV whose bin/python is this interpreter (PYTHONPATH passes through)."""
    bindir = tmp_path / 'venv' / 'bin'
    bindir.mkdir(parents=True)
    python = bindir / 'python'
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    return str(tmp_path / 'venv')


def check_build(venv, shadow=None):
    env = dict(os.environ, VENV=venv,
               PATH=osp.dirname(sys.executable) + os.pathsep + os.environ['PATH'])
    env.pop('PYTHONPATH', None)
    if shadow:
        env['PYTHONPATH'] = str(shadow)
    return subprocess.run(['bash', SETUP_SH, '--check-build'], env=env,
                          capture_output=True, text=True, timeout=300)


def test_check_build_passes_here(tmp_path):
    res = check_build(fake_venv(tmp_path))
    assert res.returncode == 0, res.stderr
    assert 'build environment OK' in res.stderr


def test_check_build_names_what_is_missing(tmp_path):
    """The failure of issue 10: setuptools>=82 has no pkg_resources; and no torch."""
    shadow = tmp_path / 'shadow'
    (shadow / 'setuptools').mkdir(parents=True)
    (shadow / 'setuptools' / '__init__.py').write_text("__version__ = '84.2.1'\n")
    (shadow / 'pkg_resources.py').write_text(
        "raise ModuleNotFoundError(\"No module named 'pkg_resources'\")\n")
    (shadow / 'torch.py').write_text("raise ModuleNotFoundError(\"No module named 'torch'\")\n")
    res = check_build(fake_venv(tmp_path), shadow)
    assert res.returncode == 1, res.stderr
    assert 'cannot build mmcv 2.1.0 with ops' in res.stderr
    assert '`import pkg_resources` fails' in res.stderr
    assert 'setuptools 84.2.1 is installed' in res.stderr
    assert '`import torch` fails' in res.stderr
    assert '"setuptools<82"' in res.stderr and CONSTRAINTS in res.stderr


def test_ci_runs_the_readme_command_cold():
    code = shell_code(osp.join(REPO, '.ci', 'run'))
    (command,) = [line for line in code if 'make test' in line]
    assert 'PIP_NO_CACHE_DIR=1' in command and 'VENV=' in command
    assert any('mktemp -d' in line for line in code)  # a new, empty venv every run
    with open(osp.join(REPO, 'README.md')) as f:
        readme = f.read()
    assert command.strip() in readme, 'the README must show the command CI runs'
