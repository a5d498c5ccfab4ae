"""Geometry of the classic FCN: bilinear kernels, crops and crop offsets.

The crop offsets of the reference Caffe nets (19; 5, 27; 5, 9, 31 for VGG16; 18 for
AlexNet) are not typed in anywhere: they follow from the layer geometry, the way
Caffe's ``coord_map.crop`` computes them. A :class:`CoordMap` says where the pixels
of a blob sit in the network input, each layer moves that map by its kernel, stride
and padding, and two blobs at the same scale can then be aligned by an integer
shift. The same rule picks the final upsampling kernel: ``2f`` for VGG16 (64, 32,
16), ``2f - 1`` (63) for AlexNet, whichever lands on the input's pixel grid.
"""
from fractions import Fraction
from functools import reduce
from typing import Dict, NamedTuple, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor

from .fcn_spec import (LEVELS, LayerSpec, encoder_layers, encoder_levels, head_levels,
                       vgg_fc_layers)

Size2d = Union[int, Sequence[int]]


def bilinear_kernel(kernel_size: int) -> Tensor:
    """The 2-D bilinear upsampling kernel of the reference ``surgery.upsample_filt``.

    ``f = (k + 1) // 2``; the centre is ``f - 1`` for odd ``k`` and ``f - 0.5`` for
    even ``k``; ``w[i, j] = (1 - |i - c| / f) * (1 - |j - c| / f)``.

    Args:
        kernel_size (int): ``k``, the side of the square kernel.

    Returns:
        Tensor: A float32 ``(k, k)`` kernel.

    Example:
        >>> bilinear_kernel(4)[0]
        tensor([0.0625, 0.1875, 0.1875, 0.0625])
    """
    factor = (kernel_size + 1) // 2
    center = factor - 1 if kernel_size % 2 == 1 else factor - 0.5
    og = torch.arange(kernel_size, dtype=torch.float64)
    filt = 1 - (og - center).abs() / factor
    return (filt[:, None] * filt[None, :]).float()


def bilinear_upsample_weight(channels: int, kernel_size: int) -> Tensor:
    """A ``(C, C, k, k)`` transposed-conv weight: :func:`bilinear_kernel` on the
    channel diagonal, zeros elsewhere (``surgery.interp``).

    Args:
        channels (int): Number of input (= output) channels ``C``.
        kernel_size (int): Kernel side ``k``.

    Returns:
        Tensor: The float32 weight.
    """
    weight = torch.zeros(channels, channels, kernel_size, kernel_size)
    idx = torch.arange(channels)
    weight[idx, idx] = bilinear_kernel(kernel_size)
    return weight


def _pair(value: Size2d) -> Tuple[int, int]:
    if isinstance(value, (int, torch.SymInt)):
        return value, value
    # no int(): traced / symbolic sizes must stay symbolic (jit.trace, export)
    value = tuple(value)
    if len(value) != 2:
        raise ValueError(f'expected an int or a pair, got {value}')
    return value


def crop(x: Tensor, offset: Size2d, size: Size2d) -> Tensor:
    """Crop the last two dims of ``x`` to ``size``, starting at ``offset``.

    This is Caffe's ``Crop`` layer on the spatial axes: the crop starts at the
    offset and takes the reference blob's size.

    Args:
        x (Tensor): A ``(..., H, W)`` tensor.
        offset (int | Sequence[int]): Start ``(top, left)``; an int for both.
        size (int | Sequence[int]): Output ``(h, w)``; an int for both.

    Returns:
        Tensor: A view of ``x`` of shape ``(..., h, w)``.

    Raises:
        ValueError: If the window does not fit inside ``x``.
    """
    (top, left), (h, w) = _pair(offset), _pair(size)
    height, width = x.shape[-2:]
    if top < 0 or left < 0 or top + h > height or left + w > width:
        raise ValueError(f'cannot crop a {h}x{w} window at offset ({top}, {left}) '
                         f'from a {height}x{width} map')
    return x[..., top:top + h, left:left + w]


