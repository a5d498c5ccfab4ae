"""VGG16 with fc6 / fc7 as convolutions: the FCN encoder of fcn.berkeleyvision.org."""
import logging
import warnings
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmengine.runner.checkpoint import _load_checkpoint
from mmseg.registry import MODELS
from torch import Tensor

from ...converters.torchvision import convert_torchvision_vgg16
from ..layers import GemmConv2d
from ..utils.fcn_spec import DEFAULT_FC_CHANNELS, LEVELS, LRN_SETTINGS, vgg_fc_layers
from ..utils.geometry import vgg_coord_maps
from ..utils.init_cfg import init_holding_out

@MODELS.register_module()
class VGG16FC(BaseModule):
    """VGG16 with fc6 / fc7 as convolutions, as in the reference FCN nets.

    conv1_1 ... conv5_3 are 3x3 convs with ReLU (conv1_1 padded by 100, the others
    by 1), each block ends in a 2x2 stride-2 max-pool that rounds up (Caffe pooling,
    ``ceil_mode=True``), fc6 is a 7x7 conv without padding and fc7 a 1x1 conv, each
    followed by ReLU and dropout. Parameter names are the reference ones
    (``conv1_1.weight`` ... ``fc7.bias``).

    Output levels (for ``out_indices``): 0 ``pool1`` (stride 2), 1 ``pool2`` (4),
    2 ``pool3`` (8), 3 ``pool4`` (16), 4 ``pool5`` (32), 5 ``fc7`` (32). The network
    is built and run only up to its deepest requested level, so no parameter goes
    unused (DDP with ``find_unused_parameters=False`` works).

    Args:
        arch (str): Key of ``fcn_spec.ARCH_SETTINGS``. Defaults to ``'vgg16'``.
        in_channels (int): Input channels. Defaults to 3.
        widths (Sequence[int], optional): Width of each conv block, e.g.
            ``(4, 8, 8, 16, 16)`` for a narrow test model. Defaults to None (the
            architecture's: 64, 128, 256, 512, 512).
        fc_channels (int): Width of fc6 / fc7. Defaults to 4096.
        out_indices (Sequence[int]): Levels to return, see above. Defaults to
            ``(2, 3, 5)``: pool3, pool4, fc7.
        frozen_stages (int): Freeze stages 1 ... ``frozen_stages``: 1-5 are the conv
            blocks, 6 is fc6 / fc7 (their dropout then runs in eval mode).
            -1 (default) freezes nothing.
        dropout_ratio (float): Dropout after fc6 and fc7. Defaults to 0.5.
        init_cfg (dict | list[dict], optional): ``dict(type='Pretrained',
            checkpoint=...)`` loads ImageNet weights, see :meth:`load_pretrained`;
            with ``extra_channels='mean'`` a model of more input channels than the
            checkpoint gets conv1_1's extra input filters as the mean of its
            filters over the checkpoint's input channels
            (:func:`expand_input_filters`).
        pretrained (str, optional): Deprecated, as in mmseg's backbones: warns and
            becomes ``init_cfg=dict(type='Pretrained', checkpoint=pretrained)``.
            Giving both ``pretrained`` and ``init_cfg`` is an error. An
            ``EncoderDecoder``'s ``pretrained=`` arrives here.

    Example:
        >>> import torch
        >>> net = VGG16FC(widths=(4, 8, 8, 16, 16), fc_channels=16)
        >>> [tuple(o.shape) for o in net(torch.rand(1, 3, 64, 48))]
        [(1, 8, 33, 31), (1, 16, 17, 16), (1, 16, 3, 2)]
    """

    def __init__(self,
                 arch: str = 'vgg16',
                 in_channels: int = 3,
                 widths: Optional[Sequence[int]] = None,
                 fc_channels: int = DEFAULT_FC_CHANNELS,
                 out_indices: Sequence[int] = (2, 3, 5),
                 frozen_stages: int = -1,
                 dropout_ratio: float = 0.5,
                 init_cfg: Optional[Union[dict, List[dict]]] = None,
                 pretrained: Optional[str] = None) -> None:
        if init_cfg and pretrained:
            raise AssertionError('init_cfg and pretrained cannot be set at the same '
                                 'time (pretrained is deprecated: use init_cfg)')
        if isinstance(pretrained, str):
            warnings.warn('DeprecationWarning: pretrained is deprecated, please use '
                          '"init_cfg" instead')
            init_cfg = dict(type='Pretrained', checkpoint=pretrained)
        elif pretrained is not None:
            raise TypeError(f'pretrained must be a str or None, got {pretrained!r}')
        super().__init__(init_cfg=init_cfg)
        self.pretrained = pretrained
        self.out_indices = tuple(out_indices)
        levels = self.LEVELS
        if not self.out_indices or not all(0 <= i < len(levels)
                                           for i in self.out_indices):
            raise ValueError(f'out_indices must be levels in 0..{len(levels) - 1} '
                             f'{levels}, got {out_indices}')
        self.frozen_stages = frozen_stages
        last = levels[max(self.out_indices)]
        layers = self.encoder_layers(arch, widths, fc_channels)
        self.layer_specs = layers[:[layer.name for layer in layers].index(last) + 1]
        self._out_names = {levels[i] for i in self.out_indices}

        channels = in_channels
        for layer in self.layer_specs:
            if layer.kind == 'pool':  # Caffe's pooling rounds up
                self.add_module(
                    layer.name, nn.MaxPool2d(layer.kernel_size, stride=layer.stride,
                                             ceil_mode=True))
                continue
            if layer.kind == 'lrn':  # Caffe's LRN (ACROSS_CHANNELS)
                self.add_module(layer.name, nn.LocalResponseNorm(**LRN_SETTINGS))
                continue
            # fc6/fc7: huge weights over tiny maps run faster as one GEMM
            conv = GemmConv2d if layer.kind == 'fc' else nn.Conv2d
            self.add_module(
                layer.name,
                conv(channels, layer.out_channels, layer.kernel_size,
                     stride=layer.stride, padding=layer.padding, groups=layer.groups))
            if layer.kind == 'fc':
                self.add_module(_dropout_name(layer.name), nn.Dropout(dropout_ratio))
            channels = layer.out_channels
        self._freeze_stages()

    #: The levels ``out_indices`` picks from.
    LEVELS = LEVELS
    #: The layer table of an ``arch`` (``fcn_spec``).
    encoder_layers = staticmethod(vgg_fc_layers)
    #: Where the pixels of each level sit in the input image (VGG16 geometry).
    coord_maps = staticmethod(vgg_coord_maps)

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """Run the network up to the deepest requested level.

        Args:
            x (Tensor): ``(N, C, H, W)`` images.

        Returns:
            tuple[Tensor, ...]: The ``out_indices`` levels, in that order.
        """
        outs = {}
        for layer in self.layer_specs:
            x = getattr(self, layer.name)(x)
            if layer.kind in ('conv', 'fc'):
                x = F.relu(x, inplace=True)
            if layer.kind == 'fc':
                x = getattr(self, _dropout_name(layer.name))(x)
            if layer.name in self._out_names:
                outs[layer.name] = x
        return tuple(outs[self.LEVELS[i]] for i in self.out_indices)

    def _freeze_stages(self) -> None:
        """Stop gradients into stages 1 ... ``frozen_stages``, and put them in eval
        mode (only fc dropout cares)."""
        for layer in self.layer_specs:
            if layer.stage > self.frozen_stages:
                continue
            names = [layer.name]
            if layer.kind == 'fc':
                names.append(_dropout_name(layer.name))
            for name in names:
                module = getattr(self, name)
                module.eval()
                for param in module.parameters():
                    param.requires_grad = False

    def train(self, mode: bool = True) -> 'VGG16FC':
        """Set train / eval mode, keeping the frozen stages in eval mode."""
        super().train(mode)
        self._freeze_stages()
        return self

    def init_weights(self) -> None:
        """Load ``Pretrained`` weights from ``init_cfg``; other init_cfg types go to
        mmengine as usual."""
        cfg = init_holding_out(self, super().init_weights,
                               lambda cfg: cfg.get('type') == 'Pretrained')
        if cfg is None:
            return
        self.load_pretrained(
            cfg['checkpoint'],
            prefix=cfg.get('prefix'),
            map_location=cfg.get('map_location', 'cpu'),
            extra_channels=cfg.get('extra_channels'))

    def load_pretrained(self,
                        checkpoint: str,
                        prefix: Optional[str] = None,
                        map_location: str = 'cpu',
                        extra_channels: Optional[str] = None) -> None:
        """Load weights in any of the layouts :meth:`backbone_state_dict` reads.

        The file goes through mmengine's ``_load_checkpoint``, so every registered
        loader scheme applies (local paths, ``torchvision://vgg16`` where torchvision
        and the internet are available, the project's own schemes).

        Args:
            checkpoint (str): Path or URL.
            prefix (str, optional): Take only the keys under this prefix (as
                mmengine's ``Pretrained`` does), e.g. ``'backbone.'``.
            map_location (str): Defaults to ``'cpu'``.
            extra_channels (str, optional): ``'mean'``: where the model has more
                input channels than the checkpoint's conv1_1, fill the extra ones
                by :func:`expand_input_filters` (logged). Defaults to None (a
                mismatch is an error).

        Raises:
            ValueError: If a tensor's shape differs from the model's (a narrow model
                with full-size weights, say), naming the key and both shapes, or if
                the file holds no weights for this model.
        """
        ckpt = _load_checkpoint(checkpoint, map_location=map_location, logger='current')
        state_dict, layout = self.backbone_state_dict(ckpt, prefix)
        own = self.state_dict()
        first = f'{self.layer_specs[0].name}.weight'
        if extra_channels is not None and first in state_dict:
            if extra_channels != 'mean':
                raise ValueError(f"extra_channels must be 'mean' or None, got "
                                 f'{extra_channels!r}')
            old = state_dict[first]
            if old.shape[1] < own[first].shape[1]:
                state_dict = dict(state_dict)
                state_dict[first] = expand_input_filters(old, own[first].shape[1])
                print_log(f'{type(self).__name__}: {first} of {checkpoint} has '
                          f'{old.shape[1]} input channels; input channels '
                          f'{old.shape[1]}..{own[first].shape[1] - 1} got the mean '
                          'of its filters over them', logger='current')
        mismatched = [
            f'{key}: checkpoint {tuple(value.shape)} vs model {tuple(own[key].shape)}'
            for key, value in state_dict.items()
            if key in own and value.shape != own[key].shape
        ]
        if mismatched:
            raise ValueError(f'{type(self).__name__}: weights in {checkpoint} do not '
                             'fit this model (check widths / fc_channels / '
                             'in_channels): ' + '; '.join(mismatched))
        loaded = [key for key in own if key in state_dict]
        if not loaded:
            raise ValueError(f'{type(self).__name__}: no weights for this model in '
                             f'{checkpoint} ({layout} layout; first keys: '
                             f'{list(state_dict)[:5]})')
        self.load_state_dict({key: state_dict[key] for key in loaded}, strict=False)
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        print_log(f'{type(self).__name__}: loaded {len(loaded)} tensors from '
                  f'{checkpoint} ({layout} layout)', logger='current')
        if missing:
            print_log(f'{type(self).__name__}: missing in {checkpoint}: {missing}',
                      logger='current', level=logging.WARNING)
        if unexpected:
            print_log(f'{type(self).__name__}: not used from {checkpoint}: '
                      f'{unexpected}', logger='current')

    @staticmethod
    def backbone_state_dict(checkpoint: dict,
                            prefix: Optional[str] = None) -> Tuple[dict, str]:
        """Extract VGG16FC weights from a loaded checkpoint of any known layout.

        Layouts: a state dict with our keys (``conv1_1.weight``, ``fc6.weight``,
        ...); a full-model checkpoint (keys under ``backbone.``, e.g. a trained
        FCN); a torchvision VGG16 state dict (``features.N.*``, ``classifier.N.*``,
        converted by :func:`convert_torchvision_vgg16`). Each may sit under a
        ``state_dict`` / ``model`` key and carry DDP's ``module.`` prefix.

        Args:
            checkpoint (dict): What ``_load_checkpoint`` returned.
            prefix (str, optional): Take only the keys under this prefix.

        Returns:
            tuple[dict, str]: The state dict with our keys, and the layout name.
        """
        state_dict, full_model = unwrap_state_dict(checkpoint, prefix)
        layout = 'full model' if full_model else 'VGG16FC'
        if any(k.startswith(('features.', 'classifier.')) for k in state_dict):
            state_dict, report = convert_torchvision_vgg16(state_dict)
            layout = 'torchvision'
            if report['dropped']:
                print_log(f'torchvision VGG16: dropped {report["dropped"]}',
                          logger='current')
        return state_dict, layout


