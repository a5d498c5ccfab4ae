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


__all__ = []
for _name, _parent in {**_registries(_mmengine_root),
                       **_registries(_mmseg_registry)}.items():
    globals()[_name] = Registry(_parent.name, parent=_parent, scope=SCOPE,
                                locations=[SCOPE] + inherited_locations(_parent))
    __all__.append(_name)
