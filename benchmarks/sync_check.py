"""Does a training step wait for the GPU? ``torch.cuda.set_sync_debug_mode`` around it.

``python -m benchmarks.sync_check CONFIG [--cfg-options ...] [--out JSON]`` trains
a few iterations of ``CONFIG`` with mmengine's runner, as ``tools/train.py`` does
(give it the config that a ``tools/train.py --amp bf16`` run dumped into its work
dir, and it checks that run's optimizer wrapper). Two hooks open a window around
``model.train_step`` of one iteration, which is the whole step (data
preprocessing with the copy to the GPU, forward, loss, backward, optimizer step);
the hooks (logging, checkpoints, RNG capture) run outside it:

* iteration ``warmup``: sync debug mode ``'warn'``; every synchronising call is
  recorded with the Python line that made it;
* iteration ``warmup + 1``: sync debug mode ``'error'``; the step must not raise.

Without CUDA the iterations still run (the code path is checked) and the result
says that nothing was checked. Validation and checkpoints are switched off.
Exit status: 1 when a synchronising call was found, else 0.
"""
import argparse
import json
import os
import os.path as osp
import sys
import tempfile
import threading
import traceback
import warnings
from typing import List, Optional, Sequence

import torch
from mmengine.hooks import Hook

#: What torch's sync debug mode says, in its warning and in its error.
SYNC_MESSAGE = 'called a synchronizing CUDA operation'


def _machinery(filename: str) -> bool:
    """Frames of torch, ``warnings`` and this module are not the caller."""
    return (f'{os.sep}torch{os.sep}' in filename
            or osp.basename(filename) == 'warnings.py'
            or osp.abspath(filename) == osp.abspath(__file__))


def sync_site(frames: Sequence[traceback.FrameSummary]) -> str:
    """The innermost frame outside torch, ``warnings`` and this module, as
    ``file:line in function``: the line that asked for the synchronising call.

    Args:
        frames: A stack, outermost first (``traceback.extract_stack`` /
            ``extract_tb``).

    Returns:
        str: The site, or ``'?'`` when every frame is machinery.
    """
    for frame in reversed(list(frames)):
        if not _machinery(frame.filename):
            return f'{frame.filename}:{frame.lineno} in {frame.name}'
    return '?'


class SyncRecorder:
    """Records the warnings of sync debug mode ``'warn'`` with their Python stack.

    Attributes:
        syncs (list[dict]): ``site`` (:func:`sync_site`), ``thread`` and ``stack``
            (the innermost 12 frames) of each synchronising call.
    """

    def __init__(self) -> None:
        self.syncs: List[dict] = []
        self._catcher: Optional[warnings.catch_warnings] = None
        self._show = None

    def __enter__(self) -> 'SyncRecorder':
        self._catcher = warnings.catch_warnings()
        self._catcher.__enter__()
        warnings.simplefilter('always')
        self._show = warnings.showwarning
        warnings.showwarning = self._record
        return self

    def __exit__(self, *exc) -> None:
        self._catcher.__exit__(*exc)

    def _record(self, message, category, filename, lineno, file=None, line=None):
        if SYNC_MESSAGE not in str(message):
            return self._show(message, category, filename, lineno, file, line)
        stack = traceback.extract_stack()[:-1]
        self.syncs.append(dict(
            site=sync_site(stack), thread=threading.current_thread().name,
            stack=[f'{f.filename}:{f.lineno} in {f.name}' for f in stack[-12:]]))


class SyncWindow(Hook):
    """Opens (``start=True``, lowest priority: last before the step) or closes
    (highest priority: first after it) the sync-debug window of the iterations
    in ``modes`` (iteration -> ``'warn'`` | ``'error'``).

    Both hooks share ``state``: ``recorder`` (:class:`SyncRecorder`), ``cuda``
    (whether the debug mode is set at all) and ``windows`` (iterations opened).
    """

    def __init__(self, start: bool, modes: dict, state: dict) -> None:
        self.start, self.modes, self.state = start, modes, state

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        mode = self.modes.get(batch_idx)
        if not self.start or mode is None:
            return
        self.state['windows'].append(dict(iter=batch_idx, mode=mode))
        if mode == 'warn':
            self.state['recorder'].__enter__()
        if self.state['cuda']:
            torch.cuda.set_sync_debug_mode(mode)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        if self.start or self.modes.get(batch_idx) is None:
            return
        close(self.state, self.modes[batch_idx])
        self.state['windows'][-1]['closed'] = True


