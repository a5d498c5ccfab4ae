"""FCNOptimWrapperConstructor: mmengine's param groups and optimizer; frozen
parameters named once at INFO instead of one WARNING each."""
import copy
import logging

import pytest
import torch
from mmengine.logging import MMLogger
from mmengine.optim import DefaultOptimWrapperConstructor, build_optim_wrapper
from mmengine.registry import init_default_scope
from mmseg.registry import OPTIM_WRAPPER_CONSTRUCTORS
from torch import nn

from mmseg_fcn_classic.engine import FCNOptimWrapperConstructor
from tests.conftest import logged


class Net(nn.Module):
    """Two convolutions and a frozen upsampling between them, one of them shared."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.up = nn.ConvTranspose2d(4, 4, 4, stride=2, bias=False)
        self.up.weight.requires_grad_(False)
        self.score = nn.Conv2d(4, 2, 1)


def _build(cfg, model):
    """mmengine's build_optim_wrapper, as the Runner calls it (scope mmseg)."""
    init_default_scope('mmseg')
    with logged(MMLogger.get_current_instance()) as log:
        wrapper = build_optim_wrapper(model, copy.deepcopy(cfg))
    return wrapper, log


def _groups(wrapper, model):
    """Each param group as (parameter names, options other than params)."""
    names = {id(p): n for n, p in model.named_parameters()}
    return [(sorted(names[id(p)] for p in g['params']),
             sorted((k, v) for k, v in g.items() if k != 'params'))
            for g in wrapper.optimizer.param_groups]


PARAMWISE = dict(type='OptimWrapper',
                 optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4),
                 paramwise_cfg=dict(bias_lr_mult=2.0, bias_decay_mult=0.0))


@pytest.mark.parametrize('paramwise', [True, False])
def test_same_optimizer_frozen_named_once_at_info(paramwise):
    cfg = dict(PARAMWISE)
    if not paramwise:
        cfg.pop('paramwise_cfg')
    model = Net()
    ours, log = _build(dict(cfg, constructor='FCNOptimWrapperConstructor'), model)
    assert isinstance(ours.optimizer, torch.optim.SGD)
    theirs, theirs_log = _build(dict(cfg, constructor='DefaultOptimWrapperConstructor'),
                                model)
    assert _groups(ours, model) == _groups(theirs, model)
    assert log.messages(logging.WARNING) == []
    frozen = [m for m in log.messages(logging.INFO) if 'frozen' in m]
    assert frozen == ['1 frozen parameters (requires_grad=False) are not optimised: '
                      'up.weight']
    # mmengine's own: one warning per frozen parameter, with a paramwise_cfg
    assert theirs_log.messages(logging.WARNING) == (
        ['up.weight is skipped since its requires_grad=False'] if paramwise else [])


def test_nothing_frozen_nothing_said_and_other_warnings_kept():
    model = Net()
    model.up.weight.requires_grad_(True)
    model.tied = nn.Conv2d(4, 2, 1)
    model.tied.weight = model.score.weight  # one parameter in two modules
    cfg = dict(PARAMWISE, constructor='FCNOptimWrapperConstructor',
               paramwise_cfg=dict(bypass_duplicate=True))
    _, log = _build(cfg, model)
    assert not [m for m in log.messages(logging.INFO) if 'frozen' in m]
    # mmengine's other warnings of the same call still get through
    assert log.messages(logging.WARNING) == ['tied is duplicate. It is skipped since '
                                             'bypass_duplicate=True']


def test_a_wrapped_model_is_named_as_mmengine_names_it():
    class Wrapper(nn.Module):
        def __init__(self, module):
            super().__init__()
            self.module = module

    model = Net()
    _, log = _build(dict(PARAMWISE, constructor='FCNOptimWrapperConstructor'),
                    Wrapper(model))
    assert [m for m in log.messages(logging.INFO) if 'frozen' in m][0].endswith(
        ': up.weight')


def test_registered_in_mmseg_scope():
    assert OPTIM_WRAPPER_CONSTRUCTORS.get('FCNOptimWrapperConstructor') is \
        FCNOptimWrapperConstructor
    assert issubclass(FCNOptimWrapperConstructor, DefaultOptimWrapperConstructor)
