"""Narrow model configs and helpers shared by the model tests."""
import pytest
from mmengine.config import ConfigDict
from mmengine.registry import init_default_scope

import mmseg_fcn_classic  # noqa: F401  (registers the components)
from mmseg_fcn_classic.models.utils import fcn_spec
from mmseg_fcn_classic.models.utils.fcn_spec import head_inputs
from mmseg_fcn_classic.testing.narrow import FC_CHANNELS, WIDTHS, randomize_  # noqa: F401

NUM_CLASSES = 3
#: Variant -> head arguments (inputs: pool3, pool4, fc7 of the narrow backbone).
VARIANTS = {
    name: dict(head_inputs(v.skips, WIDTHS, FC_CHANNELS), **(
        dict(at_once=True) if v.at_once else {}))
    for name, v in fcn_spec.VARIANTS.items()
}


def backbone_cfg(**kwargs) -> dict:
    """A narrow VGG16FC config."""
    return dict(dict(type='VGG16FC', widths=WIDTHS, fc_channels=FC_CHANNELS), **kwargs)


def head_cfg(variant: str = '8s', **kwargs) -> dict:
    """A ClassicFCNHead config for ``variant`` on the narrow backbone."""
    return dict(dict(type='ClassicFCNHead', num_classes=NUM_CLASSES, **VARIANTS[variant]),
                **kwargs)


def segmentor_cfg(variant: str = '8s', backbone=None, decode_head=None, **kwargs) -> dict:
    """An mmseg EncoderDecoder + SegDataPreProcessor config with our parts."""
    return dict(
        type='EncoderDecoder',
        data_preprocessor=dict(
            type='SegDataPreProcessor', mean=[104.0, 117.0, 123.0], std=[1.0, 1.0, 1.0],
            size_divisor=32, pad_val=0, seg_pad_val=255),
        backbone=backbone or backbone_cfg(),
        decode_head=decode_head or head_cfg(variant),
        train_cfg=dict(),
        test_cfg=kwargs.pop('test_cfg', dict(mode='whole')),
        **kwargs)


def build_model(cfg: dict):
    """Build a component from a config dict through mmseg's registry (as a
    ConfigDict, like a config file gives it)."""
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    return MODELS.build(ConfigDict(cfg))


@pytest.fixture
def build():
    """:func:`build_model` as a fixture."""
    return build_model
