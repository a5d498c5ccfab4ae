"""Inference helpers: segment image files, write label and overlay PNGs."""
from .inference import (IMG_SUFFIXES, build_inference_pipeline, collect_images,
                        init_segmentor, label_image, overlay_image, read_image,
                        run_inference, segment_image)

__all__ = [
    'IMG_SUFFIXES', 'build_inference_pipeline', 'collect_images', 'init_segmentor',
    'label_image', 'overlay_image', 'read_image', 'run_inference', 'segment_image'
]
