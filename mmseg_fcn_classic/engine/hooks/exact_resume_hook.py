"""Make ``--resume`` continue exactly where an interrupted run stopped."""
from typing import List, Optional, Tuple

import torch
from mmengine.dist import all_gather_object, get_dist_info
from mmengine.hooks import CheckpointHook, Hook
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


def checkpoint_hooks(runner) -> List[CheckpointHook]:
    """The runner's checkpoint hooks: :class:`CheckpointHook` and subclasses."""
    return [hook for hook in runner.hooks if isinstance(hook, CheckpointHook)]


def saves_after_train_iter(hook: CheckpointHook, runner) -> bool:
    """Whether ``hook`` saves a checkpoint after the current iteration (the rule
    of :meth:`CheckpointHook.after_train_iter`)."""
    return not hook.by_epoch and (
        hook.every_n_train_iters(runner, hook.interval, hook.save_begin)
        or (hook.save_last and hook.is_last_train_iter(runner)))


def saves_after_train_epoch(hook: CheckpointHook, runner) -> bool:
    """Whether ``hook`` saves a checkpoint after the current epoch (the rule of
    :meth:`CheckpointHook.after_train_epoch`)."""
    return hook.by_epoch and (
        hook.every_n_epochs(runner, hook.interval, hook.save_begin)
        or (hook.save_last and hook.is_last_train_epoch(runner)))


@HOOKS.register_module()
class ExactResumeHook(Hook):
    """Save every rank's torch RNG state in checkpoints; restore it on resume.

    mmengine already restores the iteration, optimizer state (momentum buffers),
    parameter schedulers and message hub, re-seeds, and replays the data order by
    advancing the dataloader past the finished iterations (which also replays the
    numpy / Python RNG the data transforms use). What it does not restore is the torch
    RNG that dropout draws from during training steps, so a resumed run would diverge
    from an uninterrupted one. This hook closes that gap: checkpoints carry
    ``rng_states`` (one per rank), and a resumed run restores its rank's state right
    before its first training step.

    ``Runner.save_checkpoint`` runs on rank 0 alone, so the states are gathered
    (one ``all_gather_object``) beforehand, on every rank, and only when a
    checkpoint will be saved: after the iterations / epochs at which a
    :class:`~mmengine.hooks.CheckpointHook` (or a subclass) saves by its
    ``interval``, ``save_begin`` and ``save_last``, and before each validation
    when one has ``save_best``. A checkpoint saved at another moment gets the
    current state in a single-process run; in a distributed run it gets no
    ``rng_states`` (with a warning), and resuming from it continues dropout
    randomness from a fresh seed.
    """

    priority = 'NORMAL'  # after_train_iter must run before CheckpointHook's

    def __init__(self) -> None:
        self._states: Optional[List[dict]] = None
        self._gathered_at: Optional[Tuple[int, int]] = None
        self._pending: Optional[dict] = None

    def _gather(self, runner) -> None:
        _, world_size = get_dist_info()
        state = rng_state()
        self._states = all_gather_object(state) if world_size > 1 else [state]
        self._gathered_at = (runner.epoch, runner.iter)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        if any(saves_after_train_iter(h, runner) for h in checkpoint_hooks(runner)):
            self._gather(runner)

    def after_train_epoch(self, runner) -> None:
        if any(saves_after_train_epoch(h, runner) for h in checkpoint_hooks(runner)):
            self._gather(runner)

    def before_val_epoch(self, runner) -> None:
        if any(h.save_best is not None for h in checkpoint_hooks(runner)):
            self._gather(runner)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self._gathered_at == (runner.epoch, runner.iter):
            checkpoint['rng_states'] = self._states
        elif get_dist_info()[1] == 1:
            checkpoint['rng_states'] = [rng_state()]
        else:
            runner.logger.warning(
                'ExactResumeHook: this checkpoint is saved at a moment no '
                'CheckpointHook announced, so the RNG states of the other ranks '
                'were not gathered; it carries none, and a run resumed from it '
                'continues dropout randomness from a fresh seed')

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
