"""Building blocks of the FCN models, without policy."""
from .gemm_conv import GemmConv2d
from .upscore import Upscore

__all__ = ['GemmConv2d', 'Upscore']
