"""The default mode: each case in its own process, driven over a pipe."""
import pytest
import torch

from benchmarks.cases import case_specs
from benchmarks.cli import parse_args
from benchmarks.probes import GemmProbe
from benchmarks.workers import measure

from .conftest import TINY, check_phase


def test_isolated_worker_process():
    args = parse_args(TINY + ['--variants', '8s', '--no-baseline', '--no-optimized'])
    plain, spec = case_specs(args)
    # the allocator setting is process-wide: a worker of its own
    assert plain['kind'] == spec['kind'] == 'ours' and not plain.get('tune_malloc')
    assert spec['tune_malloc'] is True
    probe = GemmProbe(torch.device('cpu'), size=128, reps=1)
    (result, ) = measure([spec], isolate=True, probes=[probe])
    assert result['name'] == 'FCN-8s +malloc [fp32]' and result['threads'] == 1
    assert result['malloc_tuned'] is True
    check_phase(dict(result['inference'], peak_fraction_best=1))
    check_phase(dict(result['training'], peak_fraction_best=1))
    # sampled once the worker was ready and after each round of steps
    assert probe.result()['samples'] == 3


def test_worker_errors_name_the_case():
    args = parse_args(TINY + ['--variants', '8s', '--no-baseline', '--no-optimized'])
    spec = case_specs(args)[0]
    spec['mode'] = 'fp64'  # not a mode: fails early in the worker
    with pytest.raises(RuntimeError, match=r"FCN-8s \[fp64\] failed(.|\n)*'fp64'"):
        measure([spec], isolate=True)
