"""The classic FCN models; importing registers them into mmseg's MODELS."""
from .backbones import AlexNetFC, LateFusionVGG16FC, VGG16FC
from .data_preprocessor import FCNDataPreProcessor
from .decode_heads import ClassicFCNHead, LateFusionFCNHead
from .multimodal_data_preprocessor import MultiModalDataPreProcessor
from .segmentors import MultiHeadEncoderDecoder, MultiHeadSegTTAModel

__all__ = [
    'VGG16FC', 'AlexNetFC', 'FCNDataPreProcessor', 'ClassicFCNHead',
    'MultiHeadEncoderDecoder', 'MultiHeadSegTTAModel', 'LateFusionVGG16FC',
    'LateFusionFCNHead', 'MultiModalDataPreProcessor'
]
