"""models/utils/init_cfg.py: init_cfg entries held out of mmengine's init."""
import pytest
import torch.nn as nn
from mmengine.model import BaseModule

from mmseg_fcn_classic.models.utils.init_cfg import init_holding_out


class Net(BaseModule):

    def __init__(self, init_cfg):
        super().__init__(init_cfg)
        self.conv = nn.Conv2d(1, 1, 1)


def is_pretrained(cfg):
    return cfg.get('type') == 'Pretrained'


def test_the_rest_runs_and_the_last_held_out_entry_is_returned():
    init_cfg = [dict(type='Constant', val=3., layer='Conv2d'),
                dict(type='Pretrained', checkpoint='a.pth'),
                dict(type='Pretrained', checkpoint='b.pth')]
    net = Net(init_cfg)
    before = net.init_cfg
    held = init_holding_out(net, net.init_weights, is_pretrained)
    assert held == dict(type='Pretrained', checkpoint='b.pth')
    assert net.conv.weight.item() == 3.  # the Constant ran, no checkpoint was read
    assert net.init_cfg is before and before == init_cfg


def test_a_single_dict_and_nothing_to_hold_out():
    net = Net(dict(type='Constant', val=2., layer='Conv2d'))
    assert init_holding_out(net, net.init_weights, is_pretrained) is None
    assert net.conv.weight.item() == 2.
    assert Net(None).init_cfg is None
    assert init_holding_out(Net(None), lambda: None, is_pretrained) is None


def test_init_cfg_is_restored_when_the_init_raises():
    net = Net([dict(type='Pretrained', checkpoint='a.pth')])

    def fails():
        assert net.init_cfg is None  # only the held-out entry was there
        raise RuntimeError('boom')

    with pytest.raises(RuntimeError, match='boom'):
        init_holding_out(net, fails, is_pretrained)
    assert net.init_cfg == [dict(type='Pretrained', checkpoint='a.pth')]
