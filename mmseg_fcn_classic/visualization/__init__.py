"""Palettes, label images and overlays; the multi-head visualizer (importing
registers it into mmseg's VISUALIZERS)."""
from .multi_head_visualizer import MultiHeadSegLocalVisualizer
from .palette import (generated_palette, label_image, overlay_image, resolve_palette,
                      voc_palette)

__all__ = [
    'MultiHeadSegLocalVisualizer', 'generated_palette', 'label_image', 'overlay_image',
    'resolve_palette', 'voc_palette'
]
