from .multi_head_encoder_decoder import MultiHeadEncoderDecoder, decode_heads
from .multi_head_tta import MultiHeadSegTTAModel

__all__ = ['MultiHeadEncoderDecoder', 'MultiHeadSegTTAModel', 'decode_heads']
