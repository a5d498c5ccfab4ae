"""The measured model cases: which models a run builds, and their steps.

A model case is a JSON-able spec (:func:`case_specs`) that :class:`Case` turns into
a model and its inference / training step functions, measured phase by phase. The
data pipelines are :mod:`benchmarks.data`.
"""
import argparse
import contextlib
import json
import logging
import statistics
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmseg_fcn_classic.engine.hooks.channels_last_hook import (convs_to_channels_last,
                                                             inputs_to_channels_last)
from mmseg_fcn_classic.models.data_preprocessor import PIXEL_CONVENTIONS
from mmseg_fcn_classic.testing.narrow import randomize_, shipped_model_config
from mmseg_fcn_classic.testing.plain_fcn import PlainFCN8s

from .probes import PeakMemory, count_flops, proc_status, rusage, summarize, time_fn

#: Shipped leaf config of each variant.
VARIANT_CONFIGS = {
    '32s': 'fcn32s_vgg16_voc.py',
    '16s': 'fcn16s_vgg16_voc.py',
    '8s': 'fcn8s_vgg16_voc.py',
}
#: Pixel modes: (autocast dtype or None, channels_last).
MODES = {
    'fp32': (None, False),
    'fp32-cl': (None, True),
    'bf16': (torch.bfloat16, False),
    'bf16-cl': (torch.bfloat16, True),
}
NUM_CLASSES = 21
IGNORE_INDEX = 255
PHASES = ('inference', 'training')


def peak_dtype(mode: str) -> str:
    """The GEMM peak a mode is compared with: ``'float32'`` or ``'bfloat16'``."""
    return 'bfloat16' if MODES[mode][0] is torch.bfloat16 else 'float32'


# --------------------------------------------------------------------------------
# Specs
# --------------------------------------------------------------------------------
def case_specs(args: argparse.Namespace) -> List[dict]:
    """The model cases of a run, in order."""
    common = dict(device=args.device, batch=args.batch, size=list(args.size),
                  widths=args.widths, fc_channels=args.fc_channels,
                  threads=args.threads, warmup=max(1, args.warmup),
                  reps=args.reps, train_reps=args.train_reps,
                  training=not args.no_training,
                  cudnn_benchmark=args.cudnn_benchmark)
    specs = []
    # glibc keeping freed memory (tools/test.py and tools/infer.py do it on the
    # CPU) is process-wide: only in workers of their own, and for the baseline too,
    # so that each of our rows has a like-for-like baseline
    malloc = args.device == 'cpu' and not args.no_isolate and not args.no_malloc
    # TorchScript freezing: oneDNN, CPU fp32 only
    freeze = (not args.no_optimized and not args.no_freeze and args.device == 'cpu')
    for mode in args.modes:
        if not args.no_baseline:
            baseline = dict(common, kind='baseline', variant='8s', mode=mode)
            specs.append(baseline)
            if malloc:
                specs.append(dict(baseline, tune_malloc=True))
        for variant in args.variants:
            specs.append(dict(common, kind='ours', variant=variant, mode=mode))
        if '8s' in args.variants and malloc:
            specs.append(dict(common, kind='ours', variant='8s', mode=mode,
                              tune_malloc=True))
        if '8s' in args.variants and freeze and mode == 'fp32':
            specs.append(dict(common, kind='ours', variant='8s', mode=mode,
                              freeze=True, tune_malloc=malloc))
    return specs


def case_name(spec: dict) -> str:
    """A row label: ``FCN-8s [fp32]``, ``plain FCN-8s (baseline) [fp32]``, ..."""
    if spec['kind'] == 'baseline':
        name = 'plain FCN-8s (baseline)'
    else:
        name = f"FCN-{spec['variant']}"
        if spec.get('freeze'):
            name += ' +freeze'
    if spec.get('tune_malloc'):
        name += ' +malloc'
    return f"{name} [{spec['mode']}]"


def phases(spec: dict) -> List[Tuple[str, int]]:
    """The phases a case runs and the timed steps of each."""
    reps = dict(inference=spec['reps'], training=spec['train_reps'])
    return [(p, reps[p]) for p in PHASES if spec.get(p, True)]


