"""Let ``torch.compile`` (``cfg.compile = True``) trace the optimizer step."""
from mmengine.hooks import Hook
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmseg.registry import HOOKS


@HOOKS.register_module()
class PlainParamGroupsHook(Hook):
    """Turn the optimizer's param groups into plain dicts before training.

    mmengine's ``DefaultOptimWrapperConstructor`` puts the param groups of a
    ``paramwise_cfg`` (the reference's bias ``lr_mult=2``) into its config, which
    makes each group a ``ConfigDict``. With ``cfg.compile = True`` mmengine
    compiles ``train_step``, which steps the optimizer, and dynamo fails on
    ``ConfigDict`` param groups (``'UserDefinedDictVariable' object has no
    attribute 'items'``, torch 2.13). Plain dicts with the same keys and values
    change nothing else: schedulers, ``state_dict`` and resuming treat them alike.
    """

    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        wrapper = getattr(runner, 'optim_wrapper', None)
        if isinstance(wrapper, OptimWrapperDict):
            wrappers = list(wrapper.values())
        elif isinstance(wrapper, OptimWrapper):
            wrappers = [wrapper]
        else:  # not built: a test or validation run
            return
        for optim_wrapper in wrappers:
            groups = optim_wrapper.optimizer.param_groups
            groups[:] = [dict(group) for group in groups]
