"""``Upscore``: the frozen bilinear upsampling of the reference FCN nets."""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from ..utils.geometry import bilinear_upsample_weight


class Upscore(nn.ConvTranspose2d):
    """Upsampling by ``factor``: a ``2f x 2f`` (or ``kernel_size``) stride-``f``
    transposed conv without bias, initialised to the bilinear kernel on the channel
    diagonal (the reference ``Deconvolution`` layers after ``surgery.interp``).
    FCN-AlexNet's ``upscore`` is the odd ``63 x 63`` kernel of factor 32.

    The weight is the reference's dense ``(C, C, k, k)`` one, so published weights
    load 1:1. While it is frozen (``requires_grad=False``) and its off-diagonal
    entries are all zero, the forward runs as a depthwise (``groups=C``)
    transposed conv on the diagonal: the same output for 1/C of the FLOPs.

    Whether the weight is diagonal is decided when the weight changes, not per
    call, so the forward has no host sync and no data-dependent branch
    (``torch.compile`` and ``torch.export`` see one graph): by
    :meth:`reset_parameters`, by ``load_state_dict``, and when the weight was
    edited in place, replaced or had its ``requires_grad`` toggled since the last
    decision, which ``train()`` / ``eval()`` and an eager forward notice from the
    weight's version counter (a host-side integer). A weight that was trainable
    when decided, or is trainable now, runs densely. Writes through
    ``weight.data`` bypass the version counter: call :meth:`refresh_fast_path`
    after them.

    Args:
        channels (int): Input = output channels ``C``.
        factor (int): Upsampling factor ``f``.
        trainable (bool): Whether the weight gets gradients. Defaults to False.
        kernel_size (int, optional): Kernel side ``k``. Defaults to None: ``2f``.

    Example:
        >>> up = Upscore(3, 2)
        >>> up(torch.ones(1, 3, 4, 5)).shape, up.uses_fast_path
        (torch.Size([1, 3, 10, 12]), True)
        >>> Upscore(3, 32, kernel_size=63)(torch.ones(1, 3, 1, 2)).shape
        torch.Size([1, 3, 63, 95])
    """

    def __init__(self, channels: int, factor: int, trainable: bool = False,
                 kernel_size: Optional[int] = None) -> None:
        kernel_size = 2 * factor if kernel_size is None else kernel_size
        super().__init__(
            channels, channels, kernel_size, stride=factor, bias=False)
        self.weight.requires_grad_(trainable)
        self.refresh_fast_path()

    @property
    def uses_fast_path(self) -> bool:
        """Whether :meth:`forward` runs the depthwise transposed conv."""
        return self._fast and not self.weight.requires_grad

    def _weight_key(self) -> Tuple[int, int, bool]:
        weight = self.weight
        return id(weight), weight._version, weight.requires_grad

    def refresh_fast_path(self) -> None:
        """Decide the depthwise fast path from the current weight (one host sync
        on an accelerator)."""
        weight = self.weight
        self._fast = False
        if not weight.requires_grad and not weight.is_meta:
            with torch.no_grad():
                diagonal = weight.diagonal(dim1=0, dim2=1)
                self._fast = bool(
                    torch.count_nonzero(weight) == torch.count_nonzero(diagonal))
        self._decided_for = self._weight_key()

    def _refresh_if_changed(self) -> None:
        if getattr(self, '_decided_for', None) != self._weight_key():
            self.refresh_fast_path()

    def reset_parameters(self) -> None:
        """Set the bilinear kernel on the diagonal."""
        with torch.no_grad():
            self.weight.copy_(
                bilinear_upsample_weight(self.in_channels, self.kernel_size[0]))
        if hasattr(self, '_fast'):  # not while nn.ConvTranspose2d.__init__ runs
            self.refresh_fast_path()

    def _load_from_state_dict(self, *args, **kwargs) -> None:
        super()._load_from_state_dict(*args, **kwargs)
        self.refresh_fast_path()

    def train(self, mode: bool = True) -> 'Upscore':
        """Set train / eval mode; re-decide the fast path if the weight changed."""
        super().train(mode)
        self._refresh_if_changed()
        return self

    def forward(self, x: Tensor) -> Tensor:
        if not torch.compiler.is_compiling():
            # eager: an edit since the last decision (version counter, a host-side
            # integer) is re-decided now; compiled graphs re-decide at train/eval
            self._refresh_if_changed()
        if self._fast and not self.weight.requires_grad:
            diagonal = self.weight.diagonal(dim1=0, dim2=1)  # (k, k, C)
            depthwise = diagonal.permute(2, 0, 1).unsqueeze(1).contiguous()
            return F.conv_transpose2d(
                x, depthwise, stride=self.stride, groups=self.in_channels)
        return F.conv_transpose2d(x, self.weight, stride=self.stride)
