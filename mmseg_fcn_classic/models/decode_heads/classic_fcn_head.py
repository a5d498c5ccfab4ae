"""The FCN-32s / 16s / 8s decoder of fcn.berkeleyvision.org's ``voc-fcn*/net.py``."""
import warnings
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.losses import CrossEntropyLoss
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, SampleList
from torch import Tensor

from ..layers import Upscore
from ..utils.fcn_spec import (AT_ONCE_SCALES, check_skips, head_inputs, score_name,
                              upscore_factors, upscore_names)
from ..utils.geometry import center_crop, crop, reference_head_geometry

#: Named geometries of ``crop_offsets``: the encoder (``arch``) each one derives from.
GEOMETRIES = {'vgg16_fc': 'vgg16', 'alexnet_fc': 'alexnet'}
#: The backbone class of each named geometry (error messages).
GEOMETRY_BACKBONES = {'vgg16_fc': 'VGG16FC', 'alexnet_fc': 'AlexNetFC'}


@MODELS.register_module()
class ClassicFCNHead(BaseDecodeHead):
    """The classic FCN decoder: score, upsample, fuse skips, crop.

    ``score_fr`` (1x1 conv) scores the stride-32 input. For each skip, coarsest first,
    the scores are upsampled 2x (``upscore2``, ``upscore_pool4``), the skip is scored
    (``score_pool4`` / ``score_pool3``, 1x1), cropped to the upsampled map and added.
    A last transposed conv upsamples to stride 1 (``upscore`` 64/32 for FCN-32s,
    ``upscore16`` 32/16, ``upscore8`` 16/8) and the result is cropped to the
    network input. Layer names and shapes are the reference ones.

    Variants by ``skips``: ``()`` FCN-32s, ``('pool4',)`` FCN-16s,
    ``('pool4', 'pool3')`` FCN-8s. With ``at_once=True`` pool4 is scaled by 0.01 and
    pool3 by 0.0001 before scoring (``voc-fcn8s-atonce``).

    Initialisation follows the reference: score layers zero (Caffe's default
    filler), upsampling bilinear and frozen unless ``learn_upsampling``. mmseg's
    ``conv_seg`` is removed, so every parameter is used.

    Crops (``crop_offsets``):

    * ``'vgg16_fc'`` (default): offsets derived from the geometry of VGG16-FC
      (conv1_1 padded by 100) by
      :func:`~mmseg_fcn_classic.models.utils.geometry.reference_head_geometry`:
      19 (32s); 5, 27 (16s); 5, 9, 31 (8s), as Caffe's ``coord_map.crop``
      computes them.
    * ``'alexnet_fc'``: the same derivation on AlexNet-FC (``AlexNetFC``, conv1
      padded by 100; fc7 only, ``skips=()``): offset 18, and the final ``upscore``
      kernel 63 instead of 64 (the kernel of factor 32 that lands on the input's
      pixel grid), as in ``voc-fcn-alexnet``.
    * a sequence of ints: explicit offsets, one per skip (coarsest first) and one
      for the final crop, for backbones of another known geometry.
    * ``'center'``: centred crops, for backbones whose geometry is not modelled
      (e.g. a ResNet's stride-8/16/32 maps). Where a skip is smaller than the
      upsampled map both are cropped to the overlap.

    Output size: the logits come out at exactly the network input's size, for any
    input size. :meth:`loss` crops to the (padded) label size and :meth:`predict` to
    the size mmseg's ``predict_by_feat`` would resize to (the slide window in slide
    inference, else ``pad_shape``, else ``img_shape``), so no interpolation happens.
    :meth:`forward` without ``out_size`` returns the largest map aligned with the
    input's top-left pixel (offset modes) or the uncropped map (``'center'``).

    Args:
        skips (Sequence[str]): Fused skips, a prefix of ``('pool4', 'pool3')``.
            Defaults to ``('pool4', 'pool3')`` (FCN-8s).
        in_channels (int | Sequence[int], optional): Channels of the inputs, finest
            first, one per skip plus the stride-32 one. Defaults to VGG16FC's
            ``(256, 512, 4096)`` cut to the variant.
        in_index (int | Sequence[int], optional): Their indices in the backbone's
            outputs, in the same order. Defaults to ``(0, 1, 2)`` cut likewise.
        channels (int, optional): Unused (there is no ``conv_seg``); accepted for
            mmseg config compatibility.
        at_once (bool): Scale pool4 by 0.01 and pool3 by 0.0001. Defaults to False.
        learn_upsampling (bool): Let the upsampling layers learn (the paper's
            original experiments). Defaults to False (frozen, as in the reference).
        crop_offsets (str | Sequence[int]): See above. Defaults to ``'vgg16_fc'``.
        upscore_kernels (Sequence[int], optional): Kernel side of each upsampling
            layer (``upscore2`` ..., then the final one). Defaults to None: the
            named geometry's (``crop_offsets``), else ``2f`` for factor ``f``.
        init_cfg (dict | list[dict], optional): Defaults to None (the reference
            init above).
        **kwargs: Other :class:`BaseDecodeHead` arguments: ``num_classes``,
            ``loss_decode``, ``ignore_index``, ...

    Example:
        >>> import torch
        >>> from mmseg_fcn_classic.models import VGG16FC
        >>> backbone = VGG16FC(widths=(4, 8, 8, 16, 16), fc_channels=16)
        >>> head = ClassicFCNHead(in_channels=(8, 16, 16), num_classes=3)
        >>> x = torch.rand(2, 3, 97, 61)
        >>> head(backbone(x), out_size=x.shape[-2:]).shape
        torch.Size([2, 3, 97, 61])
        >>> head.crop_offsets
        (5, 9, 31)
    """

    def __init__(self,
                 skips: Sequence[str] = ('pool4', 'pool3'),
                 in_channels: Optional[Union[int, Sequence[int]]] = None,
                 in_index: Optional[Union[int, Sequence[int]]] = None,
                 channels: Optional[int] = None,
                 *,
                 at_once: bool = False,
                 learn_upsampling: bool = False,
                 crop_offsets: Union[str, Sequence[int]] = 'vgg16_fc',
                 upscore_kernels: Optional[Sequence[int]] = None,
                 init_cfg: Optional[Union[dict, List[dict]]] = None,
                 **kwargs) -> None:
        skips = check_skips(skips)
        num_inputs = len(skips) + 1
        defaults = head_inputs(skips)
        if in_channels is None:
            in_channels = defaults['in_channels']
        if in_index is None:
            in_index = defaults['in_index']
        in_channels = _as_tuple(in_channels)
        in_index = _as_tuple(in_index)
        if len(in_channels) != num_inputs or len(in_index) != num_inputs:
            raise ValueError(
                f'skips={skips} needs {num_inputs} inputs (finest first, the '
                f'stride-32 one last), got in_channels={in_channels}, '
                f'in_index={in_index}')
        # the paper's (and the polyp tutorial's) softmax over num_classes scores,
        # also for 2 classes: said explicitly, so mmseg does not suggest a
        # 1-channel sigmoid head for binary segmentation (out_channels=1 still works)
        if kwargs.get('out_channels') is None:
            kwargs['out_channels'] = kwargs.get('num_classes')
        if kwargs.pop('input_transform', 'multiple_select') != 'multiple_select':
            raise ValueError('ClassicFCNHead selects its inputs itself '
                             "(input_transform='multiple_select')")
        with warnings.catch_warnings():
            # mmseg 1.2.2's BaseDecodeHead builds its loss with its own deprecated
            # build_loss and warns about it: nothing a user of this head can change
            warnings.filterwarnings(
                'ignore', message='``build_loss`` would be deprecated', category=UserWarning)
            super().__init__(
                list(in_channels),
                in_channels[-1] if channels is None else channels,
                in_index=list(in_index),
                input_transform='multiple_select',
                dropout_ratio=0,
                init_cfg=init_cfg,
                **kwargs)
        del self.conv_seg  # the score layers classify; nothing may go unused

        self.skips = skips
        self.at_once = at_once
        self.learn_upsampling = learn_upsampling
        classes = self.out_channels
        for k, level in enumerate(('fc7', ) + skips):
            self._add_score_layers(level, in_channels[-1 - k], classes)
        self.upscore_names = upscore_names(len(skips))
        factors = upscore_factors(len(skips))
        #: the named geometry the offsets come from (for error messages), or None
        self._geometry = (crop_offsets if isinstance(crop_offsets, str)
                          and crop_offsets in GEOMETRIES else None)
        self._reference_offsets = self._geometry is not None
        if isinstance(crop_offsets, str) and crop_offsets in GEOMETRIES:
            geometry = reference_head_geometry(skips, GEOMETRIES[crop_offsets])
            crop_offsets = geometry.crop_offsets
            if upscore_kernels is None:
                upscore_kernels = geometry.upscore_kernels
        elif isinstance(crop_offsets, str) and crop_offsets != 'center':
            raise ValueError(f"crop_offsets must be one of {sorted(GEOMETRIES)}, "
                             f"'center' or a sequence of ints, got {crop_offsets!r}")
        if upscore_kernels is None:
            upscore_kernels = tuple(2 * f for f in factors)
        upscore_kernels = tuple(int(k) for k in upscore_kernels)
        if len(upscore_kernels) != len(factors):
            raise ValueError(f'skips={skips} has {len(factors)} upsampling layers '
                             f'{self.upscore_names}, got upscore_kernels='
                             f'{upscore_kernels}')
        self.upscore_kernels = upscore_kernels
        for name, factor, kernel in zip(self.upscore_names, factors, upscore_kernels):
            self.add_module(name, Upscore(classes, factor, learn_upsampling, kernel))

        if crop_offsets != 'center':
            crop_offsets = tuple(int(o) for o in crop_offsets)
            if len(crop_offsets) != num_inputs:
                raise ValueError(f'skips={skips} needs {num_inputs} crop offsets '
                                 f'(one per skip, then the final), got {crop_offsets}')
        self.crop_offsets = crop_offsets
        self._reset_reference_weights()

    def _add_score_layers(self, level: str, in_channels: int, num_classes: int) -> None:
        """Add the 1x1 scoring layer of an input level (``score_fr`` for fc7,
        ``score_pool4``, ...); a subclass may add several (late fusion)."""
        self.add_module(score_name(level), nn.Conv2d(in_channels, num_classes, 1))

    def _score(self, level: str, feat: Tensor) -> Tensor:
        """Score an input level's features with its layer(s)."""
        return getattr(self, score_name(level))(feat)

    def _reset_reference_weights(self) -> None:
        """Zero score layers (Caffe's default filler), bilinear upsampling."""
        for module in self.children():
            if isinstance(module, nn.Conv2d):  # the score layers
                nn.init.zeros_(module.weight)
                nn.init.zeros_(module.bias)
        for name in self.upscore_names:
            getattr(self, name).reset_parameters()

    def init_weights(self) -> None:
        """Restore the reference init, then apply ``init_cfg`` (e.g. Pretrained)."""
        self._reset_reference_weights()
        super().init_weights()

    def forward(self,
                inputs: Sequence[Tensor],
                out_size: Optional[Sequence[int]] = None) -> Tensor:
        """Score, upsample, fuse and crop.

        Args:
            inputs (Sequence[Tensor]): The backbone's outputs.
            out_size (Sequence[int], optional): ``(H, W)`` of the network input.
                Defaults to None, see the class docstring.

        Returns:
            Tensor: ``(N, num_classes, H, W)`` logits.
        """
        feats = self._transform_inputs(inputs)
        scores = self._score('fc7', feats[-1])
        for k, skip in enumerate(self.skips):
            upscored = getattr(self, self.upscore_names[k])(scores)
            feat = feats[-2 - k]
            if self.at_once:
                feat = feat * AT_ONCE_SCALES[skip]
            skip_scores = self._score(skip, feat)
            scores = self._fuse(upscored, skip_scores, k)
        scores = getattr(self, self.upscore_names[-1])(scores)
        return self._crop_output(scores, out_size)

    def _fuse(self, upscored: Tensor, skip_scores: Tensor, k: int) -> Tensor:
        """Crop the skip's scores to the upsampled map and add them."""
        if self.crop_offsets == 'center':
            size = [min(a, b) for a, b in
                    zip(upscored.shape[-2:], skip_scores.shape[-2:])]
            return center_crop(upscored, size) + center_crop(skip_scores, size)
        return upscored + self._offset_crop(skip_scores, self.crop_offsets[k],
                                            upscored.shape[-2:])

    def _offset_crop(self, x: Tensor, offset: int, size: Sequence) -> Tensor:
        """:func:`crop`, whose error says which offsets serve another backbone."""
        try:
            return crop(x, offset, size)
        except ValueError as e:
            which = (f'the reference offsets, which fit the geometry of '
                     f'{GEOMETRY_BACKBONES[self._geometry]} (conv1 padding 100)'
                     if self._reference_offsets else
                     'which do not fit this backbone')
            raise ValueError(
                f'{e}: ClassicFCNHead crops at crop_offsets={self.crop_offsets}, '
                f"{which}. For another backbone set crop_offsets='center' (centred "
                'crops, any backbone) or offsets that fit its geometry') from None

    def _crop_output(self, scores: Tensor,
                     out_size: Optional[Sequence[int]]) -> Tensor:
        # sizes stay symbolic (no int(), no max()): a traced or exported graph
        # crops every input size exactly. clone, not contiguous(): the latter
        # branches on the (size-1 or not) strides, which export must not do.
        if self.crop_offsets == 'center':
            return scores if out_size is None else center_crop(
                scores, out_size).clone(memory_format=torch.contiguous_format)
        offset = self.crop_offsets[-1]
        if out_size is None:
            cropped = scores[..., offset:, offset:]
        else:
            cropped = self._offset_crop(scores, offset, out_size)
        return cropped.clone(memory_format=torch.contiguous_format)

    def loss_by_feat(self, seg_logits: Tensor,
                     batch_data_samples: SampleList) -> dict:
        """mmseg's ``loss_by_feat`` without host syncs, in float32.

        Same losses and ``acc_seg`` as :meth:`BaseDecodeHead.loss_by_feat`, but:
        the logits are cast to float32 (a summed loss over a whole image is far
        beyond float16's range under autocast); they are resized only when their
        size differs from the labels'; a ``CrossEntropyLoss`` with
        ``avg_non_ignore=True`` gets its averaging factor as a tensor (mmseg calls
        ``.item()``); the accuracy is computed without boolean indexing.

        Args:
            seg_logits (Tensor): ``(N, C, H, W)`` logits.
            batch_data_samples (list[SegDataSample]): With ``gt_sem_seg``.

        Returns:
            dict[str, Tensor]: The losses and ``acc_seg``.
        """
        seg_label = self._stack_batch_gt(batch_data_samples)
        seg_logits = seg_logits.float()
        if seg_logits.shape[-2:] != seg_label.shape[-2:]:
            seg_logits = resize(seg_logits, size=seg_label.shape[-2:],
                                mode='bilinear', align_corners=self.align_corners)
        seg_weight = (None if self.sampler is None else
                      self.sampler.sample(seg_logits, seg_label))
        seg_label = seg_label.squeeze(1)
        losses_decode = (self.loss_decode if isinstance(
            self.loss_decode, nn.ModuleList) else [self.loss_decode])
        loss = dict()
        for loss_decode in losses_decode:
            kwargs = dict(weight=seg_weight, ignore_index=self.ignore_index)
            avg_factor = _avg_factor(loss_decode, seg_label, self.ignore_index)
            if avg_factor is not None:
                kwargs['avg_factor'] = avg_factor
            value = loss_decode(seg_logits, seg_label, **kwargs)
            name = loss_decode.loss_name
            loss[name] = loss[name] + value if name in loss else value
        loss['acc_seg'] = pixel_accuracy(seg_logits, seg_label, self.ignore_index)
        return loss

    def loss(self, inputs: Tuple[Tensor], batch_data_samples: SampleList,
             train_cfg: ConfigType) -> dict:
        """Logits at the (padded) label size, then :meth:`loss_by_feat`.

        Args:
            inputs (tuple[Tensor]): The backbone's outputs.
            batch_data_samples (list[SegDataSample]): With ``gt_sem_seg``.
            train_cfg (dict): Unused.

        Returns:
            dict[str, Tensor]: The losses.
        """
        size = batch_data_samples[0].gt_sem_seg.shape
        seg_logits = self.forward(inputs, out_size=size)
        return self.loss_by_feat(seg_logits, batch_data_samples)

    def predict(self, inputs: Tuple[Tensor], batch_img_metas: List[dict],
                test_cfg: ConfigType) -> Tensor:
        """Logits at the network input's size (see :meth:`input_size`).

        Args:
            inputs (tuple[Tensor]): The backbone's outputs.
            batch_img_metas (list[dict]): Image meta info.
            test_cfg (dict): Unused.

        Returns:
            Tensor: ``(N, num_classes, H, W)`` logits.
        """
        return self.forward(inputs, out_size=self.input_size(batch_img_metas))

    @staticmethod
    def input_size(batch_img_metas: List[dict]) -> Tuple[int, int]:
        """The network input's size, by mmseg's ``predict_by_feat`` rule.

        A ``torch.Size`` ``img_shape`` is the window of slide inference, otherwise
        ``pad_shape`` (the padded batch) or else ``img_shape``.

        Args:
            batch_img_metas (list[dict]): Image meta info.

        Returns:
            tuple[int, int]: ``(H, W)``.
        """
        meta = batch_img_metas[0]
        if isinstance(meta['img_shape'], torch.Size) or 'pad_shape' not in meta:
            size = meta['img_shape']
        else:
            size = meta['pad_shape']
        return int(size[0]), int(size[1])


