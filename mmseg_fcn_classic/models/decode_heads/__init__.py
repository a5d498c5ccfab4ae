from .classic_fcn_head import ClassicFCNHead
from .late_fusion_fcn_head import LateFusionFCNHead

__all__ = ['ClassicFCNHead', 'LateFusionFCNHead']
