from .vgg16_fc import VGG16FC

__all__ = ['VGG16FC']
