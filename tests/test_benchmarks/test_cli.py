"""A quick benchmark run writes complete JSON and Markdown (no timing assertions:
only that every figure is there and positive); tools/benchmark.py runs from a clone."""
import json
import os.path as osp
import subprocess
import sys

import pytest
import torch

from benchmarks import cli
from benchmarks.data import PIPELINES, WORKER_HEADROOM, workers_needed

from .conftest import TINY, check_phase, positive

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def quick_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('bench')
    out, md = str(tmp / 'results.json'), str(tmp / 'benchmarks.md')
    torch_threads = torch.get_num_threads()
    try:
        returned = cli.main(TINY + [
            '--no-isolate', '--variants', '32s', '8s', '--data-samples', '2',
            '--data-reps', '1', '--out', out, '--markdown', md])
    finally:
        torch.set_num_threads(torch_threads)
    with open(out) as f:
        results = json.load(f)
    with open(md) as f:
        markdown = f.read()
    return returned, results, markdown


def test_json_has_every_figure(quick_run):
    _, results, _ = quick_run
    machine = results['machine']
    assert machine['cpu_model'] and machine['torch'] == torch.__version__
    assert results['settings']['threads'] == 1
    assert results['command'].startswith('python tools/benchmark.py --quick')
    peak = results['gemm_peak']['float32']
    assert positive(peak['best_gflops'], peak['median_gflops'])

    names = [m['name'] for m in results['models']]
    assert names == ['plain FCN-8s (baseline) [fp32]', 'FCN-32s [fp32]',
                     'FCN-8s [fp32]', 'FCN-8s +freeze [fp32]']
    for m in results['models']:
        assert m['params'] > 0
        check_phase(m['inference'])
        check_phase(m['training'])
    optimized = results['models'][-1]
    assert optimized['frozen'] and optimized['equivalence']['equal_within_1e-4']
    # the dense upscores of the baseline count more FLOPs than our depthwise ones
    base, ours8 = results['models'][0], results['models'][2]
    assert ours8['inference']['flops'] < base['inference']['flops']
    assert optimized['inference']['flops'] == ours8['inference']['flops']

    assert [r['name'] for r in results['ratios']] == names[1:]
    for r in results['ratios']:
        assert positive(r['inference_time_ratio_median'],
                        r['training_time_ratio_median'],
                        r['training_memory_ratio'], r['training_flop_ratio'])
    assert len(results['targets']) == 6  # 3 targets x (FCN-8s, optimised)
    assert all(isinstance(t['met'], bool) for t in results['targets'])

    names = [d['name'] for d in results['data']]
    assert names == [p['name'] for p in PIPELINES]
    for d in results['data']:
        assert 'error' not in d, d.get('traceback')
        assert positive(d['samples_per_s'], d['ms_per_sample'],
                        d['model_train_samples_per_s'], d['model_workers_needed'])
        assert d['samples'] >= 2 and d['samples'] % d['batch_size'] == 0
        assert isinstance(d['starves_model'], bool)
        # the default GPU rate: from the FLOPs of its samples, for the GPU configs
        assert ('gpu_rate' in d) == d['gpu'], d['name']
    by_config = {d['config']: d for d in results['data']}
    assert by_config['fcn8s_vgg16_polyps912.py']['sample_shape'] == [3, 224, 224]
    assert by_config['fcn8s_vgg16_voc_mmseg-aug.py']['sample_shape'] == [3, 512, 512]
    assert by_config['fcn8s_vgg16_demo.py']['sample_shape'] == [3, 64, 64]
    voc = results['data'][0]
    assert voc['sample_shape'] in ([3, 375, 500], [3, 500, 375])  # whole images
    assert voc['gpu_rate']['gflop_per_image'] == pytest.approx(879.3, abs=0.1)
    assert voc['workers_needed'] == workers_needed(
        voc['gpu_rate']['images_per_s'], voc['samples_per_s'])
    assert voc['workers_needed_own_core'] == workers_needed(
        voc['gpu_rate']['images_per_s'], voc['samples_per_cpu_s'])
    assert voc['enough_workers'] == (voc['num_workers'] >=
                                     voc['workers_needed_own_core'])
    assert results['settings']['worker_headroom'] == WORKER_HEADROOM


def test_markdown_states_command_machine_and_targets(quick_run):
    _, results, markdown = quick_run
    assert results['command'] in markdown
    assert results['machine']['cpu_model'] in markdown
    assert results['date'] in markdown
    for title in ('## GEMM peak', '## Inference', '## Training',
                  '## Ours / baseline', '## Targets', '## Data pipelines',
                  '## Findings', '## How to read this'):
        assert title in markdown


def test_cuda_is_refused_without_a_gpu():
    if torch.cuda.is_available():
        pytest.skip('a GPU is present')
    with pytest.raises(SystemExit, match='cuda'):
        cli.main(['--device', 'cuda', '--no-data'])


def test_tool_runs_from_a_clone(tmp_path):
    """tools/benchmark.py finds the unshipped benchmarks package from any cwd."""
    run = subprocess.run([sys.executable, osp.join(REPO, 'tools', 'benchmark.py'),
                          '--help'], cwd=str(tmp_path), capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert '--quick' in run.stdout and '--render' in run.stdout
