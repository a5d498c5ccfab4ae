"""tools/train.py, --resume, exact resume and CPU multi-process training."""
import os
import os.path as osp
import re
import signal
import subprocess
import sys
import time

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmseg_fcn_classic.testing.narrow import make_tiny_data, write_tiny_config
from tests.conftest import free_port, warning_lines

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: tests/probe_hook.py's ProbeHook in a tiny config
PROBE = dict(custom_hooks=('ProbeHook', ), custom_imports=('tests.probe_hook', ))
TRAIN = osp.join(REPO, 'tools', 'train.py')


def _env(**extra):
    env = dict(os.environ)
    env['PYTHONPATH'] = REPO + os.pathsep + env.get('PYTHONPATH', '')
    env.setdefault('OMP_NUM_THREADS', '1')
    env.update(extra)
    return env


def _run(cmd, cwd, **env):
    proc = subprocess.run(cmd, cwd=cwd, env=_env(**env), capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return proc.stdout + proc.stderr


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    return make_tiny_data(str(tmp_path_factory.mktemp('polyps')))


def test_train_save_then_resume_continues(tmp_path, tiny_data):
    cfg = write_tiny_config(str(tmp_path / 'tiny.py'), tiny_data, max_iters=2,
                            ckpt_interval=2)
    work = str(tmp_path / 'work')
    _run([sys.executable, TRAIN, cfg, '--work-dir', work], cwd=tmp_path)
    assert osp.isfile(osp.join(work, 'iter_2.pth'))
    # torch 2.13 + mmengine 0.10.7: the runner's own checkpoint must resume
    log = _run([sys.executable, TRAIN, cfg, '--work-dir', work, '--resume',
                '--cfg-options', 'train_cfg.max_iters=4'], cwd=tmp_path)
    assert 'resumed epoch: 0, iter: 2' in log
    assert re.search(r'Iter\(train\) \[3/4\]', log), log[-3000:]
    ckpt = torch.load(osp.join(work, 'iter_4.pth'), weights_only=False)
    assert ckpt['meta']['iter'] == 4
    assert len(ckpt['rng_states']) == 1

    # load_from / init_model read the runner's own checkpoint too
    from mmseg.apis import init_model
    model = init_model(cfg, osp.join(work, 'iter_4.pth'), device='cpu')
    torch.testing.assert_close(model.state_dict()['decode_head.score_fr.weight'],
                               ckpt['state_dict']['decode_head.score_fr.weight'])

    # tools/test.py on it: metrics, label pngs (--out) and overlays (--show-dir)
    out, show = tmp_path / 'preds', 'overlays'
    log = _run([sys.executable, osp.join(REPO, 'tools', 'test.py'), cfg,
                osp.join(work, 'iter_4.pth'), '--work-dir', work, '--out', str(out),
                '--show-dir', show], cwd=tmp_path)
    assert re.search(r'mIoU: \d', log), log[-2000:]
    assert '--keep-freed-memory: glibc keeps freed memory: True' in log  # test.py's default
    assert len(list(out.glob('*.png'))) == 2  # the 2 test frames
    assert len(list((tmp_path / show).rglob('*.png'))) == 2
    assert warning_lines(log) == []  # FCNSegVisualizationHook drawing, FCNMetric


def test_resume_without_checkpoint_starts_fresh(tmp_path, tiny_data):
    cfg = write_tiny_config(str(tmp_path / 'tiny.py'), tiny_data, max_iters=1,
                            ckpt_interval=1)
    work = str(tmp_path / 'work')
    log = _run([sys.executable, TRAIN, cfg, '--work-dir', work, '--resume',
                '--keep-freed-memory'], cwd=tmp_path)
    assert 'no checkpoint in' in log and osp.isfile(osp.join(work, 'iter_1.pth'))
    assert '--keep-freed-memory: glibc keeps freed memory: True' in log


class _Interrupt(Exception):
    pass


def _runner(cfg_path, work_dir, **overrides):
    cfg = Config.fromfile(cfg_path)
    cfg.work_dir = work_dir
    for key, value in overrides.items():  # replace whole top-level keys
        cfg[key] = value
    return Runner.from_cfg(cfg)


def test_exact_resume_matches_uninterrupted(tmp_path, tiny_data):
    """Killed after iteration 3 of 6, resumed: same weights as a straight run.

    SGD with momentum 0.99 (momentum buffers matter), dropout in fc6/fc7 (torch RNG
    matters), random crops and flips (data order and numpy RNG matter).
    """
    from mmseg.registry import HOOKS
    from mmengine.hooks import Hook

    @HOOKS.register_module(force=True)
    class _KillAfter(Hook):
        priority = 'LOWEST'  # after CheckpointHook has written the checkpoint

        def __init__(self, at):
            self.at = at

        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            if runner.iter + 1 == self.at:
                raise _Interrupt

    opt = dict(optim_wrapper=dict(
        type='OptimWrapper',
        optimizer=dict(type='SGD', lr=0.01, momentum=0.99, weight_decay=5e-4),
        paramwise_cfg=dict(bias_lr_mult=2.0, bias_decay_mult=0.0)))
    cfg = write_tiny_config(str(tmp_path / 'tiny.py'), tiny_data, max_iters=6,
                            ckpt_interval=3)

    straight = _runner(cfg, str(tmp_path / 'straight'), **opt)
    straight.train()
    expected = {k: v.clone() for k, v in straight.model.state_dict().items()}

    broken = _runner(cfg, str(tmp_path / 'resumed'), **opt,
                     custom_hooks=[dict(type='ExactResumeHook'),
                                   dict(type='_KillAfter', at=3)])
    with pytest.raises(_Interrupt):
        broken.train()
    assert osp.isfile(str(tmp_path / 'resumed' / 'iter_3.pth'))
    resumed = _runner(cfg, str(tmp_path / 'resumed'), **opt, resume=True)
    resumed.train()
    assert resumed.iter == 6
    got = resumed.model.state_dict()
    for key, value in expected.items():
        torch.testing.assert_close(got[key], value, rtol=1e-5, atol=1e-6, msg=key)
    # the run really trained: weights moved away from their initialisation
    init = _runner(cfg, str(tmp_path / 'init'), **opt)
    init._init_model_weights()
    moved = [k for k, v in init.model.state_dict().items()
             if not torch.allclose(v, expected[k])]
    assert any(k.startswith('backbone.conv') for k in moved)
    assert 'decode_head.score_fr.weight' in moved


def test_dist_train_two_cpu_processes(tmp_path, tiny_data):
    """tools/dist_train.sh CONFIG 2 on CPU: gloo, DDP with device_ids=None."""
    cfg = write_tiny_config(str(tmp_path / 'tiny.py'), tiny_data, max_iters=3,
                            ckpt_interval=3, **PROBE)
    work = str(tmp_path / 'work')
    log = _run(['bash', osp.join(REPO, 'tools', 'dist_train.sh'), cfg, '2',
                '--work-dir', work], cwd=tmp_path, PYTHON=sys.executable,
               PORT=str(free_port()), CUDA_VISIBLE_DEVICES='')
    assert 'Distributed training is not used' not in log
    probes = [torch.load(osp.join(work, f'probe_rank{r}.pth'), weights_only=False)
              for r in (0, 1)]
    assert [p['world_size'] for p in probes] == [2, 2]
    assert [p['iters'] for p in probes] == [3, 3], 'both ranks stepped'
    assert [p['saved'] for p in probes] == [1, 0], 'rank 0 alone saved'
    for key, value in probes[0]['end'].items():
        torch.testing.assert_close(probes[1]['end'][key], value, msg=key)
    assert any(not torch.equal(probes[0]['start'][k], v)
               for k, v in probes[0]['end'].items()), 'weights changed'
    ckpt = torch.load(osp.join(work, 'iter_3.pth'), weights_only=False)
    assert len(ckpt['rng_states']) == 2
    # rank 0 held the work dir for the whole run, and released it at the end
    assert [p['lock_holder'] for p in probes] == [probes[0]['pid']] * 2
    assert probes[1]['pid'] != probes[0]['pid']
    assert not osp.exists(osp.join(work, '.train.lock'))


# ---------------------------------------------------------------- issue 11


def test_load_from_http_is_refused(tmp_path, tiny_data):
    """A malicious checkpoint on a web server never runs, whatever the scheme."""
    import functools
    import http.server
    import threading
    from tests.test_engine.conftest import WriteMarker
    marker = tmp_path / 'PWNED'
    www = tmp_path / 'www'
    www.mkdir()
    torch.save({'state_dict': {}, 'x': WriteMarker(marker)}, www / 'evil.pth')
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(www)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f'http://127.0.0.1:{server.server_address[1]}/evil.pth'
    cfg = write_tiny_config(str(tmp_path / 'tiny.py'), tiny_data)
    try:
        proc = subprocess.run(
            [sys.executable, TRAIN, cfg, '--work-dir', str(tmp_path / 'work'),
             '--cfg-options', f'load_from={url}'], cwd=tmp_path, capture_output=True,
            text=True, timeout=600, env=_env(TORCH_HOME=str(tmp_path / 'torch_home')))
    finally:
        server.shutdown()
        server.server_close()
    assert proc.returncode != 0
    assert 'Refusing to fully unpickle checkpoint' in proc.stderr and url in proc.stderr
    assert not marker.exists()


def test_bare_resume_ignores_schemes_in_last_checkpoint(tmp_path, tiny_data):
    from mmseg_fcn_classic.engine.policy import UntrustedPathError
    from mmseg_fcn_classic.tools.train import apply_resume
    work = tmp_path / 'work'
    work.mkdir()
    (work / 'last_checkpoint').write_text('trusted:///tmp/evil.pth')
    cfg = Config.fromfile(write_tiny_config(str(tmp_path / 'tiny.py'), tiny_data))
    cfg.work_dir = str(work)
    with pytest.raises(UntrustedPathError, match=str(work / 'last_checkpoint')):
        apply_resume(cfg, 'auto')
    apply_resume(cfg, 'trusted:///tmp/typed.pth')  # typed by the user: honoured
    assert cfg.load_from == 'trusted:///tmp/typed.pth' and cfg.resume


def test_test_tool_rejects_a_checkpoint_that_does_not_fit(tmp_path, tiny_data):
    from mmseg_fcn_classic.engine.weights import CheckpointMismatchError
    from mmseg_fcn_classic.tools import test as test_tool
    cfg = write_tiny_config(str(tmp_path / 'tiny.py'), tiny_data)
    ckpt = tmp_path / 'unrelated.pth'
    torch.save({'state_dict': {'foo.weight': torch.ones(2)}}, ckpt)
    args = [cfg, str(ckpt), '--work-dir', str(tmp_path / 'work'),
            '--no-keep-freed-memory']
    with pytest.raises(CheckpointMismatchError) as err:
        test_tool.main(args)
    assert f'checkpoint {ckpt} does not fit the model' in str(err.value)
    assert 'foo.weight' in str(err.value) and 'backbone.conv1_1.weight' in str(err.value)
    test_tool.main(args + ['--non-strict'])  # an explicit partial load runs


# ---------------------------------------------------------------- issue 20

from tests.test_engine import pickles  # noqa: E402

#: Runs training until the kill point named in FCN_TEST_PAUSE (kill_points.py).
KILL_POINTS = ('tests.test_engine.kill_points', )


def test_checkpoint_hook_of_a_users_config_is_upgraded(tmp_path):
    """mmseg's schedules name mmengine's CheckpointHook (a user's config mixing our
    parts into mmseg's bases keeps it): train.py upgrades it."""
    from mmengine.hooks import CheckpointHook

    from mmseg_fcn_classic.tools.train import upgrade_checkpoint_hooks

    class OwnHook(CheckpointHook):
        pass

    path = tmp_path / 'mine.py'
    path.write_text("_base_ = ['mmseg::_base_/default_runtime.py', "
                    "'mmseg::_base_/schedules/schedule_20k.py']\n"
                    'default_hooks = dict(checkpoint=dict(interval=500, '
                    'max_keep_ckpts=1, save_best="mIoU"))\n'
                    "custom_hooks = [dict(type='mmengine.CheckpointHook', interval=7)]\n")
    cfg = Config.fromfile(str(path))
    cfg.custom_hooks.append(dict(type=OwnHook))
    assert cfg.default_hooks.checkpoint.type == 'CheckpointHook'
    notes = upgrade_checkpoint_hooks(cfg)
    assert cfg.default_hooks.checkpoint == dict(  # built in mmseg's scope, as before
        type='AtomicCheckpointHook', by_epoch=False, interval=500, max_keep_ckpts=1,
        save_best='mIoU', _scope_='mmseg')
    assert cfg.custom_hooks[0] == dict(type='AtomicCheckpointHook', interval=7)
    assert cfg.custom_hooks[1]['type'] is OwnHook
    assert [level for level, _ in notes] == [20, 20, 30]
    assert notes[0][1].startswith("default_hooks.checkpoint: mmengine's CheckpointHook "
                                  'runs as AtomicCheckpointHook with the same options')
    assert 'OwnHook is kept as it is: its saves are not atomic' in notes[2][1]
    assert [level for level, _ in upgrade_checkpoint_hooks(cfg)] == [30]  # done once


def _paused_run(cmd, cwd, announce, log, **env):
    """Start training; return the process once it paused at FCN_TEST_PAUSE."""
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                            env=_env(FCN_TEST_ANNOUNCE=str(announce), **env))
    deadline = time.monotonic() + 600
    while not announce.exists():
        assert proc.poll() is None, open(log.name).read()[-3000:]
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return proc


