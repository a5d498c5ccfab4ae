"""Scope ``mmseg_fcn_classic`` for configs inherited as ``mmseg_fcn_classic::...``.

Our components register into mmseg's own registries. When a user's config inherits a
shipped base through ``_base_ = ['mmseg_fcn_classic::_base_/models/fcn8s_vgg16.py']``,
mmengine builds that base's objects in scope ``mmseg_fcn_classic`` and looks for
``mmseg_fcn_classic.registry``. These empty child registries give it that scope:
lookups fall through to their mmseg parents, where everything is registered.
"""
from mmengine.registry import Registry
from mmseg import registry as _mmseg_registry

__all__ = []
for _name in dir(_mmseg_registry):
    _parent = getattr(_mmseg_registry, _name)
    if isinstance(_parent, Registry) and _name.isupper():
        globals()[_name] = Registry(_parent.name, parent=_parent,
                                    scope='mmseg_fcn_classic',
                                    locations=['mmseg_fcn_classic'])
        __all__.append(_name)
