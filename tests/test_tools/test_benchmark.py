"""tools/benchmark.py: a quick run writes complete JSON and Markdown (no timing
assertions: only that every figure is there and positive)."""
import importlib.util
import json
import os.path as osp

import pytest
import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BENCH = osp.join(REPO, 'tools', 'benchmark.py')
#: Smaller than --quick's defaults, so the whole file takes seconds.
TINY = ['--quick', '--size', '40', '52', '--widths', '4', '8', '8', '16', '16',
        '--fc-channels', '16', '--reps', '1', '--train-reps', '1',
        '--gemm-size', '256', '--gemm-reps', '2', '--threads', '1']


@pytest.fixture(scope='module')
def bench():
    spec = importlib.util.spec_from_file_location('fcn_benchmark', BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _positive(*values):
    return all(isinstance(v, (int, float)) and v > 0 for v in values)


def _check_phase(stats):
    assert _positive(stats['median_s'], stats['best_s'], stats['flops'],
                     stats['images_per_s'], stats['gflops_per_s_best'],
                     stats['peak_fraction_best'])
    assert stats['best_s'] <= stats['median_s']
    assert stats['peak_memory_mib'] >= 0 and stats['memory_method']


@pytest.fixture(scope='module')
def quick_run(bench, tmp_path_factory):
    tmp = tmp_path_factory.mktemp('bench')
    out, md = str(tmp / 'results.json'), str(tmp / 'benchmarks.md')
    torch_threads = torch.get_num_threads()
    try:
        returned = bench.main(TINY + [
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
    assert _positive(peak['best_gflops'], peak['median_gflops'])

    names = [m['name'] for m in results['models']]
    assert names == ['plain FCN-8s (baseline) [fp32]', 'FCN-32s [fp32]',
                     'FCN-8s [fp32]', 'FCN-8s +optimize_fcn +freeze [fp32]']
    for m in results['models']:
        assert m['params'] > 0
        _check_phase(m['inference'])
        _check_phase(m['training'])
    optimized = results['models'][-1]
    assert optimized['frozen'] and optimized['equivalence']['equal_within_1e-4']
    # the dense upscores of the baseline count more FLOPs than our depthwise ones
    base, ours8 = results['models'][0], results['models'][2]
    assert ours8['inference']['flops'] < base['inference']['flops']
    assert optimized['inference']['flops'] == ours8['inference']['flops']

    assert [r['name'] for r in results['ratios']] == names[1:]
    for r in results['ratios']:
        assert _positive(r['inference_time_ratio_median'],
                         r['training_time_ratio_median'],
                         r['training_memory_ratio'], r['training_flop_ratio'])
    assert len(results['targets']) == 6  # 3 targets x (FCN-8s, optimised)
    assert all(isinstance(t['met'], bool) for t in results['targets'])

    assert len(results['data']) == 3
    for d in results['data']:
        assert _positive(d['samples_per_s'], d['ms_per_sample'],
                         d['model_train_samples_per_s'], d['workers_needed'])
        assert isinstance(d['starves_model'], bool)
    polyps = results['data'][-1]
    assert polyps['output_shape'] == [3, 224, 224]  # the config's crop


def test_markdown_states_command_machine_and_targets(quick_run):
    _, results, markdown = quick_run
    assert results['command'] in markdown
    assert results['machine']['cpu_model'] in markdown
    assert results['date'] in markdown
    for title in ('## GEMM peak', '## Inference', '## Training',
                  '## Ours / baseline', '## Targets', '## Data pipelines',
                  '## Findings', '## How to read this'):
        assert title in markdown


def test_isolated_worker_process(bench):
    """The default mode: each case in its own process, driven over a pipe."""
    args = bench.parse_args(TINY + ['--variants', '8s', '--no-baseline',
                                    '--no-optimized'])
    plain, spec = bench.case_specs(args)
    # the allocator setting is process-wide: a worker of its own
    assert plain['kind'] == spec['kind'] == 'ours' and not plain.get('tune_malloc')
    assert spec['tune_malloc'] is True
    probe = bench.GemmProbe(torch.device('cpu'), size=128, reps=1)
    (result, ) = bench.measure([spec], isolate=True, probes=[probe])
    assert result['name'] == 'FCN-8s +malloc [fp32]' and result['threads'] == 1
    assert result['malloc_tuned'] is True
    _check_phase(dict(result['inference'], peak_fraction_best=1))
    _check_phase(dict(result['training'], peak_fraction_best=1))
    # sampled once the worker was ready and after each round of steps
    assert probe.result()['samples'] == 3


def test_malloc_rows_have_a_like_for_like_baseline(bench):
    args = bench.parse_args(TINY + ['--variants', '8s'])
    names = [bench.case_name(s) for s in bench.case_specs(args)]
    assert names == ['plain FCN-8s (baseline) [fp32]',
                     'plain FCN-8s (baseline) +malloc [fp32]', 'FCN-8s [fp32]',
                     'FCN-8s +malloc [fp32]',
                     'FCN-8s +optimize_fcn +freeze +malloc [fp32]']
    phase = dict(median_s=1.0, best_s=1.0, flops=10, peak_memory_mib=100.0,
                 gflops_per_s_best=1.0, gflops_per_s_median=1.0)

    def fake(spec, seconds, mib):
        return dict(spec=spec, name=bench.case_name(spec),
                    inference=dict(phase), training=dict(
                        phase, median_s=seconds, best_s=seconds, peak_memory_mib=mib))

    specs = bench.case_specs(args)
    models = [fake(specs[0], 10.0, 1000.0), fake(specs[1], 8.0, 1300.0),
              fake(specs[2], 9.0, 900.0), fake(specs[3], 7.0, 1100.0)]
    ratios, targets = bench.compare(models, {'float32': dict(best_gflops=2.0)})
    pairs = [(r['name'], r['baseline'], r['training_time_ratio_median'],
              r['training_memory_ratio']) for r in ratios]
    assert pairs == [
        ('FCN-8s [fp32]', 'plain FCN-8s (baseline) [fp32]', 0.9, 0.9),
        ('FCN-8s +malloc [fp32]', 'plain FCN-8s (baseline) [fp32]', 0.7, 1.1),
        ('FCN-8s +malloc [fp32]', 'plain FCN-8s (baseline) +malloc [fp32]',
         7 / 8, 1100 / 1300)]
    verdicts = [(t['model'], t['baseline'], t['target'].split()[0], t['met'])
                for t in targets]
    assert verdicts == [
        ('FCN-8s [fp32]', '-', 'inference', False),  # 1 / 2 of the GEMM peak
        ('FCN-8s [fp32]', 'plain FCN-8s (baseline) [fp32]', 'training', False),
        ('FCN-8s [fp32]', 'plain FCN-8s (baseline) [fp32]', 'peak', True),
        ('FCN-8s +malloc [fp32]', '-', 'inference', False),
        ('FCN-8s +malloc [fp32]', 'plain FCN-8s (baseline) [fp32]', 'training', True),
        ('FCN-8s +malloc [fp32]', 'plain FCN-8s (baseline) [fp32]', 'peak', False),
        ('FCN-8s +malloc [fp32]', 'plain FCN-8s (baseline) +malloc [fp32]',
         'training', False),
        ('FCN-8s +malloc [fp32]', 'plain FCN-8s (baseline) +malloc [fp32]',
         'peak', True)]


def test_worker_errors_name_the_case(bench):
    args = bench.parse_args(TINY + ['--variants', '8s', '--no-baseline',
                                    '--no-optimized'])
    spec = bench.case_specs(args)[0]
    spec['mode'] = 'fp64'  # not a mode: fails early in the worker
    with pytest.raises(RuntimeError, match=r"FCN-8s \[fp64\] failed(.|\n)*'fp64'"):
        bench.measure([spec], isolate=True)


def test_peak_memory_sees_an_allocation(bench):
    with bench.PeakMemory(torch.device('cpu')) as mem:
        x = torch.ones(16 * 2**20 // 4)  # 16 MiB, touched
        del x
    assert mem.peak_bytes >= 15 * 2**20, mem.method


def test_cuda_is_refused_without_a_gpu(bench):
    if torch.cuda.is_available():
        pytest.skip('a GPU is present')
    with pytest.raises(SystemExit, match='cuda'):
        bench.main(['--device', 'cuda', '--no-data'])
