from .classic_fcn_head import ClassicFCNHead

__all__ = ['ClassicFCNHead']
