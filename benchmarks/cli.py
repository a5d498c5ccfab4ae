"""The benchmark's command line (``tools/benchmark.py``, ``python -m benchmarks``).

Everything is measured on one machine in one run, so the ratios mean something:

* **Models.** FCN-32s/16s/8s (``VGG16FC`` + ``ClassicFCNHead``, 21 classes) built
  through mmseg's registry from the shipped configs
  (``configs/fcn{32,16,8}s_vgg16_voc.py``); FCN-8s again with the opt-in
  ``freeze_for_inference`` (:mod:`mmseg_fcn_classic.apis.deploy`); and
  :class:`~mmseg_fcn_classic.testing.plain_fcn.PlainFCN8s`, the straightforward
  plain-PyTorch FCN-8s, as the baseline.
* **Inference** is the runner's test step, **training** the runner's train step
  with the config's optimizer; for the baseline the same in plain PyTorch.
* **Timing**, **memory**, **FLOP/s**: see :mod:`benchmarks.workers` and
  :mod:`benchmarks.probes`. **Data** (:mod:`benchmarks.data`): samples/s of one
  loader worker for each shipped training pipeline over generated data in the
  real formats and sizes, and the workers a GPU's training rate needs.

Usage::

    # the documented CPU run: JSON, and docs/benchmarks.md regenerated
    python tools/benchmark.py --out work_dirs/benchmark/cpu.json \\
        --markdown docs/benchmarks.md
    # GPU: fp32 and bf16 autocast + channels_last
    python tools/benchmark.py --device cuda --modes fp32 bf16-cl \\
        --out work_dirs/benchmark/cuda.json
    # smoke test: narrow model, small input, few repetitions
    python tools/benchmark.py --quick --out /tmp/benchmark_quick.json
    # data loading only: samples/s per worker, workers needed for 300 images/s
    python tools/benchmark.py --data-only --gpu-rate 300
"""
import argparse
import datetime
import json
import os
import shlex
import sys
from typing import Any, Dict, Optional, Sequence, Tuple

import torch

from mmseg_fcn_classic.testing.narrow import QUICK_FC_CHANNELS, QUICK_WIDTHS

from . import report
from .cases import MODES, VARIANT_CONFIGS, case_specs, peak_dtype
from .data import (STATED_GPU_PEAK_TFLOPS, WORKER_HEADROOM, add_gpu_rate,
                   data_throughput)