def pixel_accuracy(seg_logits: Tensor, seg_label: Tensor,
                   ignore_index: Optional[int] = None) -> Tensor:
    """Top-1 pixel accuracy in percent, as mmseg's ``accuracy`` but sync-free.

    mmseg selects the labelled pixels by boolean indexing (a data-dependent
    shape: a host sync, and a graph break under ``torch.compile``); this counts
    them with a mask instead. Same formula, including mmseg's ``eps`` terms.

    Args:
        seg_logits (Tensor): ``(N, C, H, W)`` logits.
        seg_label (Tensor): ``(N, H, W)`` labels.
        ignore_index (int, optional): Label of pixels not counted.

    Returns:
        Tensor: A one-element float tensor.

    Example:
        >>> logits = torch.tensor([[[[1., 0.]], [[0., 1.]]]])  # (1, 2, 1, 2)
        >>> pixel_accuracy(logits, torch.tensor([[[0, 0]]])).round()
        tensor([50.])
        >>> pixel_accuracy(logits, torch.tensor([[[0, 255]]]), 255).round()
        tensor([100.])
    """
    correct = seg_logits.argmax(dim=1) == seg_label
    if ignore_index is None:
        total = seg_label.numel()
    else:
        valid = seg_label != ignore_index
        correct = correct & valid
        total = valid.sum()
    eps = torch.finfo(torch.float32).eps
    num_correct = correct.sum().float().reshape(1) + eps
    return num_correct * 100.0 / (total + eps)


def _avg_factor(loss_decode: nn.Module, seg_label: Tensor,
                ignore_index: int) -> Optional[Tensor]:
    """The averaging factor of a ``CrossEntropyLoss(avg_non_ignore=True,
    reduction='mean')`` as a tensor (mmseg computes it with ``.item()``)."""
    if not (isinstance(loss_decode, CrossEntropyLoss) and loss_decode.avg_non_ignore
            and loss_decode.reduction == 'mean' and not loss_decode.use_sigmoid
            and not loss_decode.use_mask):
        return None
    valid = seg_label != ignore_index
    if loss_decode.class_weight is None:
        return valid.sum()
    weight = seg_label.new_tensor(loss_decode.class_weight, dtype=torch.float32)
    return torch.where(valid, weight[seg_label.where(valid, 0)], 0).sum()


def _as_tuple(value: Union[int, Sequence[int]]) -> Tuple[int, ...]:
    return (value, ) if isinstance(value, int) else tuple(value)
