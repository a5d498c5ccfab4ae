"""Inference and deployment helpers."""
from .inference import (IMG_SUFFIXES, build_inference_pipeline, collect_images,
                        init_model, init_segmentor, read_image, run_inference,
                        segment_image, show_result)

__all__ = [
    'IMG_SUFFIXES', 'build_inference_pipeline', 'collect_images', 'init_model',
    'init_segmentor', 'read_image', 'run_inference', 'segment_image', 'show_result'
]
