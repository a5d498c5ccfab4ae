"""Classic FCN-32s/16s/8s on VGG16 as an mmsegmentation 1.x plugin.

Importing this package registers every component into mmseg's registries, so a
config only needs::

    custom_imports = dict(imports=['mmseg_fcn_classic'], allow_failed_imports=False)
"""
# before anything loads OpenCV (mmseg and mmcv do): it reads its pixel limit then
from .utils.opencv_limits import limit_opencv_pixels

limit_opencv_pixels()

# the submodules register their components with mmseg on import
from . import datasets, engine, evaluation, models, visualization  # noqa: E402,F401
from .registry import add_missing_mmseg_registries  # noqa: E402
from .utils.config import register_config_package  # noqa: E402

register_config_package()
add_missing_mmseg_registries()  # FUNCTIONS and STRATEGIES of scope mmseg

__version__ = '0.1.0'
