"""The configs shipped with the package, and ``mmseg_fcn_classic::`` config bases.

The configs ship inside the package (``mmseg_fcn_classic/.mim/configs``). mmengine
0.10.7 resolves ``package::dir/file.py`` config bases only for packages in its own
``MODULE2PACKAGE`` table. An installed package adds itself there at start-up (the
``mmseg_fcn_classic_scope.pth`` hook, see ``_mmseg_fcn_classic_scope``); importing the
package does it too (:func:`register_config_package`), for a source tree on
``PYTHONPATH``.
"""
import difflib
import glob
import os.path as osp
from typing import List

#: The scope of ``mmseg_fcn_classic::<path>`` config paths.
SCOPE = 'mmseg_fcn_classic'


def _configs_root() -> str:
    """The folder of the shipped configs (installed package or source tree)."""
    here = osp.dirname(osp.dirname(osp.abspath(__file__)))
    for root in (osp.join(here, '.mim', 'configs'), osp.join(here, '..', 'configs')):
        if osp.isdir(root):
            return osp.normpath(root)
    raise FileNotFoundError('mmseg_fcn_classic ships no configs folder here')


def shipped_configs() -> List[str]:
    """The shipped configs (not the ``_base_`` parts), relative to their folder.

    Example:
        >>> 'fcn8s_vgg16_voc.py' in shipped_configs()
        True
    """
    root = _configs_root()
    return sorted(osp.relpath(p, root)
                  for p in glob.glob(osp.join(root, '**', '*.py'), recursive=True)
                  if '_base_' not in osp.relpath(p, root).split(osp.sep))


def resolve_config(name: str) -> str:
    """The config file that a tool's ``CONFIG`` argument names.

    In this order:

    * a file of that name (relative to the working folder or absolute): a local
      file wins over a shipped config of the same name;
    * ``mmseg_fcn_classic::<path>``: a shipped config or base, with or without a
      folder (``mmseg_fcn_classic::fcn8s_vgg16_voc.py``,
      ``mmseg_fcn_classic::_base_/models/fcn8s_vgg16.py``);
    * another package's ``<pkg>::<path>`` (e.g. ``mmseg::fcn/...py``), resolved
      the way mmengine resolves ``_base_`` entries;
    * a shipped config's name, with or without ``.py`` (``fcn8s_vgg16_demo``).

    Args:
        name (str): The argument.

    Returns:
        str: Path of an existing config file.

    Raises:
        FileNotFoundError: Nothing of that name; the message names the argument
            and the closest shipped configs.

    Example:
        >>> osp.basename(resolve_config('fcn8s_vgg16_demo'))
        'fcn8s_vgg16_demo.py'
        >>> by_path = resolve_config('mmseg_fcn_classic::fcn8s_vgg16_demo.py')
        >>> by_path == resolve_config('fcn8s_vgg16_demo.py')
        True
    """
    if osp.isfile(name):
        return name
    scope, sep, rest = name.partition('::')
    if sep and scope != SCOPE:
        return _other_package_config(name)
    path = rest if sep else name
    candidates = [path] if path.endswith('.py') else [path + '.py', path]
    root = _configs_root()
    for candidate in candidates:
        full = osp.normpath(osp.join(root, candidate))
        if osp.isfile(full) and full.startswith(root + osp.sep):
            return full
    shipped = shipped_configs()
    if not sep and '/' not in path:  # a bare name: also in subfolders
        found = [c for c in shipped if osp.basename(c) in candidates]
        if len(found) == 1:
            return osp.join(root, found[0])
    names = [c[:-3] for c in shipped]
    close = difflib.get_close_matches(osp.splitext(path)[0], names, n=3, cutoff=0.5)
    hint = (f'; did you mean {", ".join(close)}?' if close else
            f'; shipped configs: {", ".join(names)}')
    raise FileNotFoundError(
        f'config {name!r} is neither a file nor a config shipped with '
        f'mmseg_fcn_classic{hint}')


def _other_package_config(name: str) -> str:
    """``<pkg>::<path>`` of another OpenMMLab package, as mmengine resolves it."""
    from mmengine.config.utils import MODULE2PACKAGE, _get_package_and_cfg_path
    from mmengine.utils import get_installed_path
    scope = name.partition('::')[0]
    if scope not in MODULE2PACKAGE:
        raise FileNotFoundError(
            f'config {name!r}: {scope!r} is not a package whose configs mmengine '
            f'resolves ({", ".join(sorted(MODULE2PACKAGE))})')
    try:
        package, path = _get_package_and_cfg_path(name)
        full = osp.join(get_installed_path(package), '.mim', 'configs', path)
    except Exception as e:  # noqa: BLE001  (mmengine raises several types)
        raise FileNotFoundError(f'config {name!r}: {e}') from None
    if not osp.isfile(full):
        raise FileNotFoundError(f'config {name!r}: no such file {full}')
    return full


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


def configs_with_weights(url: str) -> List[str]:
    """The shipped configs whose metafile ``Weights`` is ``url`` (``mim download``
    fetches it with them).

    Args:
        url (str): A weights URL.

    Returns:
        list[str]: Metafile names (what ``mim download --config`` takes), sorted;
        empty when no shipped config names the URL.

    Example:
        >>> configs_with_weights(
        ...     'http://dl.caffe.berkeleyvision.org/fcn8s-heavy-pascal.caffemodel')
        ['fcn8s_vgg16_voc']
    """
    import yaml
    with open(osp.join(_configs_root(), 'metafile.yaml'), encoding='utf-8') as f:
        models = (yaml.safe_load(f) or {}).get('Models') or []
    return sorted(m['Name'] for m in models if m.get('Weights') == url)


def register_config_package() -> None:
    """Let mmengine resolve ``mmseg_fcn_classic::<dir>/<file>.py`` config bases."""
    from _mmseg_fcn_classic_scope import register
    from mmengine.config import utils as config_utils
    register(config_utils)
