"""Deployment helpers: exported graphs (ONNX, ``torch.export``) and a
TorchScript-frozen backbone for fixed-shape CPU inference.

Export (:func:`export_program`, :func:`save_onnx`, :func:`save_exported_program`)
captures the network as a tensor function, normalised image ``(N, 3, H, W)`` to
logits ``(N, C, H, W)`` at the same size, through ``torch.export`` (not
``torch.jit.trace``); a multi-head segmentor gives one logits output per head, a
multi-modal model takes one normalised input per modality. With dynamic height and
width the crops stay exact for every size down to 1x1. The files carry the input
convention (mean, std, channel order) so that a runtime without mmseg can prepare
images.

An eager CPU forward reorders every weight and activation into oneDNN's blocked
layout and back, and runs each ReLU as a separate pass. TorchScript's ``freeze`` +
``optimize_for_inference`` prepacks the weights once, keeps activations blocked
from layer to layer and fuses convolution + ReLU (:func:`freeze_for_inference`).
It serves inference at one fixed input shape; everything else falls back to the
eager backbone.
"""
import importlib
import json
import warnings
from typing import Any, Dict, List, Optional, Sequence

import torch
import torch.nn as nn
from torch import Tensor

from ..models.layers import GemmConv2d
from ..models.segmentors import decode_heads
from ..models.utils.heads import head_meta
from ..utils.quiet import dropped_log_records, ignored_warnings

#: Name of the input convention inside an exported program file (``extra_files``).
CONVENTION_FILE = 'input_convention.json'
#: Names of the exported graph's input and output.
INPUT_NAME, OUTPUT_NAME = 'image', 'logits'


def output_name(head: Optional[str]) -> str:
    """The exported output of a head: ``logits`` for the primary head,
    ``<head>_logits`` for another (e.g. SIFT Flow's ``geo_logits``)."""
    return OUTPUT_NAME if head is None else f'{head}_{OUTPUT_NAME}'


def input_convention(model: nn.Module) -> Dict[str, Any]:
    """How images must be prepared for ``model``'s network, from its data
    preprocessor and ``dataset_meta``.

    Images are read as mmcv reads them (BGR, 0-255); ``channel_order`` is the order
    the network wants (``'rgb'`` when the preprocessor converts), then
    ``(pixel - mean) / std`` per channel, in that order, float32 NCHW.

    Args:
        model (nn.Module): An mmseg segmentor.

    Returns:
        dict: ``mean``, ``std`` (lists of float), ``channel_order``
        (``'bgr'`` | ``'rgb'``), ``pixel_range`` (``'0-255'``), ``layout``
        (``'NCHW'``), ``input`` / ``output`` (the graph's tensor names),
        ``num_classes`` and, when known, ``classes`` and ``palette``, all of the
        primary head. A multi-head model adds ``outputs`` (every output, the
        primary's first) and ``heads``: per other head its ``output``,
        ``num_classes``, ``classes`` and ``palette``.

    Example:
        >>> from mmseg_fcn_classic.models import FCNDataPreProcessor
        >>> model = nn.Module()
        >>> model.data_preprocessor = FCNDataPreProcessor(weights='torchvision')
        >>> conv = input_convention(model)
        >>> conv['channel_order'], conv['mean'], conv['std'][0]
        ('rgb', [123.675, 116.28, 103.53], 58.395)
    """
    pre = model.data_preprocessor
    convention: Dict[str, Any] = dict(
        mean=[round(float(v), 5) for v in pre.mean.flatten()],  # float32 buffers
        std=[round(float(v), 5) for v in pre.std.flatten()],
        channel_order='rgb' if getattr(pre, 'channel_conversion', False) else 'bgr',
        pixel_range='0-255', layout='NCHW', input=INPUT_NAME, output=OUTPUT_NAME)
    if hasattr(pre, 'modality_conventions'):  # stacked modalities (NYUDv2)
        convention.update(multimodal_convention(pre.modality_conventions()))
    meta = getattr(model, 'dataset_meta', None) or {}
    heads = decode_heads(model) if hasattr(model, 'decode_head') else {}
    for name, head in heads.items():
        entry = convention if name is None else dict(output=output_name(name))
        entry['num_classes'] = int(head.out_channels)
        for key, value in head_meta(meta, name).items():
            if value is not None:
                entry[key] = [list(v) if isinstance(v, (list, tuple)) else v
                              for v in value]
        if name is not None:
            convention.setdefault('heads', {})[name] = entry
    if len(heads) > 1:
        convention['outputs'] = [output_name(name) for name in heads]
    return convention


