"""Classic FCN-32s/16s/8s on VGG16 as an mmsegmentation 1.x plugin.

Importing this package registers every component into mmseg's registries, so a
config only needs::

    custom_imports = dict(imports=['mmseg_fcn_classic'], allow_failed_imports=False)
"""
# the submodules register their components with mmseg on import
from . import datasets, engine, evaluation, models, visualization  # noqa: F401
from .registry import add_missing_mmseg_registries
from .utils.config import register_config_package

register_config_package()
add_missing_mmseg_registries()  # FUNCTIONS and STRATEGIES of scope mmseg

__version__ = '0.1.0'