def test_kill_mid_save_with_mmengine_hook_then_resume_past_hostile_files(
        tmp_path, tiny_data):
    """A config naming mmengine's CheckpointHook (max_keep_ckpts=1), killed -9 while
    iter_4.pth is written: iter_2.pth survives. A hostile iter_4.pth then takes
    last_checkpoint, and iter_2.pth gets issue 20's stored-config payloads: a bare
    --resume skips the first, naming it, and resumes from the second without
    running anything."""
    extra = ("default_hooks = dict(logger=dict(interval=1), "
             "visualization=dict(draw=False), checkpoint=dict(type='CheckpointHook', "
             "by_epoch=False, interval=2, max_keep_ckpts=1, save_best=None, "
             "backend_args=dict(backend='pausing_atomic_local')))\n")
    cfg = write_tiny_config(str(tmp_path / 'mine.py'), tiny_data, max_iters=6,
                            custom_imports=KILL_POINTS, extra=extra)
    work = tmp_path / 'work'
    with open(tmp_path / 'run1.log', 'w') as log:
        proc = _paused_run([sys.executable, TRAIN, cfg, '--work-dir', str(work)],
                           tmp_path, tmp_path / 'paused', log,
                           FCN_TEST_PAUSE='mid-write:iter_4.pth:1')
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    assert (tmp_path / 'run1.log').read_text().count(
        "mmengine's CheckpointHook runs as AtomicCheckpointHook") == 1
    assert (work / 'last_checkpoint').read_text() == str(work / 'iter_2.pth')
    assert [n for n in os.listdir(work) if n.startswith('.iter')] == [
        f'.iter_4.pth.tmp-{proc.pid}']  # killed half-written; iter_2 kept
    checkpoint = torch.load(work / 'iter_2.pth', weights_only=False)
    marker = tmp_path / 'PWNED'
    payload = pickles.OS_SYSTEM_CONFIG.format(marker=marker)
    checkpoint['meta'].update(cfg=payload, config=pickles.CUSTOM_IMPORTS_CONFIG)
    checkpoint['message_hub']['runtime_info']['cfg'] = payload
    torch.save(checkpoint, work / 'iter_2.pth')
    pickles.zero_size_array(work / 'iter_4.pth')
    (work / 'last_checkpoint').write_text(str(work / 'iter_4.pth'))
    (tmp_path / 'rt_evil.py').write_text(pickles.RT_EVIL.format(marker=str(marker)))

    proc = subprocess.run(  # -m: the working folder (rt_evil.py) is on sys.path
        [sys.executable, '-m', 'mmseg_fcn_classic.tools.train', cfg, '--work-dir',
         str(work), '--resume'], cwd=tmp_path, env=_env(), capture_output=True,
        text=True, timeout=300)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-3000:]
    assert f"{work / 'iter_4.pth'}: (named in {work / 'last_checkpoint'}) does not " \
        f"load (Refusing checkpoint '{work / 'iter_4.pth'}': it holds an array" in log
    assert 'resumed epoch: 0, iter: 2' in log
    assert not marker.exists()
    assert sorted(n for n in os.listdir(work) if n.endswith('.pth')) == ['iter_6.pth']
    assert not [n for n in os.listdir(work) if n.startswith('.iter')]


