"""AlexNet with fc6 / fc7 as convolutions: the encoder of fcn.berkeleyvision.org's
``voc-fcn-alexnet``."""
from typing import List, Optional, Sequence, Tuple, Union

from mmseg.registry import MODELS

from ..utils.fcn_spec import ALEXNET_LEVELS, DEFAULT_FC_CHANNELS, alexnet_fc_layers
from ..utils.geometry import encoder_coord_maps
from .vgg16_fc import VGG16FC, unwrap_state_dict


@MODELS.register_module()
class AlexNetFC(VGG16FC):
    """AlexNet (CaffeNet's layer order) with fc6 / fc7 as convolutions.

    The layers are the data of ``fcn_spec.ALEXNET_SETTINGS``: conv1 11x11 stride 4
    padded by 100, max-pool 3x3 stride 2 rounding up (Caffe's pooling,
    ``ceil_mode=True``), LRN (Caffe's ACROSS_CHANNELS: local size 5, alpha 1e-4,
    beta 0.75, k 1; :class:`torch.nn.LocalResponseNorm` computes the same), conv2
    5x5 in two groups, pool, LRN, conv3 3x3, conv4 and conv5 3x3 in two groups,
    pool, fc6 6x6 and fc7 1x1, each conv and fc followed by ReLU and fc6 / fc7 by
    dropout. Parameter names are the reference ones (``conv1.weight`` ...
    ``fc7.bias``), so ``fcn-alexnet-pascal.caffemodel`` and the ImageNet
    ``bvlc_alexnet`` / ``bvlc_reference_caffenet`` weights load 1:1 once converted.

    Output levels (for ``out_indices``): 0 ``pool1`` (stride 8), 1 ``pool2``
    (16), 2 ``pool5`` (32), 3 ``fc7`` (32). Everything else (freezing, dropout,
    ``init_cfg``, building only up to the deepest requested level) is as in
    :class:`VGG16FC`.

    Args:
        arch (str): Only ``'alexnet'``.
        in_channels (int): Input channels. Defaults to 3.
        widths (Sequence[int], optional): Width of each of the five convs, e.g.
            ``(4, 8, 8, 16, 16)`` for a narrow test model (grouped convs need
            even widths). Defaults to None (96, 256, 384, 384, 256).
        fc_channels (int): Width of fc6 / fc7. Defaults to 4096.
        out_indices (Sequence[int]): Levels to return. Defaults to ``(3,)``: fc7,
            the only input of the reference FCN-AlexNet head.
        **kwargs: ``frozen_stages`` (1-5 the convs with their pool / LRN, 6 fc6 /
            fc7), ``dropout_ratio``, ``init_cfg``, ``pretrained``, as
            :class:`VGG16FC`.

    Example:
        >>> import torch
        >>> net = AlexNetFC(widths=(4, 8, 8, 16, 16), fc_channels=16)
        >>> [tuple(o.shape) for o in net(torch.rand(1, 3, 1, 1))]
        [(1, 16, 1, 1)]
    """

    LEVELS = ALEXNET_LEVELS

    def __init__(self,
                 arch: str = 'alexnet',
                 in_channels: int = 3,
                 widths: Optional[Sequence[int]] = None,
                 fc_channels: int = DEFAULT_FC_CHANNELS,
                 out_indices: Sequence[int] = (3, ),
                 init_cfg: Optional[Union[dict, List[dict]]] = None,
                 **kwargs) -> None:
        if arch != 'alexnet':
            raise ValueError(f"AlexNetFC builds arch 'alexnet' only, got {arch!r} "
                             '(VGG16FC builds the VGGs)')
        super().__init__(arch, in_channels, widths, fc_channels, out_indices,
                         init_cfg=init_cfg, **kwargs)

    @staticmethod
    def encoder_layers(arch: str, widths: Optional[Sequence[int]],
                       fc_channels: int) -> list:
        """The AlexNet-FC layer table (``fcn_spec.alexnet_fc_layers``)."""
        return alexnet_fc_layers(widths, fc_channels)

    @staticmethod
    def coord_maps(levels: Sequence[Union[int, str]] = ALEXNET_LEVELS) -> tuple:
        """Where the pixels of each level sit in the input image (AlexNet
        geometry)."""
        return encoder_coord_maps(levels, 'alexnet')

    @staticmethod
    def backbone_state_dict(checkpoint: dict,
                            prefix: Optional[str] = None) -> Tuple[dict, str]:
        """Extract AlexNetFC weights from a loaded checkpoint.

        Layouts: a state dict with our keys (``conv1.weight`` ... ``fc7.bias``,
        e.g. ``tools/convert_weights.py bvlc_alexnet.caffemodel``), or a
        full-model checkpoint (keys under ``backbone.``); either may sit under a
        ``state_dict`` / ``model`` key and carry DDP's ``module.`` prefix.
        torchvision's AlexNet is refused: it is another net (no LRN, 64 / 192 /
        384 / 256 / 256 channels).

        Args:
            checkpoint (dict): What ``_load_checkpoint`` returned.
            prefix (str, optional): Take only the keys under this prefix.

        Returns:
            tuple[dict, str]: The state dict with our keys, and the layout name.
        """
        state_dict, full_model = unwrap_state_dict(checkpoint, prefix)
        layout = 'full model' if full_model else 'AlexNetFC'
        if any(k.startswith(('features.', 'classifier.')) for k in state_dict):
            raise ValueError(
                'AlexNetFC: these are torchvision AlexNet weights, a different net '
                "(no LRN, other widths); convert Caffe's bvlc_alexnet.caffemodel "
                'or bvlc_reference_caffenet.caffemodel with '
                'tools/convert_weights.py instead')
        return state_dict, layout
