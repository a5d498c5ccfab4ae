from .alexnet_fc import AlexNetFC
from .late_fusion_vgg16_fc import LateFusionVGG16FC
from .vgg16_fc import VGG16FC

__all__ = ['VGG16FC', 'AlexNetFC', 'LateFusionVGG16FC']
