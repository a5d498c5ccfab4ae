"""The plain-PyTorch FCN-8s that the benchmark measures ours against.

Its layer names are the reference ones, so
:func:`mmseg_fcn_classic.converters.pytorch_fcn.convert_pytorch_fcn` maps its state
dict onto our FCN-8s; both then compute the same function
(``tests/test_testing/test_plain_fcn.py``). Its wiring (blocks, crop offsets
5/9/31) is written out here on purpose, independent of
:mod:`..models.utils.fcn_spec`.
"""
from typing import List, Sequence

import torch
import torch.nn as nn

from ..models.utils.fcn_spec import DEFAULT_FC_CHANNELS, DEFAULT_WIDTHS
from ..models.utils.geometry import bilinear_upsample_weight


class PlainFCN8s(nn.Module):
    """FCN-8s as plain PyTorch, the way wkentaro/pytorch-fcn's ``FCN8s`` writes it.

    VGG16 with ``conv1_1`` padded by 100, in-place ReLUs, ceil-mode max-pools,
    ``fc6`` (7x7) / ``fc7`` (1x1) convolutions with ``Dropout2d``, the score layers,
    dense ``ConvTranspose2d`` upscores (bilinear, ``requires_grad`` left True) and
    the crops at the fixed offsets 5, 9, 31. Nothing here is slowed down on
    purpose: this is the straightforward implementation.

    Args:
        num_classes (int): Defaults to 21.
        widths (Sequence[int]): Width of each conv block. Defaults to VGG16's.
        fc_channels (int): Width of fc6 / fc7. Defaults to 4096.

    Example:
        >>> net = PlainFCN8s(3, widths=(4, 8, 8, 16, 16), fc_channels=16)
        >>> net(torch.rand(1, 3, 40, 50)).shape
        torch.Size([1, 3, 40, 50])
    """

    BLOCKS = (2, 2, 3, 3, 3)

    def __init__(self, num_classes: int = 21,
                 widths: Sequence[int] = DEFAULT_WIDTHS,
                 fc_channels: int = DEFAULT_FC_CHANNELS) -> None:
        super().__init__()
        channels = 3
        for stage, (convs, width) in enumerate(zip(self.BLOCKS, widths), 1):
            for i in range(1, convs + 1):
                padding = 100 if (stage, i) == (1, 1) else 1
                setattr(self, f'conv{stage}_{i}',
                        nn.Conv2d(channels, width, 3, padding=padding))
                setattr(self, f'relu{stage}_{i}', nn.ReLU(inplace=True))
                channels = width
            setattr(self, f'pool{stage}', nn.MaxPool2d(2, stride=2, ceil_mode=True))
        self.fc6 = nn.Conv2d(channels, fc_channels, 7)
        self.relu6 = nn.ReLU(inplace=True)
        self.drop6 = nn.Dropout2d()
        self.fc7 = nn.Conv2d(fc_channels, fc_channels, 1)
        self.relu7 = nn.ReLU(inplace=True)
        self.drop7 = nn.Dropout2d()
        self.score_fr = nn.Conv2d(fc_channels, num_classes, 1)
        self.score_pool3 = nn.Conv2d(widths[2], num_classes, 1)
        self.score_pool4 = nn.Conv2d(widths[3], num_classes, 1)
        self.upscore2 = nn.ConvTranspose2d(num_classes, num_classes, 4, stride=2,
                                           bias=False)
        self.upscore8 = nn.ConvTranspose2d(num_classes, num_classes, 16, stride=8,
                                           bias=False)
        self.upscore_pool4 = nn.ConvTranspose2d(num_classes, num_classes, 4,
                                                stride=2, bias=False)
        for m in (self.upscore2, self.upscore8, self.upscore_pool4):
            m.weight.data.copy_(bilinear_upsample_weight(num_classes, m.kernel_size[0]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for stage, convs in enumerate(self.BLOCKS, 1):
            for i in range(1, convs + 1):
                h = getattr(self, f'relu{stage}_{i}')(
                    getattr(self, f'conv{stage}_{i}')(h))
            h = getattr(self, f'pool{stage}')(h)
            if stage == 3:
                pool3 = h  # 1/8
            elif stage == 4:
                pool4 = h  # 1/16
        h = self.drop6(self.relu6(self.fc6(h)))
        h = self.drop7(self.relu7(self.fc7(h)))
        h = self.score_fr(h)
        upscore2 = self.upscore2(h)  # 1/16
        h = self.score_pool4(pool4)
        h = h[:, :, 5:5 + upscore2.size(2), 5:5 + upscore2.size(3)]
        upscore_pool4 = self.upscore_pool4(upscore2 + h)  # 1/8
        h = self.score_pool3(pool3)
        h = h[:, :, 9:9 + upscore_pool4.size(2), 9:9 + upscore_pool4.size(3)]
        h = self.upscore8(upscore_pool4 + h)
        return h[:, :, 31:31 + x.size(2), 31:31 + x.size(3)].contiguous()

    def optimizer_groups(self, lr: float, weight_decay: float) -> List[dict]:
        """pytorch-fcn's parameter groups: weights, and biases at 2x lr without
        decay; the upscores are left out (they still get gradients)."""
        weights, biases = [], []
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                weights.append(m.weight)
                biases.append(m.bias)
        return [dict(params=weights),
                dict(params=biases, lr=2 * lr, weight_decay=0)]
