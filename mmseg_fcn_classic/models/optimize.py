"""Opt-in, exact speed-ups for the classic FCN on CPU.

Nothing here changes what the model computes (outputs and gradients agree with the
plain model to float32 rounding) or its state dict; each function rewires how a
layer runs. ``tools/benchmark.py`` measures them and ``tests/test_benchmark_
equivalence.py`` checks them.

Why ``fc6`` / ``fc7`` as GEMMs: they are convolutions with huge weights
(4096x512x7x7 and 4096x4096x1x1, 119M of VGG16-FC's 134M parameters) over tiny maps
(12x16 positions for a 500x375 image). oneDNN runs such convolutions well forward,
but its backward for them is several times slower than the matrix products it
amounts to, and every eager call reorders the 400 MB ``fc6`` weight into its
blocked layout. As ``unfold`` + one matrix product the layer is a plain BLAS GEMM in
both directions (weight gradient ``dY @ cols^T``, input gradient ``W^T @ dY``
folded back), which is what the numbers in ``docs/benchmarks.md`` show.
"""
from typing import Iterable, List

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

#: The layers :func:`optimize_fcn` turns into GEMMs: VGG16FC's fully connected ones.
FC_LAYERS = ('fc6', 'fc7')


class GemmConv2d(nn.Conv2d):
    """A :class:`torch.nn.Conv2d` computed as ``unfold`` + one matrix product.

    Same parameters, same state dict, same result as the convolution it replaces
    (up to float summation order). Worth it where the weight is large and the output
    map small, so that the unfolded input (``C*k*k x H'*W'``) stays small: the
    ``fc6`` / ``fc7`` layers of an FCN. Grouped, dilated or non-zero-padded
    convolutions fall back to the ordinary kernel.

    Args:
        *args: As :class:`torch.nn.Conv2d`.
        **kwargs: As :class:`torch.nn.Conv2d`.

    Example:
        >>> conv = nn.Conv2d(8, 16, 7)
        >>> gemm = GemmConv2d.from_conv(conv)
        >>> x = torch.rand(2, 8, 9, 10)
        >>> gemm(x).shape, bool(torch.allclose(gemm(x), conv(x), atol=1e-5))
        (torch.Size([2, 16, 3, 4]), True)
    """

    @classmethod
    def from_conv(cls, conv: nn.Conv2d) -> 'GemmConv2d':
        """A :class:`GemmConv2d` sharing ``conv``'s parameter objects.

        Sharing (not copying) keeps an optimizer built on the old module valid and
        the state dict keys unchanged.

        Args:
            conv (nn.Conv2d): The convolution to replace.

        Returns:
            GemmConv2d: The new module, in ``conv``'s train / eval mode.
        """
        new = cls(conv.in_channels, conv.out_channels, conv.kernel_size,
                  stride=conv.stride, padding=conv.padding, dilation=conv.dilation,
                  groups=conv.groups, bias=conv.bias is not None,
                  padding_mode=conv.padding_mode, device='meta')
        new.weight = conv.weight
        new.bias = conv.bias
        new.train(conv.training)
        return new

    def _gemm_ok(self) -> bool:
        return (self.groups == 1 and self.padding_mode == 'zeros'
                and not isinstance(self.padding, str)
                and tuple(self.dilation) == (1, 1))

    def forward(self, x: Tensor) -> Tensor:
        if not self._gemm_ok():
            return super().forward(x)
        n, c, h, w = x.shape
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        out_h = (h + 2 * ph - kh) // sh + 1
        out_w = (w + 2 * pw - kw) // sw + 1
        if (kh, kw, sh, sw, ph, pw) == (1, 1, 1, 1, 0, 0):
            cols = x.reshape(n, c, h * w)
        else:
            cols = F.unfold(x, (kh, kw), padding=(ph, pw), stride=(sh, sw))
        weight = self.weight.reshape(self.out_channels, -1)
        if n == 1:  # one plain GEMM (bias fused)
            out = (torch.mm(weight, cols[0]) if self.bias is None else
                   torch.addmm(self.bias[:, None], weight, cols[0]))[None]
        else:
            weight = weight.expand(n, -1, -1)
            out = (torch.bmm(weight, cols) if self.bias is None else
                   torch.baddbmm(self.bias[None, :, None], weight, cols))
        return out.reshape(n, self.out_channels, out_h, out_w)


def gemm_convs(model: nn.Module, names: Iterable[str] = FC_LAYERS) -> List[str]:
    """Replace the convolutions called ``names`` (anywhere in ``model``) by
    :class:`GemmConv2d` modules sharing their parameters.

    Args:
        model (nn.Module): Modified in place.
        names (Iterable[str]): Attribute names of the convolutions to replace.
            Defaults to :data:`FC_LAYERS`.

    Returns:
        list[str]: Qualified names of the replaced modules.
    """
    names = set(names)
    replaced = []
    for parent_name, parent in list(model.named_modules()):
        for name, child in list(parent.named_children()):
            if name in names and type(child) is nn.Conv2d:
                setattr(parent, name, GemmConv2d.from_conv(child))
                replaced.append(f'{parent_name}.{name}' if parent_name else name)
    return replaced


def optimize_fcn(model: nn.Module) -> nn.Module:
    """Apply this module's exact speed-ups to a classic FCN, in place.

    Currently: ``fc6`` / ``fc7`` as GEMMs (:func:`gemm_convs`). Works on a whole
    segmentor, a ``VGG16FC`` or any module tree with those layers; parameters,
    state dict and optimizer references stay as they were.

    Args:
        model (nn.Module): An ``EncoderDecoder`` with a ``VGG16FC`` backbone, or the
            backbone itself.

    Returns:
        nn.Module: ``model``.

    Raises:
        ValueError: If ``model`` has no plain ``fc6`` / ``fc7`` convolution.

    Example:
        >>> from mmseg_fcn_classic.models import VGG16FC
        >>> net = optimize_fcn(VGG16FC(widths=(4, 8, 8, 16, 16), fc_channels=16))
        >>> type(net.fc6).__name__
        'GemmConv2d'
    """
    if not gemm_convs(model):
        raise ValueError(f'{type(model).__name__} has no nn.Conv2d named '
                         f'{" / ".join(FC_LAYERS)} to optimise')
    return model
