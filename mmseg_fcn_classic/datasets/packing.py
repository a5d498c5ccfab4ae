"""Pack every head's label map into the data sample."""
import numpy as np
from mmcv.transforms import to_tensor
from mmengine.structures import PixelData
from mmseg.datasets.transforms import PackSegInputs
from mmseg.registry import TRANSFORMS

from ..models.utils.heads import head_fields, head_of_seg_map


@TRANSFORMS.register_module()
class PackMultiLabelSegInputs(PackSegInputs):
    """mmseg's ``PackSegInputs`` that also packs the other heads' label maps.

    Every ``gt_<head>_seg_map`` of ``seg_fields`` (from ``LoadHeadAnnotations``)
    becomes the data sample's ``gt_<head>_seg`` (``(1, H, W)`` int64), next to
    ``gt_sem_seg``. Each must still have the size of ``gt_seg_map``: a transform
    that changed one map and not the other (mmcv's ``Pad`` pads ``gt_seg_map``
    only) is an error, not a silent misalignment.

    Args:
        meta_keys (Sequence[str]): As ``PackSegInputs``.

    Example:
        >>> pack = PackMultiLabelSegInputs()
        >>> seg = np.zeros((2, 3), np.uint8)
        >>> out = pack(dict(img=np.zeros((2, 3, 3), np.uint8), gt_seg_map=seg,
        ...                 gt_geo_seg_map=seg + 1,
        ...                 seg_fields=['gt_seg_map', 'gt_geo_seg_map']))
        >>> out['data_samples'].gt_geo_seg.data.shape
        torch.Size([1, 2, 3])
    """

    def transform(self, results: dict) -> dict:
        packed = super().transform(results)
        sample = packed['data_samples']
        primary = results.get('gt_seg_map')
        for key in results.get('seg_fields', []):
            head = head_of_seg_map(key)
            if head is None or key not in results:
                continue
            seg = np.asarray(results[key])
            if primary is not None and seg.shape != primary.shape:
                raise ValueError(
                    f'{key} is {seg.shape} but gt_seg_map is {primary.shape}: a '
                    'transform of the pipeline changed one and not the other '
                    "(mmcv's Pad pads gt_seg_map only; mmseg's RandomFlip, "
                    'RandomCrop, Resize and RandomRotate treat every map of '
                    'seg_fields alike)')
            sample.set_data({head_fields(head).gt: PixelData(
                data=to_tensor(seg[None].astype(np.int64)))})
        return packed
