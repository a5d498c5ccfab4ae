"""The configs shipped with the package, and ``mmseg_fcn_classic::`` config bases.

The configs ship inside the package (``mmseg_fcn_classic/.mim/configs``). mmengine
0.10.7 resolves ``package::dir/file.py`` config bases only for packages in its own
``MODULE2PACKAGE`` table. An installed package adds itself there at start-up (the
``mmseg_fcn_classic_scope.pth`` hook, see ``_mmseg_fcn_classic_scope``); importing the
package does it too (:func:`register_config_package`), for a source tree on
``PYTHONPATH``.
"""
import os.path as osp


def config_path(name: str) -> str:
    """Absolute path of a config shipped with the package.

    Args:
        name (str): Path relative to ``configs/``, e.g. ``'fcn8s_vgg16_voc.py'``.

    Returns:
        str: The file's path (in the source tree or the installed package).

    Raises:
        FileNotFoundError: If there is no such shipped config.
    """
    here = osp.dirname(osp.dirname(osp.abspath(__file__)))
    for root in (osp.join(here, '.mim', 'configs'), osp.join(here, '..', 'configs')):
        path = osp.normpath(osp.join(root, name))
        if osp.isfile(path):
            return path
    raise FileNotFoundError(f'no shipped config {name!r} in mmseg_fcn_classic')


def register_config_package() -> None:
    """Let mmengine resolve ``mmseg_fcn_classic::<dir>/<file>.py`` config bases."""
    from _mmseg_fcn_classic_scope import register
    from mmengine.config import utils as config_utils
    register(config_utils)