def test_second_run_on_a_live_work_dir_is_refused(tmp_path, tiny_data):
    """The first run, paused with its iter_2.pth half-written, is untouched by a
    second start on the same work dir, and then finishes intact."""
    from mmengine.runner.checkpoint import _load_checkpoint
    extra = ("default_hooks = dict(logger=dict(interval=1), "
             "visualization=dict(draw=False), checkpoint=dict(interval=2, "
             "save_best=None, max_keep_ckpts=-1, "
             "backend_args=dict(backend='pausing_atomic_local')))\n")
    cfg = write_tiny_config(str(tmp_path / 'tiny.py'), tiny_data, max_iters=4,
                            custom_imports=KILL_POINTS, extra=extra)
    work = tmp_path / 'work'
    go_on = tmp_path / 'continue'
    with open(tmp_path / 'first.log', 'w') as log:
        first = _paused_run([sys.executable, TRAIN, cfg, '--work-dir', str(work)],
                            tmp_path, tmp_path / 'paused', log,
                            FCN_TEST_PAUSE='mid-write:iter_2.pth:1',
                            FCN_TEST_CONTINUE=str(go_on))
        try:
            before = sorted(os.listdir(work))
            assert f'.iter_2.pth.tmp-{first.pid}' in before
            second = subprocess.run(  # the same command again: a common slip
                [sys.executable, TRAIN, cfg, '--work-dir', str(work)], cwd=tmp_path,
                env=_env(), capture_output=True, text=True, timeout=300)
            assert second.returncode == 1
            assert (f"error: work dir '{work}' is in use by another training run: "
                    f'pid {first.pid} on host ') in second.stderr
            assert sorted(os.listdir(work)) == before  # nothing written or removed
            go_on.touch()
            assert first.wait(timeout=300) == 0
        finally:
            if first.poll() is None:
                first.kill()
                first.wait()
    assert (work / 'last_checkpoint').read_text() == str(work / 'iter_4.pth')
    for step in (2, 4):
        assert _load_checkpoint(str(work / f'iter_{step}.pth'))['meta']['iter'] == step
    assert not [n for n in os.listdir(work) if n.startswith('.')]  # lock released