def close(state: dict, mode: str) -> None:
    """Turn the sync debug mode off (and stop recording after ``'warn'``)."""
    if state['cuda']:
        torch.cuda.set_sync_debug_mode(0)
    if mode == 'warn':
        state['recorder'].__exit__(None, None, None)


def prepare(cfg, work_dir: str, iters: int) -> None:
    """Train ``iters`` iterations in ``work_dir``, from the config's initial
    weights, without validation, checkpoints or visualisation (in place)."""
    cfg.work_dir = work_dir
    cfg.load_from, cfg.resume = None, False
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters,
                         val_interval=iters + 1)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.test_cfg = cfg.test_dataloader = cfg.test_evaluator = None
    hooks = dict(cfg.get('default_hooks') or {})
    hooks.pop('visualization', None)
    hooks['checkpoint'] = None  # None removes one of mmengine's default hooks
    cfg.default_hooks = hooks


def check(cfg, work_dir: str, warmup: int = 2) -> dict:
    """Train ``warmup + 2`` iterations with the windows of :class:`SyncWindow`.

    Returns:
        dict: ``checked`` (CUDA present), ``windows``, ``syncs`` (``'warn'``
        iteration), ``error_mode`` (``'passed'`` | ``'raised'`` | ``'not run'``),
        ``error_site``, ``optim_wrapper`` and ``zero_syncs``.
    """
    from mmengine.runner import Runner

    import mmseg_fcn_classic  # noqa: F401  (registers the components)
    cuda = torch.cuda.is_available()
    modes = {warmup: 'warn', warmup + 1: 'error'}
    state = dict(recorder=SyncRecorder(), cuda=cuda, windows=[])
    prepare(cfg, work_dir, warmup + 2)
    runner = Runner.from_cfg(cfg)
    runner.register_hook(SyncWindow(True, modes, state), priority='LOWEST')
    runner.register_hook(SyncWindow(False, modes, state), priority='HIGHEST')
    result = dict(device='cuda' if cuda else 'cpu', checked=cuda,
                  optim_wrapper=dict(cfg.optim_wrapper).get('type'),
                  amp_dtype=str(dict(cfg.optim_wrapper).get('dtype')),
                  iters=dict(warmup=warmup, warn=warmup, error=warmup + 1),
                  error_mode='not run', error_site=None)
    if not cuda:
        result['reason'] = 'torch.cuda.is_available() is False: code path only'
    try:
        runner.train()
        result['error_mode'] = 'passed' if cuda else 'not run'
    except RuntimeError as e:
        if SYNC_MESSAGE not in str(e):
            raise
        close(state, 'error')
        result.update(error_mode='raised', error_message=str(e).splitlines()[0],
                      error_site=sync_site(traceback.extract_tb(e.__traceback__)))
    result['windows'] = state['windows']
    result['syncs'] = state['recorder'].syncs
    result['zero_syncs'] = (cuda and not result['syncs']
                            and result['error_mode'] == 'passed')
    return result


def main(argv: Optional[Sequence[str]] = None) -> int:
    from mmengine.config import Config, DictAction
    parser = argparse.ArgumentParser(
        description='Check that one training step makes no host-device sync.')
    parser.add_argument('config')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--work-dir', help='default: a temporary folder')
    parser.add_argument('--warmup', type=int, default=2,
                        help='iterations before the checked ones')
    parser.add_argument('--out', help='write the result as JSON')
    args = parser.parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    with tempfile.TemporaryDirectory(prefix='sync_check_') as tmp:
        result = check(cfg, args.work_dir or tmp, args.warmup)
    result['config'] = args.config
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=1)
    for sync in result['syncs']:
        print(f"sync ('warn' iteration, thread {sync['thread']}): {sync['site']}")
    verdict = ('zero host syncs' if result['zero_syncs'] else
               result.get('reason') or
               f"{len(result['syncs'])} synchronising calls; 'error' mode "
               f"{result['error_mode']}" + (f" at {result['error_site']}"
                                            if result['error_site'] else ''))
    print(f'sync check ({result["device"]}, {result["optim_wrapper"]}): {verdict}')
    return 1 if result['checked'] and not result['zero_syncs'] else 0


if __name__ == '__main__':
    sys.exit(main())
