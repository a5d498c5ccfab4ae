"""Late fusion of per-modality FCN scores: the head of ``nyud-fcn32s-color-hha``."""
from typing import Dict, Optional, Sequence

import torch.nn as nn
from mmengine.logging import print_log
from mmengine.runner.checkpoint import _load_checkpoint
from mmseg.registry import MODELS
from torch import Tensor

from ..utils.fcn_spec import late_fusion_name, score_name
from ..utils.init_cfg import init_holding_out
from ..utils.modalities import check_modalities
from .classic_fcn_head import ClassicFCNHead


@MODELS.register_module()
class LateFusionFCNHead(ClassicFCNHead):
    """A :class:`ClassicFCNHead` whose every scoring layer is one per modality.

    The inputs are those of :class:`~..backbones.LateFusionVGG16FC`: per level, a
    tuple of the trunks' maps. Each level is scored by each modality's 1x1 layer and
    the scores are summed with the fusion weights; upsampling, skips and crops then
    run once, as in :class:`ClassicFCNHead`. For FCN-32s this is the reference
    ``score_fused = Eltwise(SUM, coeff=[0.5, 0.5])(score_frcolor, score_frhha)``,
    then ``upscore`` and the crop; layer names are the reference ones
    (``score_frcolor``, ``score_frhha``; skips likewise: ``score_pool4color``, ...).

    The reference zoo has no late-fusion net with skips. With ``skips``, each skip
    level is fused the same way (per-modality scores, same weights) before it is
    added, zero-initialised like every score layer (as the reference stages
    FCN-16s from FCN-32s).

    Args:
        modalities (Sequence[str]): Modality names, in the backbone's order.
            Defaults to ``('color', 'hha')``.
        fusion_weights (Sequence[float], optional): One coefficient per modality.
            Defaults to equal weights summing to 1 (0.5 / 0.5, the reference).
        init_cfg (dict | list[dict], optional): Besides the usual, ``dict(type=
            'Pretrained', checkpoint={modality: path})`` takes each modality's score
            layers from a single-modality FCN checkpoint (its ``decode_head.score_fr``
            becomes ``score_fr<modality>``, as ``surgery.transplant(...,
            suffix=modality)`` does); a level the checkpoint lacks stays at zero.
        **kwargs: :class:`ClassicFCNHead` arguments. ``at_once`` is not supported.

    Example:
        >>> import torch
        >>> head = LateFusionFCNHead(skips=(), in_channels=16, in_index=0,
        ...                          num_classes=3)
        >>> sorted(k for k in head.state_dict() if k.startswith('score'))[:2]
        ['score_frcolor.bias', 'score_frcolor.weight']
        >>> feats = [(torch.rand(1, 16, 2, 2), torch.rand(1, 16, 2, 2))]
        >>> head(feats, out_size=(40, 30)).shape
        torch.Size([1, 3, 40, 30])
    """

    def __init__(self,
                 modalities: Sequence[str] = ('color', 'hha'),
                 fusion_weights: Optional[Sequence[float]] = None,
                 **kwargs) -> None:
        self.modalities = check_modalities(modalities)
        if len(self.modalities) < 2:
            raise ValueError(f'late fusion needs two or more modalities, got '
                             f'{self.modalities}')
        if fusion_weights is None:
            fusion_weights = (1.0 / len(self.modalities), ) * len(self.modalities)
        self.fusion_weights = tuple(float(w) for w in fusion_weights)
        if len(self.fusion_weights) != len(self.modalities):
            raise ValueError(f'one fusion weight per modality {self.modalities}, got '
                             f'{self.fusion_weights}')
        if kwargs.get('at_once'):
            raise ValueError('LateFusionFCNHead does not support at_once')
        super().__init__(**kwargs)

    def _add_score_layers(self, level: str, in_channels: int, num_classes: int) -> None:
        for modality in self.modalities:
            self.add_module(late_fusion_name(score_name(level), modality),
                            nn.Conv2d(in_channels, num_classes, 1))

    def _score(self, level: str, feat: Sequence[Tensor]) -> Tensor:
        if not isinstance(feat, (tuple, list)) or len(feat) != len(self.modalities):
            raise ValueError(f'LateFusionFCNHead expects, per level, one map per '
                             f'modality {self.modalities} (LateFusionVGG16FC); got '
                             f'{type(feat).__name__}')
        name = score_name(level)
        fused = None
        for modality, weight, x in zip(self.modalities, self.fusion_weights, feat):
            score = weight * getattr(self, late_fusion_name(name, modality))(x)
            fused = score if fused is None else fused + score
        return fused

    def init_weights(self) -> None:
        """The reference init, ``init_cfg``, then per-modality score layers."""
        cfg = init_holding_out(
            self, super().init_weights, lambda cfg: cfg.get('type') == 'Pretrained'
            and isinstance(cfg.get('checkpoint'), dict))
        if cfg is not None:
            self.load_modality_scores(cfg['checkpoint'],
                                      map_location=cfg.get('map_location', 'cpu'))

    def load_modality_scores(self, checkpoints: Dict[str, str],
                             map_location: str = 'cpu') -> None:
        """Copy each single-modality checkpoint's score layers into this head.

        Args:
            checkpoints (dict[str, str]): ``{modality: path}``, one per modality;
                full FCN checkpoints (``decode_head.score_fr.weight``, ...).
            map_location (str): Defaults to ``'cpu'``.

        Raises:
            ValueError: A modality is missing, a checkpoint has no ``score_fr`` or
                a shape does not fit; names the file.
        """
        if set(checkpoints) != set(self.modalities):
            raise ValueError(f'Pretrained checkpoint must name one file per modality '
                             f'{self.modalities}, got {sorted(checkpoints)}')
        own = self.state_dict()
        levels = ('fc7', ) + self.skips
        for modality in self.modalities:
            path = checkpoints[modality]
            ckpt = _load_checkpoint(path, map_location=map_location, logger='current')
            state_dict = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else {}
            if 'decode_head.score_fr.weight' not in state_dict:
                raise ValueError(f'{path}: no decode_head.score_fr: not a '
                                 f'single-modality FCN checkpoint for {modality}')
            loaded, missing = [], []
            for level in levels:
                src = f'decode_head.{score_name(level)}'
                dst = late_fusion_name(score_name(level), modality)
                if f'{src}.weight' not in state_dict:
                    missing.append(dst)
                    continue
                for param in ('weight', 'bias'):
                    value = state_dict[f'{src}.{param}']
                    if value.shape != own[f'{dst}.{param}'].shape:
                        raise ValueError(
                            f'{path}: {src}.{param} has shape {tuple(value.shape)}, '
                            f'{dst}.{param} {tuple(own[f"{dst}.{param}"].shape)}')
                    getattr(self, dst).get_parameter(param).data.copy_(value)
                loaded.append(f'{src} -> {dst}')
            print_log(f'{type(self).__name__}: {modality} scores from {path}: '
                      f'{", ".join(loaded)}' +
                      (f'; left at zero: {", ".join(missing)}' if missing else ''),
                      logger='current')
