from .late_fusion_vgg16_fc import LateFusionVGG16FC
from .vgg16_fc import VGG16FC

__all__ = ['VGG16FC', 'LateFusionVGG16FC']
