from .alexnet_fc import AlexNetFC
from .vgg16_fc import VGG16FC

__all__ = ['VGG16FC', 'AlexNetFC']
