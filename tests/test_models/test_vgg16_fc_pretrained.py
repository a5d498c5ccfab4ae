"""VGG16FC's deprecated ``pretrained=`` keyword, as mmseg's own backbones take it."""
import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

from mmseg_fcn_classic.models.backbones.vgg16_fc import VGG16FC
from mmseg_fcn_classic.models.utils.fcn_spec import head_inputs

NARROW = dict(widths=(4, 8, 8, 16, 16), fc_channels=16)


@pytest.fixture
def weights(tmp_path):
    torch.manual_seed(1)
    state = VGG16FC(**NARROW).state_dict()
    path = str(tmp_path / 'vgg16_narrow.pth')
    torch.save(state, path)
    return path, state


def test_pretrained_warns_and_becomes_init_cfg(weights):
    path, state = weights
    with pytest.warns(UserWarning, match='pretrained is deprecated'):
        net = VGG16FC(**NARROW, pretrained=path)
    assert net.init_cfg == dict(type='Pretrained', checkpoint=path)
    assert net.pretrained == path
    net.init_weights()
    for key, value in state.items():
        assert torch.equal(net.state_dict()[key], value), key


def test_pretrained_and_init_cfg_together_is_an_error(weights):
    path, _ = weights
    with pytest.raises(AssertionError, match='init_cfg and pretrained'):
        VGG16FC(**NARROW, pretrained=path,
                init_cfg=dict(type='Pretrained', checkpoint=path))


def test_pretrained_must_be_a_path():
    with pytest.raises(TypeError, match='pretrained must be a str or None'):
        VGG16FC(**NARROW, pretrained=True)


def test_segmentor_pretrained_reaches_backbone(weights):
    """mmseg's EncoderDecoder hands its own ``pretrained=`` to the backbone."""
    path, state = weights
    init_default_scope('mmseg')
    with pytest.warns(UserWarning, match='pretrained is deprecated'):
        model = MODELS.build(ConfigDict(
            type='EncoderDecoder', pretrained=path,
            data_preprocessor=dict(type='FCNDataPreProcessor'),
            backbone=dict(type='VGG16FC', **NARROW),
            decode_head=dict(type='ClassicFCNHead', num_classes=2,
                             **head_inputs(**NARROW))))
    model.init_weights()
    assert torch.equal(model.backbone.fc7.weight, state['fc7.weight'])
