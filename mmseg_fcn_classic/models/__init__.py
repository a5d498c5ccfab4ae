"""The classic FCN models; importing registers them into mmseg's MODELS."""
from .backbones import AlexNetFC, VGG16FC
from .data_preprocessor import FCNDataPreProcessor
from .decode_heads import ClassicFCNHead
from .segmentors import MultiHeadEncoderDecoder, MultiHeadSegTTAModel

__all__ = [
    'VGG16FC', 'AlexNetFC', 'FCNDataPreProcessor', 'ClassicFCNHead',
    'MultiHeadEncoderDecoder', 'MultiHeadSegTTAModel'
]
