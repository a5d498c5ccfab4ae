"""OpenCV's limit on decoded pixels, set to PIL's before OpenCV is loaded.

OpenCV reads ``OPENCV_IO_MAX_IMAGE_PIXELS`` once, when ``cv2`` is loaded (default
2**30 pixels: 3 GiB of BGR). mmcv decodes every image with it, so without this a
file whose header PIL cannot read could decode up to that size. The datasets and
``mmseg-fcn-check-dataset`` refuse images above PIL's ``Image.MAX_IMAGE_PIXELS``
from the header; OpenCV gets the same bound. Importing ``mmseg_fcn_classic`` first
(every ``mmseg-fcn-*`` command and ``python -m mmseg_fcn_classic.tools.*`` does)
sets it; where cv2 is already loaded (the plugin imported by mmseg's own tools) or
the environment sets the variable, nothing changes.
"""
import os
import sys
from typing import MutableMapping, Optional

#: The environment variable OpenCV reads when it is loaded.
OPENCV_PIXELS_ENV = 'OPENCV_IO_MAX_IMAGE_PIXELS'


def limit_opencv_pixels(environ: MutableMapping[str, str] = os.environ,
                        modules: Optional[dict] = None) -> Optional[int]:
    """Set OpenCV's pixel limit to PIL's ``Image.MAX_IMAGE_PIXELS``.

    Only where OpenCV is not loaded yet and ``environ`` does not set the limit
    already; a process started from this one inherits it.

    Args:
        environ (MutableMapping): The environment. Defaults to ``os.environ``.
        modules (dict, optional): The loaded modules. Defaults to ``sys.modules``.

    Returns:
        int or None: The limit set, or None where nothing was changed.

    Example:
        >>> from PIL import Image
        >>> env = {}
        >>> limit_opencv_pixels(env, modules={}) == Image.MAX_IMAGE_PIXELS
        True
        >>> env == {'OPENCV_IO_MAX_IMAGE_PIXELS': str(Image.MAX_IMAGE_PIXELS)}
        True
        >>> limit_opencv_pixels({'OPENCV_IO_MAX_IMAGE_PIXELS': '100'}, modules={})
        >>> limit_opencv_pixels({}, modules={'cv2': object()})
    """
    modules = sys.modules if modules is None else modules
    if OPENCV_PIXELS_ENV in environ or 'cv2' in modules:
        return None
    from PIL import Image
    limit = Image.MAX_IMAGE_PIXELS
    if not limit:  # PIL's limit switched off: OpenCV keeps its own
        return None
    environ[OPENCV_PIXELS_ENV] = str(limit)
    return limit
