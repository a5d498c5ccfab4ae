"""Make ``--resume`` continue exactly where an interrupted run stopped."""
from typing import List, Optional

import torch
from mmengine.dist import all_gather_object, get_dist_info
from mmengine.hooks import Hook
from mmseg.registry import HOOKS


def rng_state() -> dict:
    """The torch random state of this process (CPU, and CUDA when present)."""
    state = {'cpu': torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state()
    return state


def set_rng_state(state: dict) -> None:
    """Restore a state from :func:`rng_state`."""
    torch.set_rng_state(state['cpu'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state['cuda'])


@HOOKS.register_module()
class ExactResumeHook(Hook):
    """Save every rank's torch RNG state in checkpoints; restore it on resume.

    mmengine already restores the iteration, optimizer state (momentum buffers),
    parameter schedulers and message hub, re-seeds, and replays the data order by
    advancing the dataloader past the finished iterations (which also replays the
    numpy / Python RNG the data transforms use). What it does not restore is the torch
    RNG that dropout draws from during training steps, so a resumed run would diverge
    from an uninterrupted one. This hook closes that gap: checkpoints carry
    ``rng_states`` (one per rank, gathered after each iteration so rank 0 can save
    them all), and a resumed run restores its rank's state right before its first
    training step.
    """

    priority = 'NORMAL'  # after_train_iter must run before CheckpointHook's

    def __init__(self) -> None:
        self._states: Optional[List[dict]] = None
        self._pending: Optional[dict] = None

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        _, world_size = get_dist_info()
        state = rng_state()
        self._states = all_gather_object(state) if world_size > 1 else [state]

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self._states is not None:
            checkpoint['rng_states'] = self._states

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        states = checkpoint.get('rng_states')
        if not getattr(runner, '_resume', False) or not states:
            return
        rank, world_size = get_dist_info()
        if len(states) != world_size:
            runner.logger.warning(
                f'checkpoint holds RNG states of {len(states)} ranks, this run has '
                f'{world_size}: dropout randomness will not continue exactly')
            return
        self._pending = states[rank]

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if self._pending is not None:
            set_rng_state(self._pending)
            self._pending = None
