from .fcn_optim_wrapper_constructor import FCNOptimWrapperConstructor

__all__ = ['FCNOptimWrapperConstructor']
