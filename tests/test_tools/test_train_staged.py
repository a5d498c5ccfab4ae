"""Staged 32s -> 16s -> 8s training: handover through stage:// and train_staged.sh."""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from mmseg_fcn_classic.engine.stage import load_stage_checkpoint, stage_finished
from mmseg_fcn_classic.utils.commands import tool_command
from mmseg_fcn_classic.testing.narrow import make_tiny_data, write_tiny_config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: tests/probe_hook.py's ProbeHook in a tiny config
PROBE = dict(custom_hooks=('ProbeHook', ), custom_imports=('tests.probe_hook', ))


def _stage_configs(tmp_path, data):
    names = {(): 'tiny32s', ('pool4', ): 'tiny16s', ('pool4', 'pool3'): 'tiny8s'}
    paths = []
    for skips, name in names.items():
        paths.append(write_tiny_config(str(tmp_path / f'{name}.py'), data,
                                       max_iters=2, ckpt_interval=2, skips=skips,
                                       **PROBE))
    return paths


def test_staged_handover(tmp_path):
    data = make_tiny_data(str(tmp_path / 'data'), n_train=4)
    configs = _stage_configs(tmp_path, data)
    env = dict(os.environ, PYTHON=sys.executable, STAGES=' '.join(configs),
               WORK_ROOT=str(tmp_path / 'runs'), OMP_NUM_THREADS='1',
               PYTHONPATH=REPO + os.pathsep + os.environ.get('PYTHONPATH', ''))
    cmd = ['bash', osp.join(REPO, 'tools', 'train_staged.sh')]
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    probe = {n: torch.load(tmp_path / 'runs' / n / 'probe_rank0.pth', weights_only=False)
             for n in ('tiny32s', 'tiny16s', 'tiny8s')}
    for prev, cur, new in (('tiny32s', 'tiny16s', 'score_pool4'),
                           ('tiny16s', 'tiny8s', 'score_pool3')):
        start, before = probe[cur]['start'], probe[prev]['end']
        assert probe[cur]['start_iter'] == 0
        for suffix in ('weight', 'bias'):
            assert torch.count_nonzero(start[f'decode_head.{new}.{suffix}']) == 0
        carried = [k for k in start if k in before and 'upscore' not in k]
        assert any(k.startswith('backbone.') for k in carried)
        assert 'decode_head.score_fr.weight' in carried
        for key in carried:
            torch.testing.assert_close(start[key], before[key], msg=key)
        # the previous stage really trained, so "equal" is not "both at init"
        assert not torch.equal(before['decode_head.score_fr.weight'],
                               probe[prev]['start']['decode_head.score_fr.weight'])
    # re-running skips the finished stages
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0 and proc.stdout.count('skipping') == 3, proc.stdout


def _stage_ckpt(path, step, max_iters, cfg=''):
    """A runner checkpoint at ``step`` whose message hub records ``max_iters``."""
    torch.save({'meta': {'iter': step, 'epoch': 0, 'cfg': cfg},
                'state_dict': {'w': torch.ones(1)},
                'message_hub': {'runtime_info': {'max_iters': max_iters}}}, path)


def test_stage_loader_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='last_checkpoint') as err:
        load_stage_checkpoint('stage://' + str(tmp_path / 'missing'))
    message = str(err.value)  # what an installed user runs, then the clone's script
    installed = tool_command('train', 'STAGE_CONFIG --work-dir WORK_DIR')
    assert message.index(installed) < message.index('tools/train_staged.sh')
    assert not stage_finished(str(tmp_path / 'missing'))
    # an unfinished stage: checkpoint at iteration 2 of 4
    work = tmp_path / 'half'
    work.mkdir()
    ckpt = work / 'iter_2.pth'
    _stage_ckpt(ckpt, 2, 4)
    (work / 'last_checkpoint').write_text(str(ckpt))
    with pytest.raises(RuntimeError, match='iteration 2 of 4') as err:
        load_stage_checkpoint('stage://' + str(work))
    assert tool_command('train', f'STAGE_CONFIG --work-dir {work} --resume') in \
        str(err.value)
    _stage_ckpt(ckpt, 4, 4)
    assert stage_finished(str(work))


def test_stage_never_parses_the_stored_config(tmp_path):
    """Issue 20's payload: a 232 KB plain-data config on which the old regex for
    max_iters took 18 s (hours on a few MB). stage:// reads both numbers as data."""
    import time
    hostile = 'train_cfg = dict(\n' * 13_000
    assert len(hostile) > 230_000
    work = tmp_path / 'stage'
    work.mkdir()
    _stage_ckpt(work / 'iter_2.pth', 2, 4, cfg=hostile)
    (work / 'last_checkpoint').write_text(str(work / 'iter_2.pth'))
    start = time.monotonic()
    with pytest.raises(RuntimeError, match='iteration 2 of 4'):
        load_stage_checkpoint('stage://' + str(work))
    _stage_ckpt(work / 'iter_2.pth', 4, 4, cfg=hostile * 8)  # 1.9 MB
    assert stage_finished(str(work))
    assert time.monotonic() - start < 10


def test_staged_resume_does_not_trust_a_work_dir(tmp_path):
    """train_staged.sh always passes a bare --resume: a last_checkpoint saying
    trusted:// must not turn full unpickling on."""
    from tests.test_engine.conftest import WriteMarker
    data = make_tiny_data(str(tmp_path / 'data'), n_train=4)
    config = write_tiny_config(str(tmp_path / 'tiny32s.py'), data, max_iters=2,
                               ckpt_interval=2, skips=())
    marker = tmp_path / 'PWNED'
    work = tmp_path / 'runs' / 'tiny32s'
    work.mkdir(parents=True)
    torch.save({'meta': {'iter': 1, 'epoch': 0}, 'state_dict': {},
                'message_hub': {}, 'x': WriteMarker(marker)}, work / 'iter_1.pth')
    (work / 'last_checkpoint').write_text(f'trusted://{work / "iter_1.pth"}')
    env = dict(os.environ, PYTHON=sys.executable, STAGES=config,
               WORK_ROOT=str(tmp_path / 'runs'), OMP_NUM_THREADS='1',
               PYTHONPATH=REPO + os.pathsep + os.environ.get('PYTHONPATH', ''))
    proc = subprocess.run(['bash', osp.join(REPO, 'tools', 'train_staged.sh')],
                          cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode != 0
    assert f"{work / 'last_checkpoint'} names 'trusted://" in proc.stderr
    assert not marker.exists()


def test_stage_checkpoint_falls_back_when_last_checkpoint_is_garbled(tmp_path):
    work = tmp_path / 'done'
    work.mkdir()
    _stage_ckpt(work / 'iter_4.pth', 4, 4)
    (work / 'last_checkpoint').write_bytes(b'')  # killed between truncate and write
    assert stage_finished(str(work))
    (work / 'last_checkpoint').write_text('stage:///elsewhere')
    with pytest.raises(ValueError, match='must be a plain local path'):
        load_stage_checkpoint('stage://' + str(work))
