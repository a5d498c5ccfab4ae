"""Deployment helpers: a TorchScript-frozen backbone for fixed-shape CPU inference.

An eager CPU forward reorders every weight and activation into oneDNN's blocked
layout and back, and runs each ReLU as a separate pass. TorchScript's ``freeze`` +
``optimize_for_inference`` prepacks the weights once, keeps activations blocked
from layer to layer and fuses convolution + ReLU. It serves inference at one
fixed input shape; everything else falls back to the eager backbone.
"""
import warnings
from typing import List, Sequence

import torch
import torch.nn as nn
from torch import Tensor


class FrozenBackbone(nn.Module):
    """A backbone frozen with TorchScript for eval-mode inference at one shape.

    ``forward`` runs the frozen graph when it gives exactly what the eager
    backbone would: eval mode, no autograd, the traced input shape, dtype and
    device, and parameters unchanged since freezing (their in-place version
    counters, bumped by optimizer steps and ``load_state_dict``, are compared).
    Otherwise it runs the eager backbone, kept as :attr:`eager`.

    The frozen graph holds its own prepacked copy of the weights (as much memory
    again as the backbone's parameters).

    Args:
        backbone (nn.Module): The eager backbone (kept, not copied).
        example (Tensor): An input of the shape, dtype and device to freeze for
            (values are not used).

    Attributes:
        eager (nn.Module): The eager backbone.
        frozen (torch.jit.ScriptModule): The frozen graph.
    """

    def __init__(self, backbone: nn.Module, example: Tensor) -> None:
        super().__init__()
        self.eager = backbone
        self.shape = tuple(example.shape)
        self.dtype = example.dtype
        self.device = example.device
        was_training = backbone.training
        backbone.eval()
        try:
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter('ignore', torch.jit.TracerWarning)
                traced = torch.jit.trace(backbone, example, check_trace=False)
                frozen = torch.jit.optimize_for_inference(torch.jit.freeze(traced))
        finally:
            backbone.train(was_training)
        self.frozen = frozen
        self._versions = self._param_versions()
        self.train(was_training)

    def _param_versions(self) -> List[int]:
        return [p._version for p in self.eager.parameters()]

    def uses_frozen(self, x: Tensor) -> bool:
        """Whether :meth:`forward` would run the frozen graph for ``x``."""
        return (not self.training and not torch.is_grad_enabled()
                and tuple(x.shape) == self.shape and x.dtype == self.dtype
                and x.device == self.device
                and self._param_versions() == self._versions)

    def forward(self, x: Tensor):
        if self.uses_frozen(x):
            return self.frozen(x)
        return self.eager(x)


def freeze_for_inference(model: nn.Module, input_shape: Sequence[int]) -> nn.Module:
    """Freeze ``model.backbone`` for inference on inputs of ``input_shape``.

    Call it on the final model (weights loaded, on its device). ``model.backbone``
    becomes a :class:`FrozenBackbone`, which falls back to the eager backbone for
    any other shape and whenever gradients or training mode are on; only the state
    dict keys of the backbone gain an ``eager.`` level.

    Args:
        model (nn.Module): A segmentor with a ``backbone``; modified in place.
        input_shape (Sequence[int]): ``(N, C, H, W)`` of the preprocessed input.

    Returns:
        nn.Module: ``model``.

    Example:
        >>> from mmseg_fcn_classic.models import VGG16FC
        >>> model = nn.Module()
        >>> model.backbone = VGG16FC(widths=(4, 8, 8, 16, 16), fc_channels=16)
        >>> model = freeze_for_inference(model.eval(), (1, 3, 40, 50))
        >>> x = torch.rand(1, 3, 40, 50)
        >>> with torch.no_grad():
        ...     model.backbone.uses_frozen(x), len(model.backbone(x))
        (True, 3)
    """
    backbone = model.backbone
    if isinstance(backbone, FrozenBackbone):
        backbone = backbone.eager
    param = next(backbone.parameters())
    example = torch.zeros(tuple(input_shape), dtype=param.dtype, device=param.device)
    model.backbone = FrozenBackbone(backbone, example)
    return model