# --------------------------------------------------------------------------------
# Models and their steps
# --------------------------------------------------------------------------------
def init_mmseg() -> None:
    """Register mmseg's and our components, mmseg as the default scope, and quiet
    mmengine's INFO chatter (``paramwise_cfg`` logs a line per bias)."""
    from mmengine.logging import MMLogger
    from mmseg.utils import register_all_modules

    import mmseg_fcn_classic  # noqa: F401  (registers the components)
    register_all_modules(init_default_scope=True)
    MMLogger.get_current_instance().setLevel(logging.WARNING)


def build_ours(variant: str, widths=None, fc_channels=None) -> Tuple[nn.Module, dict]:
    """Build an FCN through mmseg's registry from its shipped config.

    Args:
        variant (str): ``'32s'``, ``'16s'`` or ``'8s'``.
        widths, fc_channels: Narrow the model (see
            :func:`mmseg_fcn_classic.testing.narrow.shipped_model_config`).

    Returns:
        tuple[nn.Module, dict]: The ``EncoderDecoder`` and its optim_wrapper config.
    """
    from mmseg.registry import MODELS
    init_mmseg()
    model_cfg, optim_cfg = shipped_model_config(VARIANT_CONFIGS[variant], widths,
                                                fc_channels)
    return MODELS.build(model_cfg), optim_cfg


def _inputs(batch: int, size: Tuple[int, int], seed: int = 0):
    """uint8 BGR images (N, 3, H, W) and labels (N, H, W) with ignored pixels."""
    gen = torch.Generator().manual_seed(seed)
    h, w = size
    imgs = torch.randint(0, 256, (batch, 3, h, w), generator=gen, dtype=torch.uint8)
    labels = torch.randint(0, NUM_CLASSES, (batch, h, w), generator=gen)
    labels[:, :, :4] = IGNORE_INDEX  # a void band, as VOC's boundaries
    return imgs, labels


def _ours_data(imgs: torch.Tensor, labels: torch.Tensor) -> dict:
    """What mmseg's dataloader hands ``train_step`` / ``test_step``."""
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    samples = []
    for label in labels:
        shape = tuple(label.shape)
        sample = SegDataSample(metainfo=dict(img_shape=shape, ori_shape=shape,
                                             pad_shape=shape))
        sample.gt_sem_seg = PixelData(data=label[None].clone())
        samples.append(sample)
    return dict(inputs=[img.clone() for img in imgs], data_samples=samples)