from .probes import GemmProbe, load_average, machine_info
from .workers import measure


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """The options, with the defaults that depend on ``--quick`` and ``--device``."""
    parser = argparse.ArgumentParser(
        description='Benchmark the classic FCNs against a plain PyTorch FCN-8s.')
    parser.add_argument('--device', default='cpu', help="'cpu' or 'cuda[:N]'")
    parser.add_argument('--variants', nargs='+', default=['32s', '16s', '8s'],
                        choices=list(VARIANT_CONFIGS))
    parser.add_argument('--modes', nargs='+', choices=list(MODES),
                        help="pixel modes (default: 'fp32' on CPU, 'fp32 bf16-cl' "
                        'on CUDA); -cl = channels_last')
    parser.add_argument('--size', nargs=2, type=int, metavar=('H', 'W'),
                        help='input size (default 375 500; --quick 96 128)')
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument('--threads', type=int,
                        help='torch threads (default: all usable CPUs)')
    parser.add_argument('--warmup', type=int,
                        help='warm-up steps per phase, the first one counts FLOPs '
                        '(default 1; CUDA 3)')
    parser.add_argument('--reps', type=int,
                        help='timed inference steps (default 3; CUDA 10)')
    parser.add_argument('--train-reps', type=int,
                        help='timed training steps (default 3; CUDA 10)')
    parser.add_argument('--widths', nargs=5, type=int,
                        help='conv block widths (narrow smoke-test models)')
    parser.add_argument('--fc-channels', type=int, help='fc6 / fc7 width')
    parser.add_argument('--no-baseline', action='store_true')
    parser.add_argument('--no-optimized', action='store_true',
                        help='no FCN-8s +freeze row (freeze_for_inference)')
    parser.add_argument('--no-training', action='store_true')
    parser.add_argument('--no-data', action='store_true')
    parser.add_argument('--data-only', action='store_true',
                        help='measure only the data pipelines (no models, no GEMM)')
    parser.add_argument('--data-samples', type=int,
                        help='generated samples per dataset (default 12)')
    parser.add_argument('--data-reps', type=int, default=2,
                        help='timed samples per pipeline = data-samples x data-reps')
    parser.add_argument('--gpu-rate', type=float, metavar='IMAGES_PER_S',
                        help='training rate the loader workers must feed (default: '
                        'per pipeline, 50%% of the bf16 matmul peak / the FLOPs of '
                        'an FCN-8s training step on its samples)')
    parser.add_argument('--gpu-peak-tflops', type=float,
                        help='bf16 matmul peak for the default --gpu-rate (default: '
                        "the bf16 GEMM peak measured in a CUDA run, else issue 12's "
                        f'H200 figure, {STATED_GPU_PEAK_TFLOPS:.0f})')
    parser.add_argument('--worker-headroom', type=float, default=WORKER_HEADROOM,
                        help='workers needed = ceil(rate x headroom / samples/s '
                        'per worker)')
    parser.add_argument('--gemm-size', type=int,
                        help='default 4096 on the CPU, 8192 on CUDA (--quick 1024)')
    parser.add_argument('--gemm-reps', type=int, default=2,
                        help='products per GEMM sample (sampled between rounds)')
    parser.add_argument('--cudnn-benchmark', action='store_true',
                        help='the configs keep it off (images vary in size)')
    parser.add_argument('--no-isolate', action='store_true',
                        help='measure every model in this process (faster; memory '
                        'peaks then share one allocator history)')
    parser.add_argument('--quick', action='store_true',
                        help='smoke test: narrow model, 96x128 input, few reps')
    parser.add_argument('--note', help='a remark on the run conditions, printed in '
                        'the Markdown (e.g. what else was running)')
    parser.add_argument('--out', help='write the results as JSON')
    parser.add_argument('--markdown', help='write the results as Markdown')
    parser.add_argument('--no-freeze', action='store_true',
                        help='the same as --no-optimized (the +freeze row is the '
                        'optimised FCN-8s)')
    parser.add_argument('--no-malloc', action='store_true',
                        help='no +malloc rows (tune_glibc_malloc() in the '
                        'baseline, FCN-8s and FCN-8s +freeze workers)')
    parser.add_argument('--render', metavar='JSON',
                        help='measure nothing: write --markdown (and print the '
                        'tables) from the results of an earlier --out')
    args = parser.parse_args(argv)
    if args.data_only and args.no_data:
        parser.error('--data-only and --no-data leave nothing to measure')
    quick = args.quick
    cuda = args.device.startswith('cuda')  # steps of milliseconds: more of them
    if args.warmup is None:
        args.warmup = 3 if cuda else 1
    if args.size is None:
        args.size = [96, 128] if quick else [375, 500]
    if args.reps is None:
        args.reps = 2 if quick else (10 if cuda else 3)
    if args.train_reps is None:
        args.train_reps = 2 if quick else (10 if cuda else 3)
    if args.gemm_size is None:  # a GPU multiplies 4096^2 in well under a ms
        args.gemm_size = 1024 if quick else (8192 if cuda else 4096)
    if args.data_samples is None:
        args.data_samples = 3 if quick else 12
    if quick and args.widths is None:
        args.widths = list(QUICK_WIDTHS)
    if quick and args.fc_channels is None:
        args.fc_channels = QUICK_FC_CHANNELS
    if args.modes is None:
        args.modes = ['fp32', 'bf16-cl'] if cuda else ['fp32']
    if args.threads is None:
        args.threads = len(os.sched_getaffinity(0)) \
            if hasattr(os, 'sched_getaffinity') else os.cpu_count()
    return args


