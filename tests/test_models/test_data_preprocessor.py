"""FCNDataPreProcessor: the input convention by weights, non-blocking copies."""
import pytest
import torch

from mmseg_fcn_classic.models import FCNDataPreProcessor
from .test_encoder_decoder import _batch


@pytest.mark.parametrize('weights, bgr_to_rgb', [('caffe', False), ('torchvision', True)])
def test_convention_by_weights(weights, bgr_to_rgb):
    pre = FCNDataPreProcessor(weights=weights)
    assert pre.channel_conversion == bgr_to_rgb
    img = _batch([(5, 6)])['inputs'][0]
    out = pre(_batch([(5, 6)]), training=False)['inputs'][0]
    src = img[[2, 1, 0]] if bgr_to_rgb else img
    torch.testing.assert_close(out, (src.float() - pre.mean) / pre.std)


def test_copies_do_not_block_by_default():
    assert FCNDataPreProcessor()._non_blocking is True
    assert FCNDataPreProcessor(non_blocking=False)._non_blocking is False
    data = FCNDataPreProcessor(size_divisor=1)(_batch([(7, 9)]), training=True)
    assert data['inputs'].shape == (1, 3, 7, 9)
