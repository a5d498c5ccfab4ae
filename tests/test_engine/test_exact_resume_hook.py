"""ExactResumeHook: RNG states gathered only when a checkpoint is saved.

The distributed test runs a real 2-rank gloo training (torch.multiprocessing) and
counts, per iteration, the collectives called through ``torch.distributed``'s
Python API (DDP's gradient all-reduce runs inside its C++ reducer and is not
counted): the pickled ``all_gather_object`` must happen on the checkpoint
iterations only.
"""
import os
import os.path as osp
from types import SimpleNamespace

import pytest
import torch
import torch.multiprocessing as mp
from mmengine.hooks import CheckpointHook, Hook
from mmseg.registry import HOOKS

from mmseg_fcn_classic.engine.hooks.exact_resume_hook import (
    ExactResumeHook, rng_state, saves_after_train_epoch, saves_after_train_iter)
from mmseg_fcn_classic.testing.narrow import make_tiny_data, write_tiny_config
from tests.conftest import free_port

#: The collectives of ``torch.distributed``'s Python API that are counted.
COLLECTIVES = ('all_gather_object', 'all_gather', 'all_gather_into_tensor',
               'all_reduce', 'broadcast', 'broadcast_object_list', 'gather',
               'gather_object', 'reduce', 'reduce_scatter', 'reduce_scatter_tensor',
               'scatter', 'scatter_object_list', 'barrier', 'all_to_all')


def count_collectives(calls: list) -> None:
    """Append the name of every outermost ``torch.distributed`` collective call to
    ``calls`` (``all_gather_object`` counts once, not with its inner
    ``all_gather``)."""
    import torch.distributed as dist
    c10d = dist.distributed_c10d
    depth = [0]

    def wrap(name, real):
        def counted(*args, **kwargs):
            if depth[0] == 0:
                calls.append(name)
            depth[0] += 1
            try:
                return real(*args, **kwargs)
            finally:
                depth[0] -= 1
        return counted

    for name in COLLECTIVES:
        if hasattr(c10d, name):
            counted = wrap(name, getattr(c10d, name))
            setattr(c10d, name, counted)
            setattr(dist, name, counted)


@HOOKS.register_module(force=True)
class CollectiveLogHook(Hook):
    """Record the collectives of each training iteration, and this rank's RNG
    state after each (after ExactResumeHook, before CheckpointHook)."""
    priority = 'LOW'

    def __init__(self):
        self.calls = []
        self.per_iter = []
        self.states = {}

    def before_train(self, runner):
        count_collectives(self.calls)

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        del self.calls[:]

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.per_iter.append(list(self.calls))
        self.states[runner.iter + 1] = rng_state()['cpu']


def _worker(rank, world_size, port, cfg_path, work_dir):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(world_size), LOCAL_RANK=str(rank),
                      LOCAL_WORLD_SIZE=str(world_size), OMP_NUM_THREADS='1')
    torch.set_num_threads(1)
    from mmengine.config import Config
    from mmengine.runner import Runner

    from mmseg_fcn_classic.utils.dist import setup_cpu_distributed
    cfg = Config.fromfile(cfg_path)
    cfg.work_dir, cfg.launcher = work_dir, 'pytorch'
    setup_cpu_distributed(cfg, 'pytorch')
    cfg.custom_hooks = [dict(type='ExactResumeHook'), dict(type='CollectiveLogHook')]
    runner = Runner.from_cfg(cfg)
    runner.train()
    log = next(h for h in runner.hooks if isinstance(h, CollectiveLogHook))
    torch.save(dict(per_iter=log.per_iter, states=log.states),
               osp.join(work_dir, f'collectives_rank{rank}.pth'))


