"""SIGKILL a real training process at each phase of a save; --resume ends bit-identical.

The model is a narrow FCN-8s with a wide fc6/fc7, so that a checkpoint (weights plus
Adam's two moment buffers) is about 100 MB and a save takes measurable time. A
training process pauses at the phase under test (:mod:`kill_points`: the production
writes, with a pause inserted) and announces it; the test kills it with ``kill -9``,
checks what is on disk and runs ``tools/train.py --resume`` (bare, as
``train_staged.sh`` does), which is in turn killed at the next phase, and so on.
Two such chains, one with ``max_keep_ckpts=1`` and one with the default, run
alongside one uninterrupted reference run. After every kill, each complete
checkpoint on disk equals the reference's of the same iteration, and each chain's
final weights equal the reference's, tensor by tensor, exactly.
"""
import os
import os.path as osp
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import torch

from mmseg_fcn_classic.models.utils.fcn_spec import head_inputs
from mmseg_fcn_classic.testing.narrow import make_tiny_data, write_tiny_config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TRAIN = osp.join(REPO, 'tools', 'train.py')
WIDE = dict(widths=(4, 8, 8, 16, 16), fc_channels=2560)  # ~100 MB with Adam's state
MAX_ITERS, INTERVAL = 6, 2

#: Per max_keep_ckpts, the phases at which successive runs of one work dir are
#: killed (PHASE:NAME:NTH, see kill_points), then a last run finishes.
CHAINS = {
    1: ['mid-write:iter_4.pth:1',          # mid-save (mmengine had pruned iter_2)
        'mid-write:last_checkpoint:1',     # iter_4 complete, pointer being replaced
        'before-remove:iter_2.pth:1'],     # between save and prune
    -1: ['mid-write:iter_4.pth:1',
         'mid-write:last_checkpoint:1',
         'mid-iter:5:1'],                  # inside a training step
}


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith('FCN_TEST_')}
    env['PYTHONPATH'] = REPO + os.pathsep + env.get('PYTHONPATH', '')
    env['OMP_NUM_THREADS'] = '1'
    env.update(extra)
    return env


def _config(folder, data, keep: int) -> str:
    extra = f'''
custom_imports = dict(imports=['mmseg_fcn_classic', 'tests.test_engine.kill_points'],
                      allow_failed_imports=False)
custom_hooks = [dict(type='ExactResumeHook'), dict(type='PauseMidIterationHook')]
model = dict(backbone=dict(widths={WIDE['widths']!r}, fc_channels={WIDE['fc_channels']}),
             decode_head={head_inputs(('pool4', 'pool3'), **WIDE)!r})
default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(interval={INTERVAL}, save_best=None, max_keep_ckpts={keep},
                    backend_args=dict(backend='pausing_atomic_local')),
    visualization=dict(draw=False))
'''
    return write_tiny_config(str(folder / f'wide_keep{keep}.py'), data,
                             max_iters=MAX_ITERS, ckpt_interval=INTERVAL,
                             extra=extra)