def center_crop(x: Tensor, size: Size2d) -> Tensor:
    """Crop the last two dims of ``x`` to ``size`` around the centre.

    When the margin is odd the extra row / column is dropped at the bottom / right.

    Args:
        x (Tensor): A ``(..., H, W)`` tensor.
        size (int | Sequence[int]): Output ``(h, w)``.

    Returns:
        Tensor: A view of ``x`` of shape ``(..., h, w)``.
    """
    h, w = _pair(size)
    height, width = x.shape[-2:]
    return crop(x, ((height - h) // 2, (width - w) // 2), (h, w))


class CoordMap(NamedTuple):
    """Where the pixels of a blob sit in a reference frame (usually the net input).

    Index ``i`` of the blob lies at coordinate ``scale * i + shift`` of the frame
    (per spatial axis; square layers only). Exact fractions, so that offsets come
    out as exact integers.

    Args:
        scale (Fraction): The blob's stride w.r.t. the frame.
        shift (Fraction): The frame coordinate of the blob's index 0.
    """
    scale: Fraction
    shift: Fraction


#: The input frame itself (Caffe's ``data`` blob).
IDENTITY = CoordMap(Fraction(1), Fraction(0))


def conv_coord_map(kernel_size: int, stride: int = 1, padding: int = 0) -> CoordMap:
    """Output-to-input coordinate map of a convolution or pooling layer.

    Output index ``j`` is the window centred at input coordinate
    ``stride * j + (kernel_size - 1) / 2 - padding``.

    Args:
        kernel_size (int): Kernel side.
        stride (int): Stride. Defaults to 1.
        padding (int): Zero padding. Defaults to 0.

    Returns:
        CoordMap: The layer's map.
    """
    return CoordMap(Fraction(stride), Fraction(kernel_size - 1, 2) - padding)


def deconv_coord_map(kernel_size: int, stride: int = 1, padding: int = 0) -> CoordMap:
    """Output-to-input coordinate map of a transposed convolution: the inverse of
    :func:`conv_coord_map` with the same arguments.

    Args:
        kernel_size (int): Kernel side.
        stride (int): Stride. Defaults to 1.
        padding (int): Padding. Defaults to 0.

    Returns:
        CoordMap: The layer's map.
    """
    return CoordMap(
        Fraction(1, stride), (padding - Fraction(kernel_size - 1, 2)) / stride)


def compose(*maps: CoordMap) -> CoordMap:
    """Chain coordinate maps, input side first.

    ``compose(blob_map, layer_map)`` is the map of the layer's output when
    ``blob_map`` is the map of its input.

    Args:
        *maps (CoordMap): A blob's map followed by the maps of the layers applied to
            it, in order.

    Returns:
        CoordMap: The map of the last output in the frame of the first map.

    Example:
        >>> compose(IDENTITY, conv_coord_map(3, padding=100))
        CoordMap(scale=Fraction(1, 1), shift=Fraction(-99, 1))
    """

    def step(outer: CoordMap, layer: CoordMap) -> CoordMap:
        return CoordMap(outer.scale * layer.scale,
                        outer.scale * layer.shift + outer.shift)

    return reduce(step, maps, IDENTITY)


def crop_offset(src: CoordMap, dst: CoordMap) -> int:
    """The offset at which to crop blob ``src`` to align it with blob ``dst``.

    ``src[offset + j]`` and ``dst[j]`` then sit at the same frame coordinate
    (Caffe's ``coord_map.crop``).

    Args:
        src (CoordMap): Map of the blob to crop.
        dst (CoordMap): Map of the reference blob.

    Returns:
        int: The offset, the same for both spatial axes.

    Raises:
        ValueError: On a scale mismatch, a negative or a fractional offset.
    """
    if src.scale != dst.scale:
        raise ValueError(f'scale mismatch on crop: {src.scale} vs {dst.scale}')
    offset = (dst.shift - src.shift) / src.scale
    if offset < 0 or offset.denominator != 1:
        raise ValueError(f'cannot crop at offset {offset} (must be a non-negative '
                         'integer)')
    return int(offset)


def upscore_kernel(src: CoordMap, factor: int, dst: CoordMap = IDENTITY) -> int:
    """The kernel of a bilinear upsampling by ``factor`` that lands on ``dst``'s grid.

    A bilinear kernel for factor ``f`` is ``2f`` wide (:func:`bilinear_kernel`,
    centred between two taps) or ``2f - 1`` (centred on a tap): the upsampled map
    is shifted by half a pixel between the two. The one whose output can be
    cropped to ``dst`` at an integer offset is the reference's choice: 64 after
    VGG16's fc7 (offset 19), 63 after AlexNet's (offset 18).

    Args:
        src (CoordMap): Map of the blob to upsample.
        factor (int): Upsampling factor (the transposed conv's stride).
        dst (CoordMap): Map of the blob the result is cropped to. Defaults to the
            input frame.

    Returns:
        int: ``2 * factor`` or ``2 * factor - 1``.

    Raises:
        ValueError: If neither kernel gives a non-negative integer offset.

    Example:
        >>> upscore_kernel(CoordMap(Fraction(32), Fraction(25, 2)), 32)
        64
        >>> upscore_kernel(CoordMap(Fraction(32), Fraction(13)), 32)
        63
    """
    problems = []
    for kernel in (2 * factor, 2 * factor - 1):
        try:
            crop_offset(compose(src, deconv_coord_map(kernel, factor)), dst)
            return kernel
        except ValueError as e:
            problems.append(f'kernel {kernel}: {e}')
    raise ValueError(f'no bilinear kernel for factor {factor} aligns {src} with '
                     f'{dst}: ' + '; '.join(problems))


class HeadGeometry(NamedTuple):
    """The geometry of a classic FCN head on a given encoder.

    Args:
        crop_offsets (tuple[int, ...]): One per skip (coarsest first), then the
            final crop to the input.
        upscore_kernels (tuple[int, ...]): Kernel of each upsampling layer, in the
            order of :func:`~.fcn_spec.upscore_names`.
    """
    crop_offsets: Tuple[int, ...]
    upscore_kernels: Tuple[int, ...]


def fcn_head_geometry(level_maps: Sequence[CoordMap],
                      skip_upsample: Tuple[int, int] = (4, 2)) -> HeadGeometry:
    """Crop offsets and upsampling kernels of a classic FCN head.

    The head scores the coarsest input (1x1 conv: same map), and for each finer
    input, coarsest first, upsamples with a ``skip_upsample = (kernel, stride)``
    transposed conv and crops the finer input's scores to it (one offset each).
    The last fused map, at stride ``f``, is upsampled by ``f`` with the kernel
    :func:`upscore_kernel` picks and cropped to the input frame (the last offset).

    Args:
        level_maps (Sequence[CoordMap]): Maps of the head's inputs, finest first,
            e.g. ``(pool3, pool4, fc7)`` for FCN-8s, ``(fc7,)`` for FCN-32s.
        skip_upsample (tuple[int, int]): ``(kernel, stride)`` of the upsampling
            before each fuse. Defaults to ``(4, 2)`` as in the reference.

    Returns:
        HeadGeometry: The offsets and kernels.

    Example:
        >>> fcn_head_geometry(encoder_coord_maps(('fc7',), 'alexnet'))
        HeadGeometry(crop_offsets=(18,), upscore_kernels=(63,))
    """
    current = level_maps[-1]
    offsets, kernels = [], []
    for skip in reversed(level_maps[:-1]):
        current = compose(current, deconv_coord_map(*skip_upsample))
        offsets.append(crop_offset(skip, current))
        kernels.append(skip_upsample[0])
    factor = current.scale
    if factor.denominator != 1:
        raise ValueError(f'the last fused map has a fractional stride {factor}')
    factor = int(factor)
    kernel = upscore_kernel(current, factor)
    current = compose(current, deconv_coord_map(kernel, factor))
    offsets.append(crop_offset(current, IDENTITY))
    kernels.append(kernel)
    return HeadGeometry(tuple(offsets), tuple(kernels))


def fcn_crop_offsets(level_maps: Sequence[CoordMap],
                     skip_upsample: Tuple[int, int] = (4, 2)) -> Tuple[int, ...]:
    """Crop offsets of a classic FCN head on inputs with the given geometry
    (the offsets of :func:`fcn_head_geometry`).

    Args:
        level_maps (Sequence[CoordMap]): Maps of the head's inputs, finest first,
            e.g. ``(pool3, pool4, fc7)`` for FCN-8s, ``(fc7,)`` for FCN-32s.
        skip_upsample (tuple[int, int]): ``(kernel, stride)`` of the upsampling
            before each fuse. Defaults to ``(4, 2)`` as in the reference.

    Returns:
        tuple[int, ...]: One offset per skip (coarsest first), then the final one.

    Example:
        >>> pool3, pool4, fc7 = vgg_coord_maps(('pool3', 'pool4', 'fc7'))
        >>> fcn_crop_offsets([fc7]), fcn_crop_offsets([pool3, pool4, fc7])
        ((19,), (5, 9, 31))
    """
    return fcn_head_geometry(level_maps, skip_upsample).crop_offsets


def layer_coord_maps(layers: Sequence[LayerSpec]) -> Dict[str, CoordMap]:
    """Where the output of each layer sits in the input of the first.

    Args:
        layers (Sequence[LayerSpec]): An encoder's layers in order.

    Returns:
        dict[str, CoordMap]: Layer name -> map.
    """
    maps, current = {}, IDENTITY
    for layer in layers:
        current = compose(
            current, conv_coord_map(layer.kernel_size, layer.stride, layer.padding))
        maps[layer.name] = current
    return maps


def encoder_coord_maps(levels: Optional[Sequence[Union[int, str]]] = None,
                       arch: str = 'vgg16') -> Tuple[CoordMap, ...]:
    """Where the pixels of each level of an encoder sit in its input.

    Args:
        levels (Sequence[int | str], optional): Indices into or names of the
            encoder's levels (:func:`~.fcn_spec.encoder_levels`). Defaults to all.
        arch (str): ``'vgg16'`` (or another key of
            :data:`~.fcn_spec.ARCH_SETTINGS`) or ``'alexnet'``.

    Returns:
        tuple[CoordMap, ...]: One map per level.

    Example:
        >>> encoder_coord_maps(['fc7'], 'alexnet')
        (CoordMap(scale=Fraction(32, 1), shift=Fraction(13, 1)),)
    """
    names = encoder_levels(arch)
    levels = names if levels is None else levels
    maps = layer_coord_maps(encoder_layers(arch))
    return tuple(maps[names[level] if isinstance(level, int) else level]
                 for level in levels)


def vgg_coord_maps(levels: Sequence[Union[int, str]] = LEVELS,
                   arch: str = 'vgg16') -> Tuple[CoordMap, ...]:
    """Where the pixels of each level of a VGG-FC encoder sit in its input.

    Args:
        levels (Sequence[int | str]): Indices into or names of
            :data:`~.fcn_spec.LEVELS`. Defaults to all.
        arch (str): Key of :data:`~.fcn_spec.ARCH_SETTINGS`. Defaults to
            ``'vgg16'``.

    Returns:
        tuple[CoordMap, ...]: One map per level.

    Example:
        >>> vgg_coord_maps(['pool4'])
        (CoordMap(scale=Fraction(16, 1), shift=Fraction(-183, 2)),)
    """
    maps = layer_coord_maps(vgg_fc_layers(arch))
    return tuple(maps[LEVELS[level] if isinstance(level, int) else level]
                 for level in levels)


def reference_head_geometry(skips: Sequence[str] = (),
                            arch: str = 'vgg16') -> HeadGeometry:
    """Crop offsets and upsampling kernels of the reference nets (conv1 padded by
    100).

    Args:
        skips (Sequence[str]): The variant's skips (VGG16 only; the reference
            FCN-AlexNet has none). Defaults to ``()``.
        arch (str): ``'vgg16'`` or ``'alexnet'``. Defaults to ``'vgg16'``.

    Returns:
        HeadGeometry: The offsets and kernels.

    Example:
        >>> reference_head_geometry(('pool4',))
        HeadGeometry(crop_offsets=(5, 27), upscore_kernels=(4, 32))
        >>> reference_head_geometry(arch='alexnet')
        HeadGeometry(crop_offsets=(18,), upscore_kernels=(63,))
    """
    if arch != 'vgg16' and tuple(skips):
        raise ValueError(f'skips {tuple(skips)} are defined on VGG16 levels; the '
                         f'{arch} head takes fc7 only (skips=())')
    return fcn_head_geometry(encoder_coord_maps(head_levels(skips), arch))


def reference_crop_offsets(skips: Sequence[str],
                           arch: str = 'vgg16') -> Tuple[int, ...]:
    """Crop offsets of the reference nets (conv1 padded by 100): those of
    :func:`reference_head_geometry`.

    Example:
        >>> reference_crop_offsets(()), reference_crop_offsets(('pool4', 'pool3'))
        ((19,), (5, 9, 31))
        >>> reference_crop_offsets((), 'alexnet')
        (18,)
    """
    return reference_head_geometry(skips, arch).crop_offsets
