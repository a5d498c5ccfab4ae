"""``FCNSegLocalVisualizer``: mmseg's ``SegLocalVisualizer`` for images of any layout."""
from typing import Any, Optional

import numpy as np
from mmseg.registry import VISUALIZERS
from mmseg.visualization import SegLocalVisualizer

from ..utils.quiet import ignored_warnings

#: mmengine's ``Visualizer`` warns so for each vis backend it leaves out for want
#: of a ``save_dir`` (mmengine 0.10.7).
NO_SAVE_DIR = r'Failed to add .*, please provide the `save_dir` argument'


@VISUALIZERS.register_module()
class FCNSegLocalVisualizer(SegLocalVisualizer):
    """mmseg's ``SegLocalVisualizer``, also for images that are strided views.

    mmseg 1.2.2's ``tools/analysis_tools/browse_dataset.py`` passes a view of the
    ``(C, H, W)`` input tensor, permuted to ``(H, W, C)``; the visualizer draws the
    class labels with ``cv2.rectangle`` / ``cv2.putText`` on a mask laid out like
    that image, and OpenCV refuses to draw into a non-contiguous array ("Layout of
    the output array img is incompatible with cv::Mat"; every OpenCV tried, 4.8 to
    5.1). This class makes the image contiguous first; everything else is
    ``SegLocalVisualizer``'s. The shipped configs use it.

    Built without ``save_dir``, as ``MMSegInferencer`` builds the config's
    visualizer (it writes its files itself), the vis backends that need one are
    left out, as in mmengine's ``Visualizer``, without its warning for each of them:
    nothing was to be stored through them. (The runner always passes a
    ``save_dir``.)

    Example:
        >>> vis = FCNSegLocalVisualizer(name='doc_vis')
        >>> vis.dataset_meta = dict(classes=('bg', 'fg'),
        ...                         palette=[[0, 0, 0], [255, 0, 0]])
        >>> import torch
        >>> from mmseg.structures import SegDataSample
        >>> from mmengine.structures import PixelData
        >>> sample = SegDataSample(gt_sem_seg=PixelData(
        ...     data=torch.ones(1, 20, 30, dtype=torch.long)))
        >>> view = np.zeros((3, 20, 30), np.uint8).transpose(1, 2, 0)
        >>> vis.add_datasample('x', view, sample, draw_pred=False)
        >>> vis.get_image().shape
        (20, 30, 3)
    """

    def __init__(self, name: str = 'visualizer', image: Optional[np.ndarray] = None,
                 vis_backends: Optional[Any] = None, save_dir: Optional[str] = None,
                 **kwargs: Any) -> None:
        messages = (NO_SAVE_DIR, ) if save_dir is None else ()
        with ignored_warnings(UserWarning, *messages):
            super().__init__(name, image, vis_backends, save_dir, **kwargs)

    def add_datasample(self, name: str, image: np.ndarray, *args: Any,
                       **kwargs: Any) -> None:
        """``SegLocalVisualizer.add_datasample`` on a contiguous copy of ``image``
        (the image itself where it already is contiguous)."""
        super().add_datasample(name, np.ascontiguousarray(image), *args, **kwargs)
