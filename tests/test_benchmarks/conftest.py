"""What the benchmark tests share: a run smaller than ``--quick``'s."""
from mmseg_fcn_classic.testing.narrow import FC_CHANNELS, WIDTHS

#: Smaller than --quick's defaults, so the whole run takes seconds.
TINY = ['--quick', '--size', '40', '52', '--widths', *map(str, WIDTHS),
        '--fc-channels', str(FC_CHANNELS), '--reps', '1', '--train-reps', '1',
        '--gemm-size', '256', '--gemm-reps', '2', '--threads', '1']


def positive(*values):
    return all(isinstance(v, (int, float)) and v > 0 for v in values)


def check_phase(stats):
    assert positive(stats['median_s'], stats['best_s'], stats['flops'],
                    stats['images_per_s'], stats['gflops_per_s_best'],
                    stats['peak_fraction_best'])
    assert stats['best_s'] <= stats['median_s']
    assert stats['peak_memory_mib'] >= 0 and stats['memory_method']
