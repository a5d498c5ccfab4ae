"""Scope ``mmseg_fcn_classic`` for configs inherited as ``mmseg_fcn_classic::...``.

Our components register into mmseg's own registries. When a user's config inherits a
shipped base through ``_base_ = ['mmseg_fcn_classic::_base_/models/fcn8s_vgg16.py']``,
mmengine builds that base's objects in scope ``mmseg_fcn_classic`` and looks for
``mmseg_fcn_classic.registry``. These empty child registries give it that scope:
lookups fall through to their mmseg parents, where everything is registered.

mmseg fills its registries lazily, importing a registry's ``locations`` on its first
lookup; a lookup through a child imports only the child's own locations. So each
child also carries its ancestors' locations: ``SegLocalVisualizer`` and every other
lazily registered mmseg module resolve in our scope as they do in mmseg's. The
registries mmseg does not have (e.g. ``FUNCTIONS``) get children of mmengine's, so
every registry resolves in our scope without mmengine's fallback warning.

mmseg 1.2.2 itself lacks two of mmengine's registries, ``FUNCTIONS`` and
``STRATEGIES``. A lookup in scope ``mmseg`` then finds no registry of that scope,
warns ("Failed to search registry with scope "mmseg" in the "function" registry
tree") and uses mmengine's; ``MMSegInferencer`` (scope ``mmseg`` by default) does
so for its collate function on every config, mmseg's own too.
:func:`add_missing_mmseg_registries` gives those two trees the child of scope
``mmseg`` they look for, with no modules of its own: a lookup there falls back to
mmengine's registry, the one used today, without the warning. A registry that
mmseg has is never touched. Importing the plugin adds them.
"""
from typing import List

from mmengine.registry import Registry
from mmengine.registry import root as _mmengine_root
from mmseg import registry as _mmseg_registry

SCOPE = 'mmseg_fcn_classic'


def inherited_locations(parent: Registry) -> List[str]:
    """The import locations of ``parent`` and its ancestors, nearest first."""
    locations = []
    while parent is not None:
        locations += [loc for loc in parent._locations if loc not in locations]
        parent = parent.parent
    return locations


def _registries(module) -> dict:
    return {name: reg for name, reg in vars(module).items()
            if isinstance(reg, Registry) and name.isupper()}


def add_missing_mmseg_registries(scope: str = 'mmseg') -> List[str]:
    """Give every mmengine root registry that has no child of ``scope`` an empty one.

    Args:
        scope (str): The scope. Defaults to ``'mmseg'``.

    Returns:
        list[str]: The names of the registries added now (none when called again).

    Example:
        >>> add_missing_mmseg_registries()  # importing the plugin added them
        []
        >>> from mmengine.registry import FUNCTIONS
        >>> FUNCTIONS.children['mmseg'].get('pseudo_collate').__name__
        'pseudo_collate'
    """
    added = []
    for name, root in _registries(_mmengine_root).items():
        if scope not in root.children:
            Registry(root.name, parent=root, scope=scope,
                     locations=inherited_locations(root))
            added.append(name)
    return added


__all__ = []
for _name, _parent in {**_registries(_mmengine_root),
                       **_registries(_mmseg_registry)}.items():
    globals()[_name] = Registry(_parent.name, parent=_parent, scope=SCOPE,
                                locations=[SCOPE] + inherited_locations(_parent))
    __all__.append(_name)
