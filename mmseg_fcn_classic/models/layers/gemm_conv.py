"""``GemmConv2d``: a convolution computed as ``unfold`` + one matrix product.

VGG16FC builds fc6 / fc7 with it. They are convolutions with huge weights over
tiny maps: oneDNN's backward for such shapes is slow and every eager call reorders
the fc6 weight into its blocked layout, while ``unfold`` + one BLAS GEMM runs the
same arithmetic in both directions (weight gradient ``dY @ cols^T``, input
gradient ``W^T @ dY`` folded back). ``docs/benchmarks.md`` has the measurements.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor


class GemmConv2d(nn.Conv2d):
    """A :class:`torch.nn.Conv2d` computed as ``unfold`` + one matrix product.

    Same parameters, same state dict, same result as the convolution it replaces
    (up to float summation order). Worth it where the weight is large and the output
    map small, so that the unfolded input (``C*k*k x H'*W'``) stays small: the
    ``fc6`` / ``fc7`` layers of an FCN. Grouped, dilated or non-zero-padded
    convolutions, and inputs whose unfolded copy would exceed
    :attr:`max_unfold_bytes`, fall back to the ordinary kernel.

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

    #: Largest unfolded input (bytes) computed as a GEMM. ``fc6`` of a 500x375
    #: image unfolds to 19 MB; a 2000x2000 image would need 400 MB.
    max_unfold_bytes: int = 256 * 2**20

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
        if n * c * kh * kw * out_h * out_w * x.element_size() > self.max_unfold_bytes:
            return super().forward(x)
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
