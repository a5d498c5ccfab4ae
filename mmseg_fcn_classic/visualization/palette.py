"""Colours for label maps: the VOC colour map, palette PNGs and overlays."""
from typing import List, Optional, Sequence

import numpy as np
from PIL import Image


def voc_palette(num_colors: int = 256) -> List[int]:
    """The colour map of VOC's ``SegmentationClass`` palette PNGs.

    Args:
        num_colors (int): Entries. Defaults to 256, a full PNG palette.

    Returns:
        list[int]: Flattened ``(r, g, b, r, g, b, ...)``, 768 values by default,
        for :meth:`PIL.Image.Image.putpalette`.

    Example:
        >>> voc_palette()[3:6], voc_palette()[255 * 3:]
        ([128, 0, 0], [224, 224, 192])
    """
    palette = []
    for i in range(num_colors):
        r = g = b = 0
        c = i
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        palette += [r, g, b]
    return palette


def generated_palette(num_classes: int) -> List[List[int]]:
    """The first ``num_classes`` colours of :func:`voc_palette`, as RGB triples."""
    flat = voc_palette(num_classes)
    return [flat[3 * i:3 * i + 3] for i in range(num_classes)]


def resolve_palette(num_classes: int, *metas: Optional[dict]) -> List[List[int]]:
    """The first palette among ``metas`` covering ``num_classes`` (else generated)."""
    for meta in metas:
        palette = (meta or {}).get('palette')
        classes = (meta or {}).get('classes')
        if palette and len(palette) >= num_classes and (
                classes is None or len(classes) == num_classes):
            return [list(map(int, c)) for c in palette[:num_classes]]
    return generated_palette(num_classes)


def label_image(label: np.ndarray, palette: Sequence[Sequence[int]]) -> Image.Image:
    """A palette-mode ('P') PNG image whose pixel values are the labels."""
    if label.max(initial=0) > 255:
        raise ValueError('labels above 255 do not fit a palette PNG')
    img = Image.fromarray(label.astype(np.uint8), mode='P')
    flat = [v for colour in palette for v in colour][:768]
    img.putpalette(flat + [0] * (768 - len(flat)))
    return img


def overlay_image(img_bgr: np.ndarray, label: np.ndarray,
                  palette: Sequence[Sequence[int]], opacity: float = 0.5) -> np.ndarray:
    """Blend the label colours over the image; returns RGB uint8."""
    colours = np.asarray(palette, dtype=np.float32)
    rgb = img_bgr[..., ::-1].astype(np.float32)
    painted = colours[np.clip(label, 0, len(colours) - 1)]
    blended = (1 - opacity) * rgb + opacity * painted
    return np.clip(blended + 0.5, 0, 255).astype(np.uint8)
