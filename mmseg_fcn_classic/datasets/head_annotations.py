"""Label maps of the other heads of a multi-head segmentor (e.g. SIFT Flow's
geometric labels next to its semantic ones)."""
from typing import Optional

from mmseg.registry import TRANSFORMS

from ..models.utils.heads import check_head_name, head_fields
from .transforms import LoadFCNAnnotations


@TRANSFORMS.register_module()
class LoadHeadAnnotations(LoadFCNAnnotations):
    """Load the label map of head ``head`` into ``gt_<head>_seg_map``.

    The data info names the file as ``<head>_seg_map_path`` and, for a label
    format of the dataset's own, its decoder as ``<head>_seg_map_decoder`` (the
    same hook as ``seg_map_decoder``: a picklable ``bytes -> (H, W) uint8``);
    otherwise the file is read as :class:`LoadFCNAnnotations` reads
    ``seg_map_path``. No ``reduce_zero_label`` and no ``label_map`` apply: those
    belong to the primary head's classes. The map must have the image's size.

    The map joins ``seg_fields``, so mmseg's ``RandomFlip``, ``RandomCrop``,
    ``Resize`` and ``RandomRotate`` transform it exactly as ``gt_seg_map``;
    ``PackMultiLabelSegInputs`` packs it as ``gt_<head>_seg``.

    Required Keys: ``<head>_seg_map_path``, optionally ``<head>_seg_map_decoder``
    and ``ori_shape``. Without ``<head>_seg_map_path`` (inference on bare images)
    nothing is loaded.

    Added Keys: ``gt_<head>_seg_map`` (np.uint8, H x W).

    Args:
        head (str): The head's name, e.g. ``'geo'``.
        backend_args (dict, optional): mmengine file backend arguments.
            Defaults to None.

    Example:
        >>> LoadHeadAnnotations(head='geo')
        LoadHeadAnnotations(head='geo', backend_args=None)
    """

    def __init__(self, head: str, backend_args: Optional[dict] = None) -> None:
        super().__init__(backend_args=backend_args)  # reduce_zero_label: False below
        self.head = check_head_name(head)

    def _load_seg_map(self, results: dict) -> None:
        fields = head_fields(self.head)
        path = results.get(fields.seg_map_path)
        if path is None:
            return
        sub = dict(seg_map_path=path,
                   seg_map_decoder=results.get(fields.seg_map_decoder),
                   reduce_zero_label=False, seg_fields=[],
                   ori_shape=results.get('ori_shape'),
                   img_path=results.get('img_path'))
        super()._load_seg_map(sub)
        results[fields.seg_map] = sub['gt_seg_map']
        results.setdefault('seg_fields', []).append(fields.seg_map)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(head={self.head!r}, '
                f'backend_args={self.backend_args})')