def run(args: argparse.Namespace, argv: Sequence[str]) -> dict:
    """Run every measurement of ``args`` and return the results."""
    import mmseg_fcn_classic  # noqa: F401
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('--device cuda: torch.cuda.is_available() is False')
    started = datetime.datetime.now().astimezone()
    results: Dict[str, Any] = dict(
        command='python tools/benchmark.py ' + ' '.join(
            shlex.quote(a) for a in argv),
        date=started.isoformat(timespec='seconds'),
        machine=machine_info(device),
        settings=dict(
            device=args.device, size_hw=list(args.size), batch=args.batch,
            threads=args.threads, warmup=args.warmup, reps=args.reps,
            train_reps=args.train_reps, modes=args.modes, widths=args.widths,
            fc_channels=args.fc_channels, isolated=not args.no_isolate,
            quick=args.quick, cudnn_benchmark=args.cudnn_benchmark,
            data_only=args.data_only, data=not args.no_data,
            data_samples=args.data_samples, data_reps=args.data_reps,
            gpu_rate=args.gpu_rate, worker_headroom=args.worker_headroom),
        note=args.note, load_average_start=load_average())
    print(f'# {results["machine"]["cpu_model"]}, {args.threads} threads, '
          f'torch {torch.__version__}, load {results["load_average_start"]}')

    dtypes = set() if args.data_only else {peak_dtype(m) for m in args.modes}
    probes = {name: GemmProbe(device, args.gemm_size, args.gemm_reps,
                              getattr(torch, name)) for name in sorted(dtypes)}
    models = [] if args.data_only else measure(
        case_specs(args), isolate=not args.no_isolate, probes=list(probes.values()))
    peaks = {name: probe.result() for name, probe in probes.items()}
    results['gemm_peak'] = peaks
    for name, peak in peaks.items():
        print(f'GEMM {args.gemm_size}^2 {name}: best {peak["best_gflops"]:.1f} '
              f'GFLOP/s, median {peak["median_gflops"]:.1f} ({peak["samples"]} '
              'products between the model steps)')
    for res in models:
        print(report.case_line(res))
    # FLOP/s after all GEMM peaks are known; ratios to the baseline
    results['models'] = models
    results['ratios'], results['targets'] = report.compare(models, peaks)
    if not args.no_data:
        data = data_throughput(args.data_samples, args.data_reps)
        peak_flops, source = gpu_peak(args, peaks)
        add_gpu_rate(data, args.gpu_rate, peak_flops, source, args.worker_headroom)
        report.starvation(data, models, args.worker_headroom)
        results['data'] = data
        for line in report.data_lines(data):
            print(line)
    results['load_average_end'] = load_average()
    results['duration_s'] = (datetime.datetime.now().astimezone() -
                             started).total_seconds()
    return results


def gpu_peak(args: argparse.Namespace, peaks: Dict[str, dict]) -> Tuple[float, str]:
    """The bf16 matmul peak (FLOP/s) behind the default GPU rate, and its source:
    ``--gpu-peak-tflops``, else this run's bf16 GEMM peak on CUDA, else the stated
    H200 figure."""
    if args.gpu_peak_tflops:
        return args.gpu_peak_tflops * 1e12, '--gpu-peak-tflops'
    if args.device.startswith('cuda') and 'bfloat16' in peaks:
        return (peaks['bfloat16']['best_gflops'] * 1e9,
                'bf16 GEMM peak measured in this run')
    return STATED_GPU_PEAK_TFLOPS * 1e12, "issue 12's H200 bf16 figure"


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Measure (or ``--render``), print the tables, write ``--out`` / ``--markdown``.

    Returns:
        dict: The results, as written to ``--out``.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if args.render:
        with open(args.render) as f:
            results = json.load(f)
    else:
        results = run(args, argv)
    results['findings'] = report.findings(results)
    report.print_report(results)
    report.write(results, args.out, args.markdown)
    return results
