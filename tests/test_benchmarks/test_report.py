"""Every +malloc row has a like-for-like baseline, and the targets are judged
against each baseline."""
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
