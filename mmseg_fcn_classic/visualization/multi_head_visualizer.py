"""The shipped configs' visualizer for one chosen head of a multi-head segmentor."""
from typing import Optional

import numpy as np
from mmseg.registry import VISUALIZERS

from ..models.utils.heads import check_head_name, head_fields, head_meta, select_head
from .local_visualizer import FCNSegLocalVisualizer
from .palette import resolve_palette


@VISUALIZERS.register_module()
class MultiHeadSegLocalVisualizer(FCNSegLocalVisualizer):
    """``FCNSegLocalVisualizer`` that draws the maps of head ``head``.

    By default (``head=None``) it is the shipped configs' visualizer: it draws the
    primary head (``gt_sem_seg`` / ``pred_sem_seg``, e.g. SIFT Flow's semantic
    labels) with ``classes`` / ``palette`` of the dataset meta. With
    ``head='geo'`` it draws ``gt_geo_seg`` / ``pred_geo_seg`` with
    ``geo_classes`` / ``geo_palette`` instead. Choose on the command line with
    ``--cfg-options visualizer.head=geo`` (``tools/test.py --show-dir``).

    Args:
        name (str): The instance name. Defaults to ``'visualizer'``.
        head (str, optional): The head to draw. Defaults to None (the primary).
        **kwargs: Other ``SegLocalVisualizer`` arguments.

    Example:
        >>> visualizer = dict(type='MultiHeadSegLocalVisualizer', head='geo')
    """

    def __init__(self, name: str = 'visualizer', head: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__(name, **kwargs)
        self.head = None if head is None else check_head_name(head)

    def add_datasample(self, name: str, image: np.ndarray, data_sample=None,
                       *args, **kwargs) -> None:
        """Draw the chosen head's maps (see ``SegLocalVisualizer``)."""
        if self.head is None or data_sample is None:
            return super().add_datasample(name, image, data_sample, *args, **kwargs)
        meta = self.dataset_meta
        head = head_meta(meta, self.head)
        if not head['classes']:
            raise ValueError(f'the dataset meta has no {head_fields(self.head).classes}'
                             f' for head {self.head!r}')
        self.dataset_meta = dict(
            classes=head['classes'],
            palette=resolve_palette(len(head['classes']), head))
        try:
            return super().add_datasample(name, image,
                                          select_head(data_sample, self.head),
                                          *args, **kwargs)
        finally:
            self.dataset_meta = meta