def _autocast(device: torch.device, dtype: Optional[torch.dtype]):
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def prepare_case(spec: dict):
    """Build one case's model and its inference / training step functions.

    Args:
        spec (dict): ``kind`` (``'ours'`` | ``'baseline'``), ``variant``,
            ``freeze``, ``mode``, ``device``, ``batch``, ``size``, ``widths``,
            ``fc_channels``.

    Returns:
        tuple: ``(model, infer, train, info)``: the model, two zero-argument step
        functions and a dict of facts about the case (params, optimizer).
    """
    device = torch.device(spec['device'])
    amp_dtype, channels_last = MODES[spec['mode']]
    widths = tuple(spec['widths']) if spec.get('widths') else None
    fc = spec.get('fc_channels')
    imgs, labels = _inputs(spec['batch'], tuple(spec['size']))
    info: Dict[str, Any] = {}
    torch.manual_seed(0)
    np.random.seed(0)
    if spec['kind'] == 'baseline':
        narrow = {k: v for k, v in dict(widths=widths, fc_channels=fc).items() if v}
        model = PlainFCN8s(NUM_CLASSES, **narrow)
    else:
        model, optim_cfg = build_ours(spec['variant'], widths, fc)
    randomize_(model, upscore='bilinear')
    model.to(device)
    if channels_last and spec['kind'] == 'baseline':
        model.to(memory_format=torch.channels_last)
    elif channels_last:  # what ChannelsLastHook does (GemmConv2d weights stay)
        convs_to_channels_last(model)
        inputs_to_channels_last(model)
    info['params'] = sum(p.numel() for p in model.parameters())
    info['trainable_params'] = sum(p.numel() for p in model.parameters()
                                   if p.requires_grad)

    if spec['kind'] == 'baseline':
        mean = torch.tensor(PIXEL_CONVENTIONS['caffe']['mean'],
                            device=device).view(1, 3, 1, 1)
        lr, wd = 1e-10, 5e-4
        optimizer = torch.optim.SGD(model.optimizer_groups(lr, wd), lr=lr,
                                    momentum=0.99, weight_decay=wd)
        scaler = (torch.amp.GradScaler(device.type)
                  if amp_dtype is not None and device.type == 'cuda' else None)
        info['optimizer'] = 'torch.optim.SGD(lr=1e-10, momentum=0.99, ' \
            'weight_decay=5e-4), biases 2x lr no decay (pytorch-fcn groups)'

        def normalised():
            x = imgs.to(device, non_blocking=True).float() - mean
            return x.contiguous(memory_format=torch.channels_last) \
                if channels_last else x

        def infer():
            with torch.no_grad(), _autocast(device, amp_dtype):
                return model(normalised()).argmax(1)

        def train():
            with _autocast(device, amp_dtype):
                logits = model(normalised())
                loss = F.cross_entropy(logits.float(), labels.to(device),
                                       ignore_index=IGNORE_INDEX, reduction='sum')
            if scaler is None:
                loss.backward()
                optimizer.step()
            else:
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
            optimizer.zero_grad(set_to_none=True)
            return loss
    else:
        from mmengine.optim import build_optim_wrapper
        if spec.get('freeze'):
            from mmseg_fcn_classic.apis.deploy import freeze_for_inference
            reference = _eval_logits(model, imgs, device, amp_dtype)
            rss = proc_status('VmRSS') or 0
            freeze_for_inference(model, (spec['batch'], 3, *spec['size']))
            info['freeze_extra_mib'] = ((proc_status('VmRSS') or 0) - rss) / 2**20
            info['frozen'] = True
            info['equivalence'] = _equivalence(
                _eval_logits(model, imgs, device, amp_dtype), reference)
        if amp_dtype is not None and device.type == 'cuda':
            optim_cfg = dict(optim_cfg, type='AmpOptimWrapper',
                             dtype=str(amp_dtype).replace('torch.', ''))
        optim_wrapper = build_optim_wrapper(model, optim_cfg)
        info['optimizer'] = json.dumps(optim_cfg, default=str)
        data = _ours_data(imgs, labels)
        # CPU autocast: AmpOptimWrapper is GPU-only, so wrap the step ourselves
        cpu_amp = amp_dtype if device.type != 'cuda' else None

        def infer():  # the runner's test loop runs under no_grad
            with torch.no_grad(), _autocast(device, amp_dtype):
                return model.test_step(data)

        def train():
            with _autocast(device, cpu_amp):
                return model.train_step(data, optim_wrapper)
    return model, infer, train, info


def _eval_logits(model: nn.Module, imgs: torch.Tensor, device: torch.device,
                 amp_dtype: Optional[torch.dtype]) -> torch.Tensor:
    """Our model's logits for ``imgs`` in eval mode (float32, on the CPU)."""
    was_training = model.training
    model.eval()
    data = model.data_preprocessor(
        _ours_data(imgs, torch.zeros_like(imgs[:, 0], dtype=torch.long)), False)
    with torch.no_grad(), _autocast(device, amp_dtype):
        out = model.encode_decode(
            data['inputs'], [s.metainfo for s in data['data_samples']])
    model.train(was_training)
    return out.float().cpu()


def _equivalence(out: torch.Tensor, ref: torch.Tensor, tol: float = 1e-4) -> dict:
    """Largest difference of two logit maps, and whether it is within ``tol``
    relative to the largest logit (absolute below magnitude 1)."""
    diff = (out - ref).abs().max().item()
    scale = ref.abs().max().item()
    return {'max_abs_diff': diff, 'max_abs_logit': scale,
            'equal_within_1e-4': bool(diff <= tol * max(1.0, scale))}