def multimodal_convention(modalities: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The convention keys of a multi-modal model (``MultiModalDataPreProcessor``).

    ``modalities`` lists, per modality in input order, ``name``, ``channels``,
    ``stored_as``, ``channel_order`` (relative to a BGR reading; None for one
    channel), ``transform`` (``'log'`` for depth: natural log of the stored
    value) and its ``mean`` / ``std``: the input is ``(transform(value) - mean) /
    std``. One modality keeps the single input ``image`` (its ``channel_order``
    at the top level: ``'rgb'`` for HHA, which is used in file order); several
    give one graph input per modality, named after it.

    Example:
        >>> conv = multimodal_convention([
        ...     dict(name='color', channels=3, channel_order='bgr', transform=None,
        ...          mean=[1., 2., 3.], std=[1., 1., 1.]),
        ...     dict(name='depth', channels=1, channel_order=None, transform='log',
        ...          mean=[7.844], std=[1.])])
        >>> conv['input'], conv['channel_order']
        (['color', 'depth'], 'per modality')
    """
    out: Dict[str, Any] = dict(modalities=modalities)
    if len(modalities) == 1:
        out['channel_order'] = modalities[0]['channel_order'] or 'bgr'
    else:
        out['input'] = [m['name'] for m in modalities]
        out['channel_order'] = 'per modality'
    return out


def use_plain_convolutions(model: nn.Module) -> nn.Module:
    """Replace every :class:`GemmConv2d` by an ``nn.Conv2d`` sharing its parameters.

    Exporters have convolution kernels of their own; the ``unfold`` + GEMM form
    (a CPU training optimisation) would export as an unfold and a size guard.
    State dict keys and values are unchanged.

    Args:
        model (nn.Module): Changed in place.

    Returns:
        nn.Module: ``model``.
    """
    for name, child in model.named_children():
        if isinstance(child, GemmConv2d):
            conv = nn.Conv2d(child.in_channels, child.out_channels, child.kernel_size,
                             stride=child.stride, padding=child.padding,
                             dilation=child.dilation, groups=child.groups,
                             bias=child.bias is not None,
                             padding_mode=child.padding_mode, device='meta')
            conv.weight, conv.bias = child.weight, child.bias
            conv.train(child.training)
            setattr(model, name, conv)
        else:
            use_plain_convolutions(child)
    return model


class SegmentationNet(nn.Module):
    """A segmentor's network as a tensor function: normalised images to logits at
    the same size; a tuple of them, one per head (primary first), for a
    ``MultiHeadEncoderDecoder``.

    ``ClassicFCNHead`` crops to the input size itself; other heads' logits are
    resized bilinearly, as mmseg's ``predict_by_feat`` does.

    Args:
        model (nn.Module): An mmseg segmentor (``extract_feat`` + ``decode_head``).

    Example:
        >>> from mmseg_fcn_classic.models import ClassicFCNHead, VGG16FC
        >>> model = nn.Module()
        >>> model.extract_feat = VGG16FC(widths=(4, 8, 8, 16, 16), fc_channels=16)
        >>> model.decode_head = ClassicFCNHead(in_channels=(8, 16, 16), num_classes=3)
        >>> SegmentationNet(model)(torch.rand(1, 3, 20, 30)).shape
        torch.Size([1, 3, 20, 30])
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Tensor):
        feats = self.model.extract_feat(x)
        outs = tuple(self._logits(head, feats, x)
                     for head in decode_heads(self.model).values())
        return outs[0] if len(outs) == 1 else outs

    @staticmethod
    def _logits(head: nn.Module, feats, x: Tensor) -> Tensor:
        from ..models.decode_heads import ClassicFCNHead
        if isinstance(head, ClassicFCNHead):
            return head(feats, out_size=x.shape[-2:])
        from mmseg.models.utils import resize
        return resize(head(feats), size=x.shape[-2:], mode='bilinear',
                      align_corners=head.align_corners)


