"""Packaging for mmseg-fcn-classic.

The shipped configs live in ``configs/`` at the repository root and are installed
into ``mmseg_fcn_classic/.mim/configs`` (the layout mim and mmengine's
``package::path`` resolution expect), so an installed plugin still finds them.

Every install (wheel or ``pip install -e``) also puts ``mmseg_fcn_classic_scope.pth``
into site-packages: at start-up it runs ``_mmseg_fcn_classic_scope.install()``, which
makes mmengine resolve ``mmseg_fcn_classic::dir/file.py`` config bases in a fresh
process (see that module).

For mim (``mim train/test/run mmseg_fcn_classic ...``) the wheel also ships
``mmseg_fcn_classic/.mim/tools/<tool>.py``, the repository's thin scripts over
``mmseg_fcn_classic.tools``, and lists ``mmseg_fcn_classic`` first in
``top_level.txt``, where ``mim list`` looks for the package folder.
"""
import os
import os.path as osp
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py
from setuptools.command.egg_info import egg_info

try:  # setuptools >= 64: PEP 660 editable installs
    from setuptools.command.editable_wheel import editable_wheel
except ImportError:  # pragma: no cover
    editable_wheel = None

HERE = osp.dirname(osp.abspath(__file__))


def read_requirements(path: str) -> list:
    """Return the requirement lines of ``path``, without comments."""
    with open(osp.join(HERE, path)) as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line]


PACKAGE = 'mmseg_fcn_classic'
MIM_FILES = ('configs', 'model-index.yml')
#: Start-up hook (a ``.pth`` file runs its ``import`` line when Python starts).
SCOPE_MODULE = '_mmseg_fcn_classic_scope'
#: ``mmseg-fcn-infer-onnx``: outside the package, whose import needs torch and mmseg.
ONNX_MODULE = 'mmseg_fcn_classic_onnx'
PTH_NAME = 'mmseg_fcn_classic_scope.pth'
PTH_LINE = f'import {SCOPE_MODULE}; {SCOPE_MODULE}.install()\n'


def write_pth(folder: str) -> None:
    """Write the start-up hook into ``folder`` (the future site-packages root)."""
    with open(osp.join(folder, PTH_NAME), 'w') as f:
        f.write(PTH_LINE)

#: Command lines of ``mmseg_fcn_classic.tools``, installed as ``mmseg-fcn-<name>``
#: and (the scripts of ``tools/``) as ``.mim/tools/<name>.py`` for mim.
TOOLS = ('train', 'test', 'infer', 'convert_weights', 'check_dataset', 'demo', 'export',
         'flops', 'publish')
#: Scripts of ``tools/`` that mim runs (``mim run mmseg_fcn_classic <name>``).
MIM_TOOLS = TOOLS + ('infer_onnx',)
#: What the ``onnx`` export and ``mmseg-fcn-infer-onnx`` need.
EXPORT_REQUIRES = ['onnx', 'onnxscript', 'onnxruntime']


def add_mim_extension() -> None:
    """Link (editable) or copy ``configs`` and ``model-index.yml`` into ``.mim``."""
    mim_path = osp.join(HERE, 'mmseg_fcn_classic', '.mim')
    os.makedirs(mim_path, exist_ok=True)
    for name in MIM_FILES:
        src, tar = osp.join(HERE, name), osp.join(mim_path, name)
        if osp.islink(tar) or osp.isfile(tar):
            os.remove(tar)
        elif osp.isdir(tar):
            shutil.rmtree(tar)
        try:
            os.symlink(osp.relpath(src, mim_path), tar)
        except OSError:
            (shutil.copytree if osp.isdir(src) else shutil.copyfile)(src, tar)


class BuildPy(build_py):
    """Copy the configs into the built package (a wheel must not hold a symlink) and
    put the start-up hook at the root of the wheel."""

    def run(self) -> None:
        super().run()
        write_pth(self.build_lib)
        mim = osp.join(self.build_lib, PACKAGE, '.mim')
        for name in MIM_FILES + ('tools',):
            dst = osp.join(mim, name)
            if osp.islink(dst) or osp.isfile(dst):
                os.remove(dst)
            shutil.rmtree(dst, ignore_errors=True)
        os.makedirs(osp.join(mim, 'tools'))
        for name in MIM_FILES:
            src = osp.join(HERE, name)
            (shutil.copytree if osp.isdir(src) else shutil.copyfile)(
                src, osp.join(mim, name))
        for tool in MIM_TOOLS:
            shutil.copyfile(osp.join(HERE, 'tools', tool + '.py'),
                            osp.join(mim, 'tools', tool + '.py'))


class EggInfo(egg_info):
    """``top_level.txt`` with the package first: ``mim list`` and mim's
    ``get_installed_path`` take its first line as the package folder, and
    setuptools sorts ``_mmseg_fcn_classic_scope`` before it."""

    def run(self) -> None:
        super().run()
        path = osp.join(self.egg_info, 'top_level.txt')
        if osp.isfile(path):
            with open(path) as f:
                names = f.read().split()
            names.sort(key=lambda name: name != PACKAGE)
            with open(path, 'w') as f:
                f.write('\n'.join(names) + '\n')


CMDCLASS = {'build_py': BuildPy, 'egg_info': EggInfo}
if editable_wheel is not None:

    class EditableWheel(editable_wheel):
        """``pip install -e``: the editable wheel gets the start-up hook too (its
        build_lib is thrown away; files in the unpacked wheel are installed)."""

        def _run_build_commands(self, dist_name, unpacked_wheel, build_lib, tmp_dir):
            outputs = super()._run_build_commands(dist_name, unpacked_wheel, build_lib,
                                                  tmp_dir)
            write_pth(str(unpacked_wheel))
            return outputs

    CMDCLASS['editable_wheel'] = EditableWheel


if __name__ == '__main__':
    add_mim_extension()
    setup(
        name='mmseg_fcn_classic',
        version='0.1.0',
        description='Classic FCN-32s/16s/8s (VGG16) as an mmsegmentation 1.x plugin',
        long_description=open(osp.join(HERE, 'README.md')).read()
        if osp.exists(osp.join(HERE, 'README.md')) else '',
        long_description_content_type='text/markdown',
        python_requires='>=3.9',
        packages=find_packages(exclude=('tests*', 'benchmarks*', 'configs', 'tools')),
        py_modules=[SCOPE_MODULE, ONNX_MODULE],
        include_package_data=True,
        package_data={PACKAGE: [
            '.mim/configs/**/*.py', '.mim/configs/**/*.yaml', '.mim/model-index.yml',
            '.mim/tools/*.py']},
        # mmcv==2.1.0 *with ops* is deliberately not listed: pip would build it in an
        # isolated environment, which silently yields mmcv without its compiled ops.
        # tools/setup_env.sh builds it correctly (see README).
        install_requires=read_requirements('requirements/runtime.txt') + ['torch>=2.6'],
        extras_require={
            'tests': read_requirements('requirements/tests.txt'),
            'torchvision': ['torchvision'],
            'export': EXPORT_REQUIRES,
        },
        entry_points={'console_scripts': [
            f"mmseg-fcn-{tool.replace('_', '-')}={PACKAGE}.tools.{tool}:main"
            for tool in TOOLS
        ] + [f'mmseg-fcn-infer-onnx={ONNX_MODULE}:main']},
        cmdclass=CMDCLASS,
        zip_safe=False,
    )
