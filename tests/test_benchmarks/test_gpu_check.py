"""benchmarks/gpu_check.sh: the script a GPU session runs, in its CPU dry run (a tiny
version of every step), so that a lent GPU's minutes are not lost to a typo."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

from tests.conftest import free_port

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPT = osp.join(REPO, 'benchmarks', 'gpu_check.sh')
STEPS = ('data', 'b1', 'b16', 'train', 'dist', 'test', 'sync')
FILES = {'summary.txt', 'log.txt', 'env.txt', 'bench_b1.json', 'bench_b16.json',
         'bench.md', 'sync.json'}


def test_script_parses_and_asks_for_an_out_dir():
    assert subprocess.run(['bash', '-n', SCRIPT]).returncode == 0
    run = subprocess.run(['bash', SCRIPT], capture_output=True, text=True)
    assert run.returncode == 2 and 'usage' in run.stderr


@pytest.fixture(scope='module')
def dry_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('gpu_check')
    out = tmp / 'out'
    env = dict(os.environ, PYTHON=sys.executable, TMPDIR=str(tmp),
               PORT=str(free_port()))
    run = subprocess.run(['bash', SCRIPT, '--dry-run', str(out)], cwd=str(tmp),
                         env=env, capture_output=True, text=True, timeout=1200)
    return run, out


def test_dry_run_runs_every_step(dry_run):
    run, out = dry_run
    log = (out / 'log.txt').read_text() if (out / 'log.txt').exists() else ''
    assert run.returncode == 0, run.stdout + log[-6000:]
    assert {p.name for p in out.iterdir()} == FILES  # at most 8 files come back
    summary = (out / 'summary.txt').read_text()
    for step in STEPS:
        assert any(line.split()[:2] == [step, 'ok'] for line in summary.splitlines()), (
            step, summary)
    assert 'failed steps: 0' in summary
    assert not list(out.parent.glob('gpu_check.*'))  # the work dir is removed


def test_dry_run_results(dry_run):
    _, out = dry_run
    b1 = json.loads((out / 'bench_b1.json').read_text())
    assert b1['settings']['modes'] == ['fp32', 'bf16-cl']
    assert [m['name'] for m in b1['models']] == [
        'plain FCN-8s (baseline) [fp32]', 'FCN-8s [fp32]',
        'plain FCN-8s (baseline) [bf16-cl]', 'FCN-8s [bf16-cl]']
    assert set(b1['gemm_peak']) == {'float32', 'bfloat16'}
    assert all('training' in m for m in b1['models'])
    voc = b1['data'][0]
    assert voc['workers_needed'] >= 1 and voc['gpu_rate']['images_per_s'] > 0
    b16 = json.loads((out / 'bench_b16.json').read_text())
    assert b16['settings']['batch'] == 2 and b16['settings']['cudnn_benchmark']
    assert 'data' not in b16
    sync = json.loads((out / 'sync.json').read_text())
    assert sync['device'] == 'cpu' and [w['mode'] for w in sync['windows']] == [
        'warn', 'error']
    # the train step's checkpoint was tested: tools/test.py printed its metrics
    test_output = (out / 'log.txt').read_text().split('=== test: ')[1]
    assert 'Iter(test) [1/1]' in test_output and 'mIoU:' in test_output
    assert (out / 'bench.md').read_text().count('# Benchmarks') == 2
