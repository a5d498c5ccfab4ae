"""Input normalisation chosen by where the VGG16 weights came from."""
from typing import Any, Dict, Optional, Sequence

from mmseg.models.data_preprocessor import SegDataPreProcessor
from mmseg.registry import MODELS

#: Input convention of each family of pretrained VGG16 weights.
#: ``caffe``: the reference FCN / VGG_ILSVRC_16_layers weights, fed BGR 0-255 images
#: minus the per-channel mean of ``fcn.berkeleyvision.org``'s data layers, std 1.
#: ``torchvision``: RGB scaled by the ImageNet mean/std (on 0-255 values).
PIXEL_CONVENTIONS: Dict[str, Dict[str, Any]] = {
    'caffe': dict(
        mean=(104.00699, 116.66877, 122.67892), std=(1.0, 1.0, 1.0), bgr_to_rgb=False),
    'torchvision': dict(
        mean=(123.675, 116.28, 103.53), std=(58.395, 57.12, 57.375), bgr_to_rgb=True),
}


@MODELS.register_module()
class FCNDataPreProcessor(SegDataPreProcessor):
    """A :class:`SegDataPreProcessor` whose normalisation follows the weights.

    Images are loaded BGR by mmcv. ``weights='caffe'`` keeps BGR and subtracts the
    Caffe mean (std 1), as the reference FCN nets were trained;
    ``weights='torchvision'`` converts to RGB with ImageNet mean/std.

    Args:
        weights (str): ``'caffe'`` or ``'torchvision'``. Defaults to ``'caffe'``.
        mean (Sequence[float], optional): Overrides the convention's mean.
        std (Sequence[float], optional): Overrides the convention's std.
        non_blocking (bool): Copy batches to the device without blocking the
            host; with the loader's ``pin_memory=True`` the copy to a GPU is then
            asynchronous (no host sync per step). Defaults to True (mmengine's
            default is False; copies from pageable memory block either way).
        **kwargs: Other :class:`SegDataPreProcessor` arguments (``pad_val``,
            ``seg_pad_val``, ``size``, ...).

    Example:
        >>> pre = FCNDataPreProcessor(weights='caffe')
        >>> [round(v, 5) for v in pre.mean.flatten().tolist()]
        [104.00699, 116.66877, 122.67892]
    """

    def __init__(self,
                 weights: str = 'caffe',
                 mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None,
                 non_blocking: bool = True,
                 **kwargs) -> None:
        if weights not in PIXEL_CONVENTIONS:
            raise ValueError(f'weights must be one of {sorted(PIXEL_CONVENTIONS)}, '
                             f'got {weights!r}')
        conv = PIXEL_CONVENTIONS[weights]
        kwargs.setdefault('bgr_to_rgb', conv['bgr_to_rgb'])
        super().__init__(
            mean=conv['mean'] if mean is None else mean,
            std=conv['std'] if std is None else std,
            **kwargs)
        self.weights = weights
        self._non_blocking = non_blocking  # SegDataPreProcessor does not pass it on
