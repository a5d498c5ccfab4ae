"""One VGG16-FC trunk per modality: the encoder of ``nyud-fcn32s-color-hha``."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor

from ..utils.init_cfg import init_holding_out
from ..utils.modalities import MODALITIES, channel_table
from .vgg16_fc import VGG16FC


@MODELS.register_module()
class LateFusionVGG16FC(BaseModule):
    """Two (or more) full :class:`VGG16FC` trunks, one per modality.

    The input is the stacked image of ``LoadMultiModalImageFromFiles``
    (``(N, C, H, W)``, the modalities' channels in order); each trunk reads its
    modality's channels. The reference ``nyud-fcn32s-color-hha/net.py`` builds the
    trunks with suffixed names (``conv1_1color`` ... ``fc7color``, ``conv1_1hha``
    ... ``fc7hha``); here each trunk is a submodule named after its modality, so
    ``conv1_1color`` is ``color.conv1_1`` (``backbone.color.conv1_1.weight`` in a
    segmentor).

    Outputs: for each requested level, a tuple of the trunks' maps in modality
    order, for :class:`~..decode_heads.LateFusionFCNHead`, which scores each and
    sums the scores.

    Args:
        modalities (Sequence[str]): Modality names in stacking order. Defaults to
            ``('color', 'hha')``.
        init_cfg (dict, optional): ``dict(type='Pretrained', checkpoint=...)``: a
            path loads the same weights into every trunk (e.g. ImageNet VGG16); a
            dict ``{modality: path}`` loads each trunk from its own checkpoint, e.g.
            the backbone of the single-modality FCN-32s (``surgery.transplant(...,
            suffix='color')`` of the reference ``solve.py``). Other keys
            (``prefix``, ``map_location``, ``extra_channels``) go to
            :meth:`VGG16FC.load_pretrained`.
        **kwargs: :class:`VGG16FC` arguments shared by the trunks (``widths``,
            ``fc_channels``, ``out_indices``, ``frozen_stages``, ``dropout_ratio``).

    Example:
        >>> import torch
        >>> net = LateFusionVGG16FC(widths=(4, 8, 8, 16, 16), fc_channels=16,
        ...                         out_indices=(5, ))
        >>> (fc7, ), = [net(torch.rand(1, 6, 40, 30))]
        >>> [tuple(t.shape) for t in fc7]
        [(1, 16, 2, 2), (1, 16, 2, 2)]
    """

    def __init__(self,
                 modalities: Sequence[str] = ('color', 'hha'),
                 init_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        super().__init__(init_cfg=init_cfg)
        self.channel_table = channel_table(modalities)
        self.modalities = tuple(name for name, _, _ in self.channel_table)
        if len(self.modalities) < 2:
            raise ValueError('a late-fusion backbone needs two or more modalities, got '
                             f'{self.modalities}; use VGG16FC for one')
        if 'in_channels' in kwargs:
            raise ValueError('LateFusionVGG16FC takes each trunk\'s input channels from '
                             'its modality; do not pass in_channels')
        for name in self.modalities:
            self.add_module(name, VGG16FC(in_channels=MODALITIES[name].channels,
                                          **kwargs))

    def trunks(self) -> List[Tuple[str, VGG16FC]]:
        """``(modality, trunk)`` in modality order."""
        return [(name, getattr(self, name)) for name in self.modalities]

    def forward(self, x: Tensor) -> Tuple[Tuple[Tensor, ...], ...]:
        """Run each trunk on its channels.

        Args:
            x (Tensor): ``(N, C, H, W)`` stacked modalities.

        Returns:
            tuple[tuple[Tensor, ...], ...]: Per requested level, the trunks' maps.
        """
        outs = [getattr(self, name)(x[:, start:stop])
                for name, start, stop in self.channel_table]
        return tuple(zip(*outs))

    def init_weights(self) -> None:
        """Load ``Pretrained`` weights into the trunks; anything else as usual."""
        cfg = init_holding_out(self, super().init_weights,
                               lambda cfg: cfg.get('type') == 'Pretrained')
        if cfg is None:
            return
        cfg = dict(cfg)
        checkpoints = self._checkpoints(cfg.pop('checkpoint'))
        cfg.pop('type')
        for name, trunk in self.trunks():
            trunk.load_pretrained(checkpoints[name], **cfg)

    def _checkpoints(self, checkpoint: Union[str, Dict[str, str]]) -> Dict[str, str]:
        if isinstance(checkpoint, str):
            return {name: checkpoint for name in self.modalities}
        checkpoint = dict(checkpoint)
        if set(checkpoint) != set(self.modalities):
            raise ValueError(f'Pretrained checkpoint must be a path or one per modality '
                             f'{self.modalities}, got keys {sorted(checkpoint)}')
        return checkpoint
