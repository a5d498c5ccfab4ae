"""Palettes, label images and overlays; the visualizers of the shipped configs
(the multi-head one draws a chosen head)."""
from .local_visualizer import FCNSegLocalVisualizer
from .multi_head_visualizer import MultiHeadSegLocalVisualizer
from .palette import (generated_palette, label_image, overlay_image, resolve_palette,
                      voc_palette)

__all__ = [
    'FCNSegLocalVisualizer', 'MultiHeadSegLocalVisualizer', 'generated_palette',
    'label_image', 'overlay_image', 'resolve_palette', 'voc_palette'
]