def test_two_ranks_gather_on_checkpoint_iterations_only(tmp_path):
    data = make_tiny_data(str(tmp_path / 'polyps'), n_train=4)
    # checkpoints after iterations 2 and 4 (interval) and 5 (the last)
    cfg = write_tiny_config(str(tmp_path / 'tiny.py'), data, max_iters=5,
                            ckpt_interval=2)
    work = str(tmp_path / 'work')
    os.makedirs(work)
    mp.spawn(_worker, args=(2, free_port(), cfg, work), nprocs=2, join=True)
    for rank in (0, 1):
        log = torch.load(osp.join(work, f'collectives_rank{rank}.pth'),
                         weights_only=False)
        assert log['per_iter'] == [[], ['all_gather_object'], [],
                                   ['all_gather_object'], ['all_gather_object']]
        for it in (2, 4, 5):
            ckpt = torch.load(osp.join(work, f'iter_{it}.pth'), weights_only=False)
            states = ckpt['rng_states']
            assert len(states) == 2
            # this rank's state right after the iteration, as the resume needs it
            assert torch.equal(states[rank]['cpu'], log['states'][it])
    assert not osp.exists(osp.join(work, 'iter_3.pth'))


def _saved_by(hook, runners, after):
    """The runners after which ``hook`` itself saves (its ``_save_checkpoint``
    recorded, not run)."""
    saved = []
    hook._save_checkpoint = lambda runner: saved.append(runner)
    for runner in runners:
        after(runner)
    return saved


@pytest.mark.parametrize('kwargs', [
    dict(interval=4, by_epoch=False),
    dict(interval=4, by_epoch=False, save_last=False),
    dict(interval=3, by_epoch=False, save_begin=5),
    dict(interval=-1, by_epoch=False),
    dict(interval=1, by_epoch=True),  # saves after epochs instead
])
def test_saves_after_train_iter_agrees_with_checkpoint_hook(kwargs):
    hook = CheckpointHook(**kwargs)
    info = SimpleNamespace(info=lambda msg: None)
    runners = [SimpleNamespace(iter=it, max_iters=10, logger=info) for it in range(10)]
    expected = _saved_by(hook, runners, lambda r: hook.after_train_iter(r, r.iter))
    assert [r for r in runners if saves_after_train_iter(hook, r)] == expected
    assert expected or kwargs['by_epoch']  # a non-trivial comparison


@pytest.mark.parametrize('by_epoch', [True, False])
def test_saves_after_train_epoch_agrees_with_checkpoint_hook(by_epoch):
    hook = CheckpointHook(interval=2, by_epoch=by_epoch)
    info = SimpleNamespace(info=lambda msg: None)
    runners = [SimpleNamespace(epoch=ep, max_epochs=5, logger=info) for ep in range(5)]
    expected = _saved_by(hook, runners, hook.after_train_epoch)
    assert [r for r in runners if saves_after_train_epoch(hook, r)] == expected
    assert len(expected) == (3 if by_epoch else 0)


class _Runner(SimpleNamespace):
    def __init__(self, hooks, it=0, max_iters=10):
        super().__init__(hooks=hooks, iter=it, epoch=0, max_iters=max_iters,
                         logger=SimpleNamespace(warning=self._warn), warnings=[])

    def _warn(self, msg):
        self.warnings.append(msg)


def test_single_process_checkpoint_gets_states_whenever_saved():
    hook = ExactResumeHook()
    runner = _Runner([hook, CheckpointHook(interval=4, by_epoch=False)], it=1)
    hook.after_train_iter(runner, 1)
    assert hook._gathered_at is None  # no checkpoint after iteration 2
    checkpoint = {}
    hook.before_save_checkpoint(runner, checkpoint)  # saved by other code
    assert torch.equal(checkpoint['rng_states'][0]['cpu'], torch.get_rng_state())


def test_unannounced_save_in_a_distributed_run_warns(monkeypatch):
    import mmseg_fcn_classic.engine.hooks.exact_resume_hook as module
    monkeypatch.setattr(module, 'get_dist_info', lambda: (0, 2))
    hook = ExactResumeHook()
    runner = _Runner([hook], it=1)
    checkpoint = {}
    hook.before_save_checkpoint(runner, checkpoint)
    assert 'rng_states' not in checkpoint
    assert 'not gathered' in runner.warnings[0]


def test_save_best_gathers_before_validation():
    hook = ExactResumeHook()
    runner = _Runner([hook, CheckpointHook(interval=4, by_epoch=False, save_best='mIoU')], it=6)
    hook.before_val_epoch(runner)
    assert hook._gathered_at == (0, 6)
    runner = _Runner([hook, CheckpointHook(interval=4, by_epoch=False)], it=8)
    hook.before_val_epoch(runner)
    assert hook._gathered_at == (0, 6)  # no save_best: nothing to gather for
