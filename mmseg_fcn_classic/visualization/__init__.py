"""Palettes, label images and overlays; the visualizer of the shipped configs."""
from .local_visualizer import FCNSegLocalVisualizer
from .palette import (generated_palette, label_image, overlay_image, resolve_palette,
                      voc_palette)

__all__ = [
    'FCNSegLocalVisualizer', 'generated_palette', 'label_image', 'overlay_image',
    'resolve_palette', 'voc_palette'
]
