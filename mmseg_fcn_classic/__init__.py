"""Classic FCN-32s/16s/8s on VGG16 as an mmsegmentation 1.x plugin.

Importing this package registers every component into mmseg's registries, so a
config only needs::

    custom_imports = dict(imports=['mmseg_fcn_classic'], allow_failed_imports=False)
"""
from . import (datasets, engine, evaluation, models,  # noqa: F401  (register)
               visualization)
from .utils.config import register_config_package

register_config_package()

__version__ = '0.1.0'
