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

Why :func:`freeze_for_inference`: an eager forward reorders every weight (538 MB
for VGG16-FC) and every activation into oneDNN's blocked layout and back, and runs
each ReLU as a separate pass. TorchScript's ``freeze`` + ``optimize_for_inference``
prepacks the weights once, keeps activations in the blocked layout from layer to
layer and fuses convolution + ReLU. It is for inference at one fixed input shape;
everything else falls back to the eager backbone.

Why :func:`tune_glibc_malloc`: glibc serves every allocation above its mmap
threshold (at most 32 MB by default) with a fresh ``mmap`` and unmaps it on free.
A training step of FCN-8s at 500x375 allocates about 4 GB of such activations and
gradients, so each step takes about a million page faults and seconds of kernel
time zeroing pages. Keeping freed memory in the heap removes them; the process's
resident size then stays at its peak instead of dropping between steps. This is a
process setting, not a model change: it speeds up any PyTorch CPU training here.
"""
import ctypes
import warnings
from typing import Iterable, List, Sequence

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

    Currently: ``fc6`` / ``fc7`` as GEMMs (:func:`gemm_convs`; ``VGG16FC`` already
    builds them so, which makes this a no-op there). Works on a whole
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
    already = any(isinstance(m, GemmConv2d) and name.split('.')[-1] in FC_LAYERS
                  for name, m in model.named_modules())
    if not gemm_convs(model) and not already:  # VGG16FC builds them as GEMMs itself
        raise ValueError(f'{type(model).__name__} has no nn.Conv2d named '
                         f'{" / ".join(FC_LAYERS)} to optimise')
    return model


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

    Call it on the final model (weights loaded, on its device, optionally after
    :func:`optimize_fcn`). ``model.backbone`` becomes a :class:`FrozenBackbone`,
    which falls back to the eager backbone for any other shape and whenever
    gradients or training mode are on, so the model stays correct everywhere; only
    the state dict keys of the backbone gain an ``eager.`` level.

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


#: glibc ``mallopt`` parameters (``malloc.h``).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def tune_glibc_malloc(mmap_threshold: int = 1 << 30,
                      trim_threshold: int = 2**31 - 1) -> bool:
    """Keep freed memory in this process's heap instead of returning it to the OS.

    Raises glibc's mmap threshold (allocations below it come from the heap) and
    its trim threshold (free memory at the top of the heap is kept up to it), so
    that a training loop reuses the same pages every step instead of page-faulting
    fresh ones. Outputs do not change. Equivalent to starting Python with
    ``MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=2147483647``.
    Call it early (before the model allocates); it cannot be undone.

    Args:
        mmap_threshold (int): Bytes. Defaults to 1 GiB.
        trim_threshold (int): Bytes. Defaults to 2 GiB - 1.

    Returns:
        bool: Whether both settings were accepted (False off glibc).
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(mallopt(_M_MMAP_THRESHOLD, int(mmap_threshold))) and bool(
        mallopt(_M_TRIM_THRESHOLD, int(trim_threshold)))
