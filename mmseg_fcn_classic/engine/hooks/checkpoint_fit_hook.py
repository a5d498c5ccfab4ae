"""Fail when the checkpoint a runner loads does not fit its model."""
from mmengine.hooks import Hook
from mmseg.registry import HOOKS

from ..weights import check_fit


@HOOKS.register_module()
class CheckpointFitHook(Hook):
    """Check ``load_from`` against the model before mmengine loads it non-strictly.

    mmengine's ``Runner.load_checkpoint`` only warns about missing, unexpected or
    mis-sized tensors; ``tools/test.py`` adds this hook so that evaluating a
    checkpoint that does not belong to the config fails, naming the keys.

    Args:
        strict (bool): Raise on a mismatch; False only logs it (a partial load).
            Defaults to True.
        hint (str): How the user allows a partial load, for the error.
    """

    priority = 'VERY_LOW'  # after hooks that rewrite the checkpoint (EMA)

    def __init__(self, strict: bool = True,
                 hint: str = 'pass --non-strict to load only the tensors that fit'
                 ) -> None:
        self.strict = strict
        self.hint = hint

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if getattr(runner, '_resume', False):
            return  # resuming: the same model saved it
        check_fit(runner.model, checkpoint, str(runner._load_from),
                  strict=self.strict, hint=self.hint)