class Case:
    """One model case, measured phase by phase, step by step.

    ``begin(phase)`` resets the memory peak and runs the warm-up steps (the first
    under the FLOP counter), ``step(phase)`` times one step, ``end(phase)``
    closes the memory measurement, ``result()`` returns the figures. Driving these
    from outside lets :func:`benchmarks.workers.measure` interleave the steps of
    several cases.

    Args:
        spec (dict): As :func:`prepare_case`, plus ``threads``, ``warmup``,
            ``reps``, ``train_reps``, ``tune_malloc`` and ``cudnn_benchmark``.
    """

    def __init__(self, spec: dict) -> None:
        if spec.get('threads'):
            torch.set_num_threads(int(spec['threads']))
        malloc_tuned = None
        if spec.get('tune_malloc'):  # process-wide: only in a worker of its own
            from mmseg_fcn_classic.utils.runtime import tune_glibc_malloc
            malloc_tuned = tune_glibc_malloc()
        self.spec = spec
        self.device = torch.device(spec['device'])
        if self.device.type == 'cuda':
            torch.backends.cudnn.benchmark = bool(spec.get('cudnn_benchmark'))
        self.model, infer, train, self.info = prepare_case(spec)
        self.fns = dict(inference=infer, training=train)
        self.figures: Dict[str, Any] = dict(
            spec=spec, name=case_name(spec), params=self.info['params'],
            trainable_params=self.info['trainable_params'],
            optimizer=self.info['optimizer'], threads=torch.get_num_threads(),
            malloc_tuned=malloc_tuned)
        for key in ('equivalence', 'freeze_extra_mib', 'frozen'):
            if key in self.info:
                self.figures[key] = self.info[key]
        self._mem: Optional[PeakMemory] = None
        self._flops = 0
        self._times: List[float] = []
        self._faults: List[int] = []
        self._sys: List[float] = []

    def begin(self, phase: str) -> dict:
        self.model.train(phase == 'training')
        fn = self.fns[phase]
        frozen = getattr(self.model, 'backbone', None)
        if phase == 'inference' and hasattr(frozen, 'eager'):
            # TorchScript's fused kernels are invisible to the FLOP counter: count
            # the eager twin (same arithmetic), outside the memory measurement
            self.model.backbone = frozen.eager
            try:
                _, self._flops = count_flops(fn)
            finally:
                self.model.backbone = frozen
            self._mem = PeakMemory(self.device).__enter__()
            warmup = self.spec['warmup']
        else:
            self._mem = PeakMemory(self.device).__enter__()
            _, self._flops = count_flops(fn)
            warmup = self.spec['warmup'] - 1
        for _ in range(max(0, warmup)):
            fn()
        self._times, self._faults, self._sys = [], [], []
        return dict(flops=self._flops)

    def step(self, phase: str) -> dict:
        before = rusage()
        t = time_fn(self.fns[phase], self.device, 1)[0]
        after = rusage()
        self._times.append(t)
        self._faults.append(after[0] - before[0])
        self._sys.append(after[1] - before[1])
        return dict(time_s=t)

    def end(self, phase: str) -> dict:
        self._mem.__exit__(None, None, None)
        stats = summarize(self._times)
        flops = self._flops
        stats.update(
            flops=flops,
            gflop=flops / 1e9,
            images_per_s=self.spec['batch'] / stats['median_s'],
            gflops_per_s_median=flops / stats['median_s'] / 1e9,
            gflops_per_s_best=flops / stats['best_s'] / 1e9,
            peak_memory_mib=self._mem.peak_bytes / 2**20,
            memory_method=self._mem.method,
            minor_faults_median=statistics.median(self._faults),
            system_cpu_s_median=statistics.median(self._sys))
        self.figures[phase] = stats
        return stats

    def result(self) -> dict:
        self.figures['rss_end_mib'] = (proc_status('VmRSS') or 0) / 2**20
        return self.figures


def run_case(spec: dict) -> dict:
    """Measure one case in this process: inference, then training.

    Returns:
        dict: The case's figures (JSON-serialisable).
    """
    case = Case(spec)
    for phase, reps in phases(spec):
        case.begin(phase)
        for _ in range(reps):
            case.step(phase)
        case.end(phase)
    return case.result()