class MultiModalSegmentationNet(nn.Module):
    """:class:`SegmentationNet` with one input per modality: the normalised
    modalities ``(N, C_m, H, W)`` are concatenated along the channels, in the
    model's stacking order, and segmented.

    Example:
        >>> from mmseg_fcn_classic.models import ClassicFCNHead, VGG16FC
        >>> model = nn.Module()
        >>> model.extract_feat = VGG16FC(in_channels=4, widths=(4, 8, 8, 16, 16),
        ...                              fc_channels=16)
        >>> model.decode_head = ClassicFCNHead(in_channels=(8, 16, 16), num_classes=3)
        >>> net = MultiModalSegmentationNet(model)
        >>> net(torch.rand(1, 3, 20, 30), torch.rand(1, 1, 20, 30)).shape
        torch.Size([1, 3, 20, 30])
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.net = SegmentationNet(model)

    def forward(self, *inputs: Tensor) -> Tensor:
        return self.net(torch.cat(inputs, dim=1))


def export_program(model: nn.Module,
                   example_size: Sequence[int] = (375, 500),
                   dynamic: bool = True) -> 'torch.export.ExportedProgram':
    """Capture ``model``'s network with ``torch.export``, batch 1, float32, CPU.

    The model is put in eval mode and its :class:`GemmConv2d` layers become plain
    convolutions (:func:`use_plain_convolutions`). With ``dynamic``, height and
    width are dynamic: the graph crops exactly for every size down to 1x1.
    Export reasons about the sizes of intermediate maps "size-obliviously"
    (``backed_size_oblivious``): without it a map of size 1 (the fc7 map of inputs
    below 27 pixels) would be special-cased and narrow the valid sizes.

    Args:
        model (nn.Module): An mmseg segmentor; changed in place as said above.
        example_size (Sequence[int]): ``(H, W)`` traced with; the only size the
            graph accepts unless ``dynamic``. Defaults to ``(375, 500)``.
        dynamic (bool): Dynamic height and width. Defaults to True.

    Returns:
        torch.export.ExportedProgram: Input ``(1, 3, H, W)`` float32, output
        ``(1, num_classes, H, W)`` logits (one per head of a multi-head model). A
        model of several modalities (``MultiModalDataPreProcessor``) takes one input
        per modality (:class:`MultiModalSegmentationNet`), e.g. colour
        ``(1, 3, H, W)`` and depth ``(1, 1, H, W)``.
    """
    model = use_plain_convolutions(model.eval()).cpu().float()
    table = getattr(model.data_preprocessor, 'channel_table', None)
    dim = torch.export.Dim.DYNAMIC
    if table is not None and len(table) > 1:
        net = MultiModalSegmentationNet(model).eval()
        examples = tuple(torch.zeros(1, stop - start, *example_size)
                         for _, start, stop in table)
        dynamic_shapes = {'inputs': tuple({2: dim, 3: dim} for _ in table)}
    else:
        net = SegmentationNet(model).eval()
        examples = (torch.zeros(1, 3 if table is None else table[0][2],
                                *example_size), )
        dynamic_shapes = {'x': {2: dim, 3: dim}}
    with torch.no_grad(), torch.fx.experimental._config.patch(
            backed_size_oblivious=True):
        return torch.export.export(net, examples,
                                   dynamic_shapes=dynamic_shapes if dynamic else None)


def save_exported_program(program: 'torch.export.ExportedProgram', path: str,
                          convention: Dict[str, Any]) -> None:
    """``torch.export.save`` with the input convention as an extra file.

    Read it back with ``extra_files={CONVENTION_FILE: ''}`` passed to
    ``torch.export.load``; :func:`load_exported_program` does both.

    Args:
        program (torch.export.ExportedProgram): From :func:`export_program`.
        path (str): Output file (``.pt2``).
        convention (dict): From :func:`input_convention`.
    """
    torch.export.save(program, path,
                      extra_files={CONVENTION_FILE: json.dumps(convention)})


def load_exported_program(path: str):
    """Load a file of :func:`save_exported_program`.

    Returns:
        tuple: ``(program, convention)``.
    """
    extra = {CONVENTION_FILE: ''}
    program = torch.export.load(path, extra_files=extra)
    return program, json.loads(extra[CONVENTION_FILE])


#: The packages ``torch.onnx.export(..., dynamo=True)`` needs, installed by the
#: ``export`` extra.
ONNX_PACKAGES = ('onnx', 'onnxscript')
#: What ``torch.onnx.export`` (dynamo) prints in every export that is noise for our
#: graphs (torch 2.13): its registry of ONNX functions warns, once for each of
#: torchvision's detection ops (``nms``, ``roi_align``, ...), that torchvision is
#: not installed (it is optional here, and our graphs use none of them); and its
#: decomposition step trips a deprecation inside torch's own pytree code.
ONNX_REGISTRY_LOGGER = 'torch.onnx._internal.exporter._registration'
ONNX_NO_TORCHVISION = r'^torchvision is not installed\. Skipping torchvision::'
ONNX_LEAFSPEC_DEPRECATION = r'`isinstance\(treespec, LeafSpec\)` is deprecated'


def require_onnx_packages() -> None:
    """Raise a clear ImportError when the ONNX exporter's packages are missing.

    Raises:
        ImportError: Names the missing package and the extra that brings it.
    """
    for name in ONNX_PACKAGES:
        try:
            importlib.import_module(name)
        except ImportError as e:
            raise ImportError(
                f'ONNX export needs the package {name!r} ({e}); install the export '
                "extra: pip install 'mmseg_fcn_classic[export]'") from e


def save_onnx(program: 'torch.export.ExportedProgram', path: str,
              convention: Dict[str, Any], opset_version: Optional[int] = None) -> None:
    """Convert an exported program to ONNX (``torch.onnx.export``, dynamo) and save
    it with the input convention in the model's ``metadata_props``: each key of
    ``convention`` maps to its value as JSON.

    Args:
        program (torch.export.ExportedProgram): From :func:`export_program`.
        path (str): Output file (``.onnx``); weights are stored inside it.
        convention (dict): From :func:`input_convention`.
        opset_version (int, optional): Defaults to the exporter's.

    Raises:
        ImportError: The ONNX packages are missing; says how to install them.
    """
    require_onnx_packages()
    inputs = convention.get('input', INPUT_NAME)
    # torch's noise for our graphs, dropped around this call only (see above)
    with dropped_log_records(ONNX_REGISTRY_LOGGER, ONNX_NO_TORCHVISION), \
            ignored_warnings(FutureWarning, ONNX_LEAFSPEC_DEPRECATION):
        onnx_program = torch.onnx.export(
            program, input_names=inputs if isinstance(inputs, list) else [inputs],
            output_names=convention.get('outputs', [OUTPUT_NAME]),
            opset_version=opset_version, dynamo=True)
    onnx_program.model.metadata_props.update(
        {key: json.dumps(value) for key, value in convention.items()})
    onnx_program.save(path, external_data=False)


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