def expand_input_filters(weight: torch.Tensor, in_channels: int) -> torch.Tensor:
    """A first conv's filters for more input channels: the given channels first,
    then each extra one the mean of the filters over the given input channels.

    This is the surgery of ``nyud-fcn32s-color-d/solve.py``: ``conv1_1_bgrd``
    takes VGG16's conv1_1 for B, G, R and their mean for the depth channel.

    Args:
        weight (Tensor): ``(out, in, k, k)`` filters.
        in_channels (int): Input channels wanted, at least ``in``.

    Returns:
        Tensor: ``(out, in_channels, k, k)``.

    Example:
        >>> w = torch.arange(6.).reshape(1, 3, 1, 2)
        >>> expand_input_filters(w, 4)[0, :, 0].tolist()
        [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [2.0, 3.0]]
    """
    extra = in_channels - weight.shape[1]
    if extra < 0:
        raise ValueError(f'cannot expand filters of {weight.shape[1]} input channels '
                         f'to {in_channels}')
    mean = weight.mean(dim=1, keepdim=True)
    return torch.cat([weight, mean.expand(-1, extra, -1, -1)], dim=1)


def _dropout_name(fc_name: str) -> str:
    """``fc6`` -> ``drop6``, as in the reference nets."""
    return fc_name.replace('fc', 'drop')