def _train(cfg, work, *extra):
    proc = subprocess.run([sys.executable, TRAIN, cfg, '--work-dir', str(work), *extra],
                          env=_env(), capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def _kill_at(cfg, work, phase: str, run: int) -> None:
    """Train (``--resume`` after the first run) until paused at ``phase``; SIGKILL."""
    announce = work.parent / f'{work.name}.paused{run}'
    log_file = work.parent / f'{work.name}.log{run}'
    resume = ['--resume'] if run else []
    with open(log_file, 'w') as log:
        proc = subprocess.Popen(
            [sys.executable, TRAIN, cfg, '--work-dir', str(work), *resume], stdout=log,
            stderr=subprocess.STDOUT,
            env=_env(FCN_TEST_PAUSE=phase, FCN_TEST_ANNOUNCE=str(announce)))
        try:
            deadline = time.monotonic() + 900
            while not announce.exists():
                assert proc.poll() is None, log_file.read_text()[-3000:]
                assert time.monotonic() < deadline, f'never reached {phase}'
                time.sleep(0.05)
            os.kill(proc.pid, signal.SIGKILL)  # kill -9, from outside
            assert proc.wait(timeout=60) == -signal.SIGKILL
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _weights(path):
    return torch.load(path, map_location='cpu', weights_only=False)['state_dict']


def _assert_same(path, reference):
    got, expected = _weights(path), _weights(reference)
    assert got.keys() == expected.keys(), path
    for key, value in expected.items():
        assert torch.equal(got[key], value), f'{path}: {key}'


def _temp_files(work):
    return sorted(n for n in os.listdir(work) if '.tmp-' in n)


def _pointer(work):
    return osp.basename((work / 'last_checkpoint').read_text())


def _check_after_kill(work, phase, keep, full_size):
    """What each kill leaves: a resume point that loads, nothing half-written in
    place of a checkpoint."""
    if phase == 'mid-write:iter_4.pth:1':
        temp, = _temp_files(work)
        assert temp.startswith('.iter_4.pth.tmp-')
        assert 0 < (work / temp).stat().st_size < full_size  # killed mid-write
        assert not (work / 'iter_4.pth').exists()
        assert _pointer(work) == 'iter_2.pth' and (work / 'iter_2.pth').is_file()
    elif phase == 'mid-write:last_checkpoint:1':
        temp, = _temp_files(work)
        assert temp.startswith('.last_checkpoint.tmp-')
        assert _pointer(work) == 'iter_2.pth' and (work / 'iter_2.pth').is_file()
        assert (work / 'iter_4.pth').is_file()  # complete: compared below
    elif phase == 'before-remove:iter_2.pth:1':
        assert _temp_files(work) == [] and _pointer(work) == 'iter_4.pth'
        assert (work / 'iter_2.pth').is_file() and (work / 'iter_4.pth').is_file()
    else:  # mid-iteration 5
        assert _pointer(work) == 'iter_4.pth' and (work / 'iter_4.pth').is_file()


def _run_chain(cfg, work, keep, reference, straight):
    for run, phase in enumerate(CHAINS[keep]):
        _kill_at(cfg, work, phase, run)
        straight.result()  # the reference run, started alongside, has finished
        _check_after_kill(work, phase, keep,
                          (reference / 'iter_4.pth').stat().st_size)
        for name in os.listdir(work):
            if name.startswith('iter_'):  # every complete checkpoint is right
                _assert_same(work / name, reference / name)
    log = _train(cfg, work, '--resume')
    assert 'resumed epoch: 0' in log
    assert _temp_files(work) == []
    kept = sorted(n for n in os.listdir(work) if n.startswith('iter_'))
    assert kept == (['iter_6.pth'] if keep == 1 else
                    ['iter_2.pth', 'iter_4.pth', 'iter_6.pth'])
    _assert_same(work / 'iter_6.pth', reference / 'iter_6.pth')


def test_kill_at_every_phase_then_resume_is_bit_identical(tmp_path):
    data = make_tiny_data(str(tmp_path / 'data'), n_train=4)
    configs = {keep: _config(tmp_path, data, keep) for keep in CHAINS}
    reference = tmp_path / 'reference'
    with ThreadPoolExecutor(max_workers=3) as pool:
        straight = pool.submit(_train, configs[-1], reference)
        chains = [pool.submit(_run_chain, configs[keep], tmp_path / f'keep{keep}', keep,
                              reference, straight) for keep in CHAINS]
        for future in [straight] + chains:
            future.result()
    assert (reference / 'iter_4.pth').stat().st_size > 90e6, 'a large checkpoint'
    # equal weights mean something: training moved them after iteration 2
    early, final = _weights(reference / 'iter_2.pth'), _weights(reference / 'iter_6.pth')
    for key in ('backbone.conv1_1.weight', 'backbone.fc7.weight',
                'decode_head.score_fr.weight', 'decode_head.score_pool3.weight'):
        assert not torch.equal(early[key], final[key]), key
