"""Packaging for mmseg-fcn-classic.

The shipped configs live in ``configs/`` at the repository root and are installed
into ``mmseg_fcn_classic/.mim/configs`` (the layout mim and mmengine's
``package::path`` resolution expect), so an installed plugin still finds them.
"""
import os
import os.path as osp
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = osp.dirname(osp.abspath(__file__))


def read_requirements(path: str) -> list:
    """Return the requirement lines of ``path``, without comments."""
    with open(osp.join(HERE, path)) as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line]


MIM_FILES = ('configs', 'model-index.yml')
#: Command lines of ``mmseg_fcn_classic.tools``, installed as ``mmseg-fcn-<name>``.
TOOLS = ('train', 'test', 'infer', 'convert_weights', 'check_dataset', 'demo', 'export')


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
    """Copy the configs into the built package (a wheel must not hold a symlink)."""

    def run(self) -> None:
        super().run()
        for name in MIM_FILES:
            src = osp.join(HERE, name)
            dst = osp.join(self.build_lib, 'mmseg_fcn_classic', '.mim', name)
            if osp.islink(dst) or osp.isfile(dst):
                os.remove(dst)
            shutil.rmtree(dst, ignore_errors=True)
            os.makedirs(osp.dirname(dst), exist_ok=True)
            (shutil.copytree if osp.isdir(src) else shutil.copyfile)(src, dst)


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
        include_package_data=True,
        package_data={'mmseg_fcn_classic': ['.mim/configs/**/*.py', '.mim/model-index.yml']},
        # mmcv==2.1.0 *with ops* is deliberately not listed: pip would build it in an
        # isolated environment, which silently yields mmcv without its compiled ops.
        # tools/setup_env.sh builds it correctly (see README).
        install_requires=read_requirements('requirements/runtime.txt') + ['torch>=2.6'],
        extras_require={
            'tests': read_requirements('requirements/tests.txt'),
            'torchvision': ['torchvision'],
        },
        entry_points={'console_scripts': [
            f"mmseg-fcn-{tool.replace('_', '-')}=mmseg_fcn_classic.tools.{tool}:main"
            for tool in TOOLS
        ]},
        cmdclass={'build_py': BuildPy},
        zip_safe=False,
    )
