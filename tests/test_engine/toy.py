"""A toy mmengine runner (two linear layers, random data) for checkpoint-hook tests:
the hook logic runs in full, in well under a second per run."""
import uuid

import torch
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import Dataset


class ToyDataset(Dataset):
    metainfo = dict(classes=('x', ))

    def __init__(self, n: int = 24):  # no epoch end in 6 iterations (mmengine
        # sleeps 2 s at each end of an infinite dataloader's epoch)
        gen = torch.Generator().manual_seed(0)
        self.data = torch.randn(n, 2, generator=gen)
        self.label = torch.randn(n, generator=gen)

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        return dict(inputs=self.data[index], data_samples=self.label[index])


class ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear1 = nn.Linear(2, 4)
        self.linear2 = nn.Linear(4, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        x = torch.stack(inputs) if isinstance(inputs, list) else inputs
        out = self.linear2(self.linear1(x)).squeeze(-1)
        if mode == 'loss':
            y = (torch.stack(data_samples) if isinstance(data_samples, list)
                 else data_samples)
            return dict(loss=((out - y)**2).mean())
        return out


class ToyMetric(BaseMetric):
    """``acc`` rises with every evaluation (1, 2, 3, ...): each is a new best."""

    calls = 0

    def process(self, data_batch, data_samples):
        self.results.append(0)

    def compute_metrics(self, results):
        ToyMetric.calls += 1
        return dict(acc=float(ToyMetric.calls))


def toy_runner(work_dir, checkpoint: dict, max_iters: int = 6, val_interval: int = 2,
               by_epoch: bool = False, optimizer=None, **kwargs) -> Runner:
    """A runner with ``default_hooks.checkpoint=checkpoint``."""
    optimizer = optimizer or dict(type='SGD', lr=0.01, momentum=0.9)
    loader = dict(dataset=ToyDataset(), batch_size=3, num_workers=0,
                  sampler=dict(type='DefaultSampler', shuffle=True))
    train_cfg = (dict(by_epoch=True, max_epochs=max_iters, val_interval=val_interval)
                 if by_epoch else
                 dict(by_epoch=False, max_iters=max_iters, val_interval=val_interval))
    return Runner(
        model=dict(type=ToyModel), work_dir=str(work_dir),
        experiment_name=uuid.uuid4().hex,
        train_dataloader=loader, val_dataloader=dict(loader, sampler=dict(
            type='DefaultSampler', shuffle=False)),
        val_evaluator=dict(type=ToyMetric), val_cfg=dict(),
        optim_wrapper=dict(optimizer=optimizer), train_cfg=train_cfg,
        default_hooks=dict(checkpoint=checkpoint, logger=dict(type='LoggerHook',
                                                              interval=1)),
        randomness=dict(seed=0), default_scope='mmseg', **kwargs)
