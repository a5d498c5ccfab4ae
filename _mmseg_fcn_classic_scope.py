"""Make ``mmseg_fcn_classic::dir/file.py`` config bases resolve in every process.

mmengine 0.10.7 resolves a ``package::dir/file.py`` config base only for the scopes
in its table ``mmengine.config.utils.MODULE2PACKAGE``, and it reads ``_base_``
before a config's ``custom_imports`` run: importing the plugin from the config comes
too late, and mmengine has no plugin hook. So the installed package ships
``mmseg_fcn_classic_scope.pth``, which runs :func:`install` at interpreter start-up.
:func:`install` only puts a finder on ``sys.meta_path``: once anything imports
``mmengine.config.utils``, the finder adds our scope to that table and removes
itself. This module imports neither mmengine nor torch, so start-up stays cheap.

It is a top-level module, not part of ``mmseg_fcn_classic``, because importing
anything inside that package runs its ``__init__``, which imports torch and mmseg.
"""
import sys

#: The config scope (the ``mmseg_fcn_classic`` of ``mmseg_fcn_classic::...``).
SCOPE = 'mmseg_fcn_classic'
#: What mmengine's ``get_installed_path`` resolves for the scope: the folder that
#: holds ``.mim/configs``. A module directly inside the package gives that folder
#: for a wheel and for an editable install alike (for an editable install the
#: distribution's location is site-packages, where the package folder is not).
PACKAGE = 'mmseg_fcn_classic.registry'
#: The module whose import triggers the registration.
TARGET = 'mmengine.config.utils'


def register(config_utils) -> None:
    """Add :data:`SCOPE` to mmengine's ``MODULE2PACKAGE`` and explain bad paths.

    mmengine's own error for ``mmseg_fcn_classic::fcn8s_vgg16_voc.py`` (no folder)
    only shows an mmdet example; for our scope the error names the forms that work.

    Args:
        config_utils (module): ``mmengine.config.utils``.
    """
    config_utils.MODULE2PACKAGE.setdefault(SCOPE, PACKAGE)
    original = config_utils._get_package_and_cfg_path
    if getattr(original, 'checks_scope', None) == SCOPE:
        return

    def get_package_and_cfg_path(cfg_path: str):
        scope, _, path = cfg_path.partition('::')
        if scope == SCOPE and '/' not in path:
            raise ValueError(config_path_error(cfg_path))
        return original(cfg_path)

    get_package_and_cfg_path.checks_scope = SCOPE
    get_package_and_cfg_path.__wrapped__ = original
    config_utils._get_package_and_cfg_path = get_package_and_cfg_path
    # mmengine.config.config binds the name when it is imported
    config_module = sys.modules.get('mmengine.config.config')
    if getattr(config_module, '_get_package_and_cfg_path', None) is original:
        config_module._get_package_and_cfg_path = get_package_and_cfg_path


def config_path_error(cfg_path: str) -> str:
    """The message for a ``mmseg_fcn_classic::`` path without a folder.

    Example:
        >>> print(config_path_error('mmseg_fcn_classic::x.py').splitlines()[0])
        'mmseg_fcn_classic::x.py': mmengine resolves only 'package::dir/file.py' config paths.
    """
    name = cfg_path.partition('::')[2]
    return (
        f"{cfg_path!r}: mmengine resolves only 'package::dir/file.py' config paths.\n"
        f"Inherit the shipped bases, e.g. '{SCOPE}::_base_/models/fcn8s_vgg16.py', or "
        f"a whole shipped config through its folder: '{SCOPE}::_base_/../{name}'.")


# Plain classes (the finder and loader protocols), not importlib.abc: start-up cost.
class _RegisterOnImport:
    """Finds :data:`TARGET` with the other finders and registers after it runs."""

    def find_spec(self, fullname: str, path=None, target=None):
        if fullname != TARGET:
            return None
        for finder in sys.meta_path:
            find = getattr(finder, 'find_spec', None)
            if finder is self or find is None:
                continue
            spec = find(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None and hasattr(spec.loader, 'exec_module'):
            spec.loader = _RegisteringLoader(spec.loader)
        return spec


class _RegisteringLoader:
    """Wraps the real loader of :data:`TARGET`; everything else is delegated."""

    def __init__(self, loader) -> None:
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module) -> None:
        module.__loader__ = self._loader
        self._loader.exec_module(module)
        uninstall()
        register(module)

    def __getattr__(self, name: str):
        return getattr(self._loader, name)


def install() -> None:
    """Register now if mmengine's config utils are loaded, else on their import."""
    if TARGET in sys.modules:
        register(sys.modules[TARGET])
    elif not any(isinstance(f, _RegisterOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _RegisterOnImport())


def uninstall() -> None:
    """Remove the finder (registration already done, or not wanted)."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _RegisterOnImport)]
