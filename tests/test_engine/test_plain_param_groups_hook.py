"""PlainParamGroupsHook: param groups dynamo can trace through."""
from types import SimpleNamespace

import torch
import torch.nn as nn
from mmengine.config import ConfigDict
from mmengine.optim import build_optim_wrapper

from mmseg_fcn_classic.engine.hooks import PlainParamGroupsHook


def test_param_groups_become_plain_dicts_and_the_step_compiles():
    model = nn.Conv2d(3, 4, 3)
    wrapper = build_optim_wrapper(model, ConfigDict(  # as the runner passes it
        type='OptimWrapper',
        optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4),
        paramwise_cfg=dict(bias_lr_mult=2.0, bias_decay_mult=0.0)))
    groups = wrapper.optimizer.param_groups
    assert any(type(group) is not dict for group in groups)  # mmengine's ConfigDicts
    before = [dict(group) for group in groups]
    PlainParamGroupsHook().before_run(SimpleNamespace(optim_wrapper=wrapper))
    assert wrapper.optimizer.param_groups is groups  # the same list, new dicts
    assert all(type(group) is dict for group in groups)
    assert groups == before
    assert [g['lr'] for g in groups] == [0.1, 0.2]  # bias lr_mult 2 kept

    def step():
        model.weight.grad = torch.ones_like(model.weight)
        model.bias.grad = torch.ones_like(model.bias)
        wrapper.step()

    weight = model.weight.detach().clone()
    torch._dynamo.reset()
    try:
        torch.compile(step, backend='eager')()
    finally:
        torch._dynamo.reset()
    assert not torch.equal(model.weight, weight)


def test_nothing_to_do_without_an_optimizer():
    PlainParamGroupsHook().before_run(SimpleNamespace(optim_wrapper=dict(type='X')))
    PlainParamGroupsHook().before_run(SimpleNamespace())
