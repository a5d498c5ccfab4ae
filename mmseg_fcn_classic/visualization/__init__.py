"""Palettes, label images and overlays."""
from .palette import (generated_palette, label_image, overlay_image, resolve_palette,
                      voc_palette)

__all__ = [
    'generated_palette', 'label_image', 'overlay_image', 'resolve_palette', 'voc_palette'
]
