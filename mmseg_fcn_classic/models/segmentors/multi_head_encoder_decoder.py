"""One backbone, several named decode heads, each with its own labels and loss."""
from collections import OrderedDict
from typing import Dict, List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import ModuleDict
from mmengine.structures import PixelData
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import ConfigType, OptSampleList, SampleList, add_prefix
from torch import Tensor

from ..utils.heads import check_head_name, head_fields


@MODELS.register_module()
class MultiHeadEncoderDecoder(EncoderDecoder):
    """An ``EncoderDecoder`` whose ``decode_head`` is a dict of named heads.

    Every head reads the same backbone features. The first head is the primary
    one: it reads mmseg's ``gt_sem_seg`` and predicts ``pred_sem_seg`` /
    ``seg_logits``, so mmseg's metrics, visualizer and inference APIs see it as
    the model's result. Head ``name`` reads ``gt_<name>_seg`` and predicts
    ``pred_<name>_seg`` / ``<name>_seg_logits`` (the keys of
    :mod:`~mmseg_fcn_classic.models.utils.heads`); the data pipeline loads such
    labels with ``LoadHeadAnnotations`` and packs them with
    ``PackMultiLabelSegInputs``.

    Training adds up the heads' losses, each logged under ``decode.<name>.``
    (e.g. ``decode.sem.loss_ce`` and ``decode.geo.loss_ce``); each head's
    ``loss_decode`` sets its weight. Inference runs the backbone once; the heads'
    logits are concatenated along the channels for mmseg's whole / slide
    inference and resizing, then split again per head.

    Args:
        decode_head (dict[str, dict]): Head configs by name, the primary first,
            e.g. ``dict(sem=dict(type='ClassicFCNHead', num_classes=33),
            geo=dict(type='ClassicFCNHead', num_classes=3))``. Names other than
            the first are letters and digits, not ``sem`` or ``seg``.
        **kwargs: Other :class:`EncoderDecoder` arguments (``backbone``,
            ``data_preprocessor``, ``auxiliary_head``, ``train_cfg``, ...).

    Attributes:
        head_names (tuple[str, ...]): The heads, primary first.
        out_channels (int): All heads' channels together (the width of the
            concatenated logits of :meth:`encode_decode`).

    Example:
        >>> from mmengine.config import ConfigDict
        >>> from mmseg_fcn_classic.models.utils import head_inputs
        >>> narrow = dict(widths=(4, 8, 8, 16, 16), fc_channels=16)
        >>> head = dict(type='ClassicFCNHead', **head_inputs(('pool4',), **narrow))
        >>> model = MultiHeadEncoderDecoder(
        ...     backbone=dict(type='VGG16FC', **narrow),
        ...     decode_head=dict(sem=dict(head, num_classes=33),
        ...                      geo=dict(head, num_classes=3)),
        ...     test_cfg=ConfigDict(mode='whole')).eval()
        >>> sample = model.predict(torch.rand(1, 3, 20, 30))[0]
        >>> sample.pred_sem_seg.shape, sample.geo_seg_logits.data.shape
        ((20, 30), torch.Size([3, 20, 30]))
    """

    def _init_decode_head(self, decode_head: ConfigType) -> None:
        if not isinstance(decode_head, dict) or 'type' in decode_head or not all(
                isinstance(cfg, dict) for cfg in decode_head.values()):
            raise TypeError(
                'MultiHeadEncoderDecoder takes decode_head=dict(<name>=<head '
                f'config>, ...), the primary head first; got {decode_head!r}')
        if not decode_head:
            raise ValueError('MultiHeadEncoderDecoder needs at least one head')
        names = list(decode_head)
        for name in names[1:]:
            check_head_name(name)
        self.head_names = tuple(names)
        # mmengine's ModuleDict: init_weights() reaches the heads (init_cfg)
        self.decode_head = ModuleDict(
            (name, MODELS.build(cfg)) for name, cfg in decode_head.items())
        primary = self.decode_head[names[0]]
        corners = {name: head.align_corners for name, head in self.decode_head.items()}
        if len(set(corners.values())) > 1:
            raise ValueError(f'the heads resize with different align_corners '
                             f'({corners}); their logits are resized together')
        self.align_corners = primary.align_corners
        self.num_classes = primary.num_classes
        self.out_channels = sum(h.out_channels for h in self.decode_head.values())

    def named_heads(self) -> 'OrderedDict[Optional[str], nn.Module]':
        """The heads by the name their keys use: None for the primary, then the
        others by name (see :func:`~mmseg_fcn_classic.models.utils.head_fields`)."""
        return OrderedDict(
            (None if i == 0 else name, self.decode_head[name])
            for i, name in enumerate(self.head_names))

    def encode_decode(self, inputs: Tensor, batch_img_metas: List[dict]) -> Tensor:
        """Every head's logits at the input size, concatenated (primary first)."""
        x = self.extract_feat(inputs)
        # every head's predict() gives logits at the input size (mmseg's rule)
        return torch.cat([head.predict(x, batch_img_metas, self.test_cfg)
                          for head in self.decode_head.values()], dim=1)

    def _decode_head_forward_train(self, inputs: List[Tensor],
                                   data_samples: SampleList) -> dict:
        """Each head's losses on its own labels, prefixed ``decode.<name>.``."""
        losses = dict()
        for name, head in self.named_heads().items():
            samples = data_samples if name is None else self.head_samples(
                data_samples, name)
            loss = head.loss(inputs, samples, self.train_cfg)
            losses.update(add_prefix(loss, f'decode.{name or self.head_names[0]}'))
        return losses

    def head_samples(self, data_samples: SampleList, name: str) -> SampleList:
        """Data samples holding head ``name``'s labels as ``gt_sem_seg``.

        The labels are padded (right and bottom, with the data preprocessor's
        ``seg_pad_val``) to the size the preprocessor padded ``gt_sem_seg`` to.

        Args:
            data_samples (list[SegDataSample]): The batch's samples.
            name (str): A non-primary head.

        Returns:
            list[SegDataSample]: New samples sharing the meta info.

        Raises:
            KeyError: A sample lacks ``gt_<name>_seg``.
        """
        key = head_fields(name).gt
        pad_value = getattr(self.data_preprocessor, 'seg_pad_val', 255)
        views = []
        for sample in data_samples:
            if key not in sample:
                raise KeyError(
                    f"head {name!r} reads its labels from {key!r}, which the sample "
                    f"of {sample.metainfo.get('img_path')} lacks: load them with "
                    f"dict(type='LoadHeadAnnotations', head={name!r}) and pack them "
                    "with dict(type='PackMultiLabelSegInputs')")
            label = sample.get(key).data
            if 'gt_sem_seg' in sample:
                h, w = sample.gt_sem_seg.shape
                if label.shape[-2:] != (h, w):
                    label = F.pad(label, (0, w - label.shape[-1], 0,
                                          h - label.shape[-2]), value=pad_value)
            view = SegDataSample(metainfo=sample.metainfo)
            view.gt_sem_seg = PixelData(data=label)
            views.append(view)
        return views

    def postprocess_result(self, seg_logits: Tensor,
                           data_samples: OptSampleList = None) -> SampleList:
        """mmseg's post-processing (unpad, unflip, resize to the original size) of
        the concatenated logits, then each head's logits and labels under its keys."""
        samples = super().postprocess_result(seg_logits, data_samples)
        for sample in samples:
            logits = sample.seg_logits.data
            start = 0
            for name, head in self.named_heads().items():
                part = logits[start:start + head.out_channels]
                start += head.out_channels
                if head.out_channels > 1:
                    pred = part.argmax(dim=0, keepdim=True)
                else:
                    part = part.sigmoid()
                    pred = (part > head.threshold).to(part)
                fields = head_fields(name)
                sample.set_data({fields.logits: PixelData(data=part),
                                 fields.pred: PixelData(data=pred)})
        return samples

    def _forward(self, inputs: Tensor,
                 data_samples: OptSampleList = None) -> Dict[str, Tensor]:
        """Each head's raw output, by head name."""
        x = self.extract_feat(inputs)
        return {name: head.forward(x) for name, head in self.decode_head.items()}


def decode_heads(model: nn.Module) -> 'OrderedDict[Optional[str], nn.Module]':
    """A segmentor's decode heads by the name their keys use.

    Args:
        model (nn.Module): A :class:`MultiHeadEncoderDecoder` or any segmentor
            with one ``decode_head``.

    Returns:
        OrderedDict: ``None`` -> the primary head, then ``name`` -> head.
    """
    if isinstance(model, MultiHeadEncoderDecoder):
        return model.named_heads()
    return OrderedDict([(None, model.decode_head)])
