"""Every +malloc row has a like-for-like baseline, and the targets are judged
against each baseline."""
import pytest

from benchmarks.cases import case_name, case_specs
from benchmarks.cli import parse_args
from benchmarks.report import compare

from .conftest import TINY


def test_malloc_rows_have_a_like_for_like_baseline():
    args = parse_args(TINY + ['--variants', '8s'])
    names = [case_name(s) for s in case_specs(args)]
    assert names == ['plain FCN-8s (baseline) [fp32]',
                     'plain FCN-8s (baseline) +malloc [fp32]', 'FCN-8s [fp32]',
                     'FCN-8s +malloc [fp32]',
                     'FCN-8s +freeze +malloc [fp32]']
    phase = dict(median_s=1.0, best_s=1.0, flops=10, peak_memory_mib=100.0,
                 gflops_per_s_best=1.0, gflops_per_s_median=1.0)

    def fake(spec, seconds, mib):
        return dict(spec=spec, name=case_name(spec),
                    inference=dict(phase), training=dict(
                        phase, median_s=seconds, best_s=seconds, peak_memory_mib=mib))

    specs = case_specs(args)
    models = [fake(specs[0], 10.0, 1000.0), fake(specs[1], 8.0, 1300.0),
              fake(specs[2], 9.0, 900.0), fake(specs[3], 7.0, 1100.0)]
    ratios, targets = compare(models, {'float32': dict(best_gflops=2.0)})
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


def test_gpu_targets_no_overhead_and_half_the_bf16_peak_at_batch_16():
    """Issue 12 on CUDA: training <= 1.0x the plain baseline (same mode), and at
    batch >= 16 in bf16, >= 50% of the bf16 GEMM peak; the fp32 rows are compared
    with the fp32 peak and the bf16 rows with the bf16 one."""
    def run(batch):
        args = parse_args(['--device', 'cuda', '--variants', '8s', '--batch',
                           str(batch), '--size', '512', '512'])
        assert args.modes == ['fp32', 'bf16-cl'] and args.gemm_size == 8192
        assert (args.warmup, args.reps, args.train_reps) == (3, 10, 10)
        specs = case_specs(args)
        assert [case_name(s) for s in specs] == [
            'plain FCN-8s (baseline) [fp32]', 'FCN-8s [fp32]',
            'plain FCN-8s (baseline) [bf16-cl]', 'FCN-8s [bf16-cl]']
        flops = 1000e9 * batch
        models = [dict(spec=s, name=case_name(s), training=dict(
            median_s=t, best_s=t, flops=flops, peak_memory_mib=1.0,
            gflops_per_s_best=flops / t / 1e9, gflops_per_s_median=flops / t / 1e9))
            for s, t in zip(specs, (1.0, 0.9, 0.5, 0.55))]
        peaks = {'float32': dict(best_gflops=50e3), 'bfloat16': dict(best_gflops=800e3)}
        return models, compare(models, peaks)[1]

    models, targets = run(16)
    assert models[1]['training']['peak_fraction_median'] == pytest.approx(16 / 0.9 / 50)
    assert models[3]['training']['peak_fraction_median'] == pytest.approx(
        16 / 0.55 / 800)
    verdicts = [(t['model'], t['target'].split(' (')[0], round(t['value'], 3), t['met'])
                for t in targets]
    assert verdicts == [
        ('FCN-8s [fp32]', 'training step <= 1.0x baseline', 0.9, True),
        ('FCN-8s [bf16-cl]', 'training >= 50% of bf16 GEMM peak',
         round(16 / 0.55 / 800, 3), False),
        ('FCN-8s [bf16-cl]', 'training step <= 1.0x baseline', 1.1, False)]
    _, targets = run(1)  # the peak target is for batch >= 16
    assert [t['target'].split(' (')[0] for t in targets] == [
        'training step <= 1.0x baseline'] * 2
