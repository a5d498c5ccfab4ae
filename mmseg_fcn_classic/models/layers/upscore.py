"""``Upscore``: the frozen bilinear upsampling of the reference FCN nets."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from ..utils.geometry import bilinear_upsample_weight


class Upscore(nn.ConvTranspose2d):
    """Upsampling by ``factor``: a ``2f x 2f`` stride-``f`` transposed conv without
    bias, initialised to the bilinear kernel on the channel diagonal (the reference
    ``Deconvolution`` layers after ``surgery.interp``).

    The weight is the reference's dense ``(C, C, 2f, 2f)`` one, so published weights
    load 1:1. While it needs no gradient (frozen, or under ``torch.no_grad()``) and
    its off-diagonal entries are all zero, the forward runs as a depthwise
    (``groups=C``) transposed conv on the diagonal: the same output for 1/C of the
    FLOPs. The check is two ``count_nonzero`` calls per forward, so it stays right
    however the weight was changed.

    Args:
        channels (int): Input = output channels ``C``.
        factor (int): Upsampling factor ``f``.
        trainable (bool): Whether the weight gets gradients. Defaults to False.
    """

    def __init__(self, channels: int, factor: int, trainable: bool = False) -> None:
        super().__init__(
            channels, channels, 2 * factor, stride=factor, bias=False)
        self.weight.requires_grad_(trainable)

    def reset_parameters(self) -> None:
        """Set the bilinear kernel on the diagonal."""
        with torch.no_grad():
            self.weight.copy_(
                bilinear_upsample_weight(self.in_channels, self.kernel_size[0]))

    def forward(self, x: Tensor) -> Tensor:
        weight = self.weight
        if not (weight.requires_grad and torch.is_grad_enabled()):
            diagonal = weight.diagonal(dim1=0, dim2=1)  # (k, k, C)
            if torch.count_nonzero(weight) == torch.count_nonzero(diagonal):
                depthwise = diagonal.permute(2, 0, 1).unsqueeze(1).contiguous()
                return F.conv_transpose2d(
                    x, depthwise, stride=self.stride, groups=self.in_channels)
        return F.conv_transpose2d(x, weight, stride=self.stride)
