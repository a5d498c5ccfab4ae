"""A hook for tests that launch training in subprocesses: it records, per rank, the
iterations stepped, the checkpoints this rank saved, the weights at the start and
end of training, its process id and the process holding the work dir lock into
``<work_dir>/probe_rank<r>.pth``."""
import json
import os
import os.path as osp

import torch
from mmengine.dist import get_dist_info
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS


def _weights(runner):
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


@HOOKS.register_module()
class ProbeHook(Hook):
    priority = 'LOWEST'

    def __init__(self):
        self.record = dict(iters=0, saved=0, start=None, end=None)

    def before_train(self, runner):
        self.record['start'] = _weights(runner)
        self.record['start_iter'] = runner.iter
        self.record['pid'] = os.getpid()
        try:
            with open(osp.join(runner.work_dir, '.train.lock')) as f:
                self.record['lock_holder'] = json.load(f)['pid']
        except FileNotFoundError:
            self.record['lock_holder'] = None

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.record['iters'] += 1

    def before_save_checkpoint(self, runner, checkpoint):
        self.record['saved'] += 1

    def after_train(self, runner):
        self.record['end'] = _weights(runner)
        rank, world = get_dist_info()
        self.record.update(rank=rank, world_size=world)
        torch.save(self.record, osp.join(runner.work_dir, f'probe_rank{rank}.pth'))
