"""CPU distributed set-up."""
from mmengine.config import Config

from mmseg_fcn_classic.utils.dist import syncbn_to_bn


def test_syncbn_to_bn_nested():
    cfg = Config(dict(model=dict(
        backbone=dict(norm_cfg=dict(type='SyncBN', requires_grad=True)),
        heads=[dict(norm_cfg=dict(type='SyncBN')), dict(type='X')])))
    out = syncbn_to_bn(cfg.model)
    assert out.backbone.norm_cfg.type == 'BN'
    assert out.backbone.norm_cfg.requires_grad is True
    assert out.heads[0].norm_cfg.type == 'BN' and out.heads[1].type == 'X'
    assert cfg.model.backbone.norm_cfg.type == 'SyncBN', 'input left untouched'