def unwrap_state_dict(checkpoint: dict,
                      prefix: Optional[str] = None) -> Tuple[dict, bool]:
    """The backbone's state dict inside a loaded checkpoint.

    Takes the ``state_dict`` or ``model`` entry where there is one, drops DDP's
    ``module.`` prefix and keeps the keys under ``prefix``, without it. With no
    prefix, a full-model checkpoint (keys under ``backbone.``) gives its backbone.

    Args:
        checkpoint (dict): What ``_load_checkpoint`` returned.
        prefix (str, optional): Take only the keys under this prefix.

    Returns:
        tuple[dict, bool]: The state dict, and whether it is a full model's
        ``backbone.`` part.

    Example:
        >>> unwrap_state_dict({'state_dict': {'module.backbone.fc6.bias': 1,
        ...                                   'module.decode_head.score_fr.bias': 2}})
        ({'fc6.bias': 1}, True)
        >>> unwrap_state_dict({'conv1.weight': 1, 'fc7.bias': 2}, prefix='fc7')
        ({'bias': 2}, False)
    """
    state_dict = checkpoint
    for key in ('state_dict', 'model'):
        if isinstance(checkpoint.get(key), dict):
            state_dict = checkpoint[key]
            break
    state_dict = {_strip(k, 'module.'): v for k, v in state_dict.items()}
    full_model = prefix is None and any(k.startswith('backbone.') for k in state_dict)
    if full_model:
        prefix = 'backbone.'
    if prefix:
        prefix = prefix if prefix.endswith('.') else prefix + '.'
        state_dict = {
            k[len(prefix):]: v
            for k, v in state_dict.items() if k.startswith(prefix)
        }
    return state_dict, full_model


def _strip(key: str, prefix: str) -> str:
    return key[len(prefix):] if key.startswith(prefix) else key
