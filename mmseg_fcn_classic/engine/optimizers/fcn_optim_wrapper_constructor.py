"""``FCNOptimWrapperConstructor``: mmengine's default, naming frozen parameters once."""
import logging

import torch.nn as nn
from mmengine.logging import print_log
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper
from mmseg.registry import OPTIM_WRAPPER_CONSTRUCTORS

from ...utils.quiet import dropped_log_records

#: mmengine's warning, once per parameter with ``requires_grad=False``, when it
#: builds param groups from a ``paramwise_cfg`` (``DefaultOptimWrapperConstructor.
#: add_params``, mmengine 0.10.7).
SKIPPED_FROZEN = r'^\S+ is skipped since its requires_grad=False$'


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class FCNOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """mmengine's ``DefaultOptimWrapperConstructor``, saying once which parameters
    are frozen.

    It builds the same param groups, optimizer and wrapper. With a
    ``paramwise_cfg`` (the reference solver's bias ``lr_mult=2``), mmengine warns
    once for every parameter with ``requires_grad=False`` ("... is skipped since
    its requires_grad=False"); in our FCNs those are the fixed bilinear
    upsamplings (``ClassicFCNHead``'s ``learn_upsampling=False``, as in the
    reference), frozen by design. This constructor drops exactly those warnings,
    while it builds, and logs one INFO line instead that names every frozen
    parameter (with or without ``paramwise_cfg``). A frozen parameter gets no
    gradient, so no optimizer step changes it either way.

    A schedule opts in with one key::

        optim_wrapper = dict(type='OptimWrapper', optimizer=...,
                             paramwise_cfg=..., constructor='FCNOptimWrapperConstructor')

    Takes the arguments of ``DefaultOptimWrapperConstructor``.
    """

    def __call__(self, model: nn.Module) -> OptimWrapper:
        module = model.module if hasattr(model, 'module') else model  # as mmengine
        frozen = [name for name, p in module.named_parameters() if not p.requires_grad]
        with dropped_log_records(None, SKIPPED_FROZEN):
            optim_wrapper = super().__call__(model)
        if frozen:
            print_log(f'{len(frozen)} frozen parameters (requires_grad=False) are not '
                      f'optimised: {", ".join(frozen)}', logger='current',
                      level=logging.INFO)
        return optim_wrapper
