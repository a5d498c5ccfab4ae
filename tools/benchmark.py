"""What the classic FCNs cost: latency, training-step time, memory, FLOP/s, data rate.

Everything is measured on one machine in one run, so the ratios mean something:

* **Models.** FCN-32s/16s/8s (``VGG16FC`` + ``ClassicFCNHead``, 21 classes) built
  through mmseg's registry from the shipped configs
  (``configs/fcn{32,16,8}s_vgg16_voc.py``: an ``EncoderDecoder`` with
  ``FCNDataPreProcessor``); FCN-8s again with the opt-in speed-ups of
  :mod:`mmseg_fcn_classic.models.optimize`; and :class:`PlainFCN8s`, the
  straightforward plain-PyTorch FCN-8s (as wkentaro/pytorch-fcn writes it), as the
  baseline.
* **Inference** is the runner's test step, ``model.test_step(data)`` under
  ``no_grad`` (normalise, forward, crop, argmax); for the baseline: normalise,
  forward, argmax. **Training** is the runner's train step,
  ``model.train_step(data, optim_wrapper)`` with the config's optimizer (SGD,
  momentum 0.99, weight decay 5e-4; summed cross-entropy): forward, loss,
  backward, step, zero_grad; for the baseline the same in plain PyTorch.
* **Timing.** Each case runs in a worker process of its own; all are started
  together and their timed steps run in turn (case 1, case 2, ..., repeated), one
  at a time, so that load coming and going hits every case alike.
* **Memory.** CPU: the peak resident set size during a phase (``VmHWM``, reset
  through ``/proc/self/clear_refs``) above the resident size at its start. GPU:
  ``torch.cuda.max_memory_allocated`` above ``memory_allocated``.
* **FLOP/s.** FLOPs of one step counted by ``torch.utils.flop_counter``, divided
  by the step time, against the best rate of 4096x4096 matrix products sampled
  between the rounds of model steps.
* **Data.** Samples/s of the shipped training pipelines over generated data in
  the real formats and sizes (VOC jpg + palette png, SBD jpg + ``.mat``,
  polyps912 bmp + tif), against the rate the model consumes samples at.

Usage::

    # the documented CPU run: JSON, and docs/benchmarks.md regenerated
    python tools/benchmark.py --out work_dirs/benchmark/cpu.json \\
        --markdown docs/benchmarks.md
    # GPU: fp32 and bf16 autocast + channels_last
    python tools/benchmark.py --device cuda --modes fp32 bf16-cl \\
        --out work_dirs/benchmark/cuda.json
    # smoke test: narrow model, small input, few repetitions
    python tools/benchmark.py --quick --out /tmp/benchmark_quick.json
"""
import argparse
import contextlib
import ctypes
import datetime
import gc
import json
import logging
import os
import os.path as osp
import platform
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
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
#: Caffe BGR mean of the reference nets (``FCNDataPreProcessor(weights='caffe')``).
CAFFE_MEAN = (104.00699, 116.66877, 122.67892)
VGG16_WIDTHS = (64, 128, 256, 512, 512)
NUM_CLASSES = 21
IGNORE_INDEX = 255
#: Targets of the project for the CPU fp32 run (``docs/benchmarks.md``).
TARGETS = dict(inference_peak_fraction=0.85, train_time_ratio=0.85,
               train_memory_ratio=1.0)


# --------------------------------------------------------------------------------
# The baseline: a plain PyTorch FCN-8s
# --------------------------------------------------------------------------------
class PlainFCN8s(nn.Module):
    """FCN-8s as plain PyTorch, the way wkentaro/pytorch-fcn's ``FCN8s`` writes it.

    VGG16 with ``conv1_1`` padded by 100, in-place ReLUs, ceil-mode max-pools,
    ``fc6`` (7x7) / ``fc7`` (1x1) convolutions with ``Dropout2d``, the score layers,
    dense ``ConvTranspose2d`` upscores (bilinear, ``requires_grad`` left True) and
    the crops at the fixed offsets 5, 9, 31. Layer names are the reference ones, so
    :func:`mmseg_fcn_classic.converters.convert_pytorch_fcn` maps its state dict
    onto our model. Nothing here is slowed down on purpose: this is the
    straightforward implementation.

    Args:
        num_classes (int): Defaults to 21.
        widths (Sequence[int]): Width of each conv block. Defaults to VGG16's.
        fc_channels (int): Width of fc6 / fc7. Defaults to 4096.

    Example:
        >>> net = PlainFCN8s(3, widths=(4, 8, 8, 16, 16), fc_channels=16)
        >>> net(torch.rand(1, 3, 40, 50)).shape
        torch.Size([1, 3, 40, 50])
    """

    BLOCKS = (2, 2, 3, 3, 3)

    def __init__(self, num_classes: int = NUM_CLASSES,
                 widths: Sequence[int] = VGG16_WIDTHS,
                 fc_channels: int = 4096) -> None:
        super().__init__()
        channels = 3
        for stage, (convs, width) in enumerate(zip(self.BLOCKS, widths), 1):
            for i in range(1, convs + 1):
                padding = 100 if (stage, i) == (1, 1) else 1
                setattr(self, f'conv{stage}_{i}',
                        nn.Conv2d(channels, width, 3, padding=padding))
                setattr(self, f'relu{stage}_{i}', nn.ReLU(inplace=True))
                channels = width
            setattr(self, f'pool{stage}', nn.MaxPool2d(2, stride=2, ceil_mode=True))
        self.fc6 = nn.Conv2d(channels, fc_channels, 7)
        self.relu6 = nn.ReLU(inplace=True)
        self.drop6 = nn.Dropout2d()
        self.fc7 = nn.Conv2d(fc_channels, fc_channels, 1)
        self.relu7 = nn.ReLU(inplace=True)
        self.drop7 = nn.Dropout2d()
        self.score_fr = nn.Conv2d(fc_channels, num_classes, 1)
        self.score_pool3 = nn.Conv2d(widths[2], num_classes, 1)
        self.score_pool4 = nn.Conv2d(widths[3], num_classes, 1)
        self.upscore2 = nn.ConvTranspose2d(num_classes, num_classes, 4, stride=2,
                                           bias=False)
        self.upscore8 = nn.ConvTranspose2d(num_classes, num_classes, 16, stride=8,
                                           bias=False)
        self.upscore_pool4 = nn.ConvTranspose2d(num_classes, num_classes, 4,
                                                stride=2, bias=False)
        for m in (self.upscore2, self.upscore8, self.upscore_pool4):
            m.weight.data.copy_(_bilinear_weight(num_classes, m.kernel_size[0]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for stage, convs in enumerate(self.BLOCKS, 1):
            for i in range(1, convs + 1):
                h = getattr(self, f'relu{stage}_{i}')(
                    getattr(self, f'conv{stage}_{i}')(h))
            h = getattr(self, f'pool{stage}')(h)
            if stage == 3:
                pool3 = h  # 1/8
            elif stage == 4:
                pool4 = h  # 1/16
        h = self.drop6(self.relu6(self.fc6(h)))
        h = self.drop7(self.relu7(self.fc7(h)))
        h = self.score_fr(h)
        upscore2 = self.upscore2(h)  # 1/16
        h = self.score_pool4(pool4)
        h = h[:, :, 5:5 + upscore2.size(2), 5:5 + upscore2.size(3)]
        upscore_pool4 = self.upscore_pool4(upscore2 + h)  # 1/8
        h = self.score_pool3(pool3)
        h = h[:, :, 9:9 + upscore_pool4.size(2), 9:9 + upscore_pool4.size(3)]
        h = self.upscore8(upscore_pool4 + h)
        return h[:, :, 31:31 + x.size(2), 31:31 + x.size(3)].contiguous()

    def optimizer_groups(self, lr: float, weight_decay: float) -> List[dict]:
        """pytorch-fcn's parameter groups: weights, biases at 2x lr without decay;
        the upscores are left out (they still get gradients)."""
        weights, biases = [], []
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                weights.append(m.weight)
                biases.append(m.bias)
        return [dict(params=weights),
                dict(params=biases, lr=2 * lr, weight_decay=0)]


def _bilinear_weight(channels: int, kernel_size: int) -> torch.Tensor:
    """pytorch-fcn's ``get_upsampling_weight``: bilinear on the channel diagonal."""
    factor = (kernel_size + 1) // 2
    center = factor - 1 if kernel_size % 2 == 1 else factor - 0.5
    og = np.ogrid[:kernel_size, :kernel_size]
    filt = ((1 - abs(og[0] - center) / factor) *
            (1 - abs(og[1] - center) / factor))
    weight = np.zeros((channels, channels, kernel_size, kernel_size), np.float64)
    weight[range(channels), range(channels)] = filt
    return torch.from_numpy(weight).float()


def reinit_convs(model: nn.Module, seed: int = 0) -> nn.Module:
    """Give every ``nn.Conv2d`` He-normal weights and zero biases, in place.

    Freshly built FCNs have zero score layers (the reference init), so their
    logits are all zero, and PyTorch's default init shrinks activations layer by
    layer; neither would make a meaningful equality check. Upsampling
    (``ConvTranspose2d``) weights keep their bilinear init. Timing does not depend
    on the values.

    Args:
        model (nn.Module): Modified in place.
        seed (int): Seed of the weights. Defaults to 0.

    Returns:
        nn.Module: ``model``.
    """
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) *
                               (2.0 / fan_in)**0.5)
                if m.bias is not None:
                    m.bias.zero_()
    return model


# --------------------------------------------------------------------------------
# Our models, from the shipped configs
# --------------------------------------------------------------------------------
def config_dir() -> str:
    """The shipped configs: the repository's, else the installed package's."""
    local = osp.join(REPO, 'configs')
    if osp.isdir(local):
        return local
    import mmseg_fcn_classic
    return osp.join(osp.dirname(mmseg_fcn_classic.__file__), '.mim', 'configs')


def model_config(variant: str,
                 widths: Optional[Sequence[int]] = None,
                 fc_channels: Optional[int] = None) -> Tuple[dict, dict]:
    """The model and optim_wrapper config of a shipped FCN config.

    The backbone's ``Pretrained`` init is dropped (no weights are needed to time
    a model); ``widths`` / ``fc_channels`` build a narrow model for smoke tests,
    with the head's input channels adjusted to match.

    Args:
        variant (str): ``'32s'``, ``'16s'`` or ``'8s'``.
        widths (Sequence[int], optional): Conv block widths. Defaults to VGG16's.
        fc_channels (int, optional): fc6 / fc7 width. Defaults to 4096.

    Returns:
        tuple[ConfigDict, dict]: ``model`` and ``optim_wrapper`` configs.
    """
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(config_dir(), VARIANT_CONFIGS[variant]))
    model = cfg.model  # a ConfigDict: EncoderDecoder reads test_cfg.mode
    model.backbone.init_cfg = None
    if widths is not None or fc_channels is not None:
        from mmseg_fcn_classic.models.utils import fcn_spec
        narrow = dict(widths=tuple(widths or fcn_spec.DEFAULT_WIDTHS),
                      fc_channels=fc_channels or fcn_spec.DEFAULT_FC_CHANNELS)
        model['backbone'].update(narrow)
        skips = model['decode_head'].get('skips', fcn_spec.SKIPS)
        model['decode_head'].update(fcn_spec.head_inputs(skips, **narrow))
    return model, cfg.optim_wrapper.to_dict()


def init_mmseg() -> None:
    """Register mmseg's and our components, mmseg as the default scope, and quiet
    mmengine's INFO chatter (``paramwise_cfg`` logs a line per bias)."""
    import mmseg_fcn_classic  # noqa: F401  (registers the components)
    from mmengine.logging import MMLogger
    from mmseg.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    MMLogger.get_current_instance().setLevel(logging.WARNING)


def build_ours(variant: str, widths=None, fc_channels=None) -> Tuple[nn.Module, dict]:
    """Build an FCN through mmseg's registry from its shipped config.

    Args:
        variant (str): ``'32s'``, ``'16s'`` or ``'8s'``.
        widths, fc_channels: See :func:`model_config`.

    Returns:
        tuple[nn.Module, dict]: The ``EncoderDecoder`` and its optim_wrapper config.
    """
    from mmseg.registry import MODELS
    init_mmseg()
    model_cfg, optim_cfg = model_config(variant, widths, fc_channels)
    return MODELS.build(model_cfg), optim_cfg


# --------------------------------------------------------------------------------
# Measurement helpers
# --------------------------------------------------------------------------------
def summarize(times: Sequence[float]) -> dict:
    """Median, best and all of a list of durations (seconds)."""
    return dict(times_s=[round(t, 6) for t in times],
                median_s=statistics.median(times), best_s=min(times))


def _sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def _proc_status(field: str) -> Optional[int]:
    """A ``/proc/self/status`` memory field in bytes (None where unavailable)."""
    try:
        with open('/proc/self/status') as f:
            match = re.search(rf'^{field}:\s+(\d+) kB', f.read(), re.M)
    except OSError:
        return None
    return int(match.group(1)) * 1024 if match else None


def _malloc_trim() -> None:
    """Hand free heap memory back to the OS (glibc), so RSS is live memory."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass


class PeakMemory:
    """Peak memory of a ``with`` block above the memory at its start.

    CPU (Linux): the peak resident set size ``VmHWM``, reset to the current size
    through ``/proc/self/clear_refs``, minus ``VmRSS`` at the start (after a
    garbage collection and ``malloc_trim``). Elsewhere, ``ru_maxrss`` minus the
    start size, valid in a fresh process only. CUDA: ``max_memory_allocated`` minus
    ``memory_allocated`` at the start (the caching allocator's live tensors).

    Attributes:
        method (str): What was measured.
        peak_bytes (int): The increase, set on exit.
        start_bytes (int): The baseline.
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.method = ''
        self.peak_bytes = 0
        self.start_bytes = 0
        self._hwm = False

    def __enter__(self) -> 'PeakMemory':
        gc.collect()
        if self.device.type == 'cuda':
            _sync(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self.start_bytes = torch.cuda.memory_allocated(self.device)
            self.method = 'torch.cuda.max_memory_allocated - memory_allocated'
            return self
        _malloc_trim()
        try:
            with open('/proc/self/clear_refs', 'w') as f:
                f.write('5')
            self._hwm = _proc_status('VmHWM') is not None
        except OSError:
            self._hwm = False
        self.start_bytes = _proc_status('VmRSS') or _maxrss()
        self.method = ('VmHWM (reset via /proc/self/clear_refs) - VmRSS at start'
                       if self._hwm else 'ru_maxrss - RSS at start')
        return self

    def __exit__(self, *exc) -> None:
        if self.device.type == 'cuda':
            _sync(self.device)
            peak = torch.cuda.max_memory_allocated(self.device)
        else:
            peak = _proc_status('VmHWM') if self._hwm else _maxrss()
        self.peak_bytes = max(0, peak - self.start_bytes)


def _rusage() -> Tuple[int, float]:
    """This process's minor page faults and system CPU seconds so far."""
    import resource
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_minflt, usage.ru_stime


def _maxrss() -> int:
    import resource
    scale = 1 if sys.platform == 'darwin' else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def count_flops(fn: Callable[[], Any]) -> Tuple[Any, int]:
    """Run ``fn`` once under ``torch.utils.flop_counter.FlopCounterMode``.

    Returns:
        tuple: ``fn``'s result and the FLOPs counted (a multiply-add is 2).
    """
    from torch.utils.flop_counter import FlopCounterMode
    counter = FlopCounterMode(display=False)
    with counter:
        out = fn()
    return out, int(counter.get_total_flops())


def time_fn(fn: Callable[[], Any], device: torch.device, reps: int) -> List[float]:
    """Wall times of ``reps`` calls (device synchronised around each)."""
    times = []
    for _ in range(reps):
        _sync(device)
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return times


class GemmProbe:
    """The machine's matrix-product rate, sampled again and again during a run.

    ``size`` x ``size`` products in ``dtype``; each :meth:`sample` times ``reps``
    of them. :func:`measure` samples between the rounds of model steps, so the
    peak is the best the machine gave at any point of the run, under the same
    conditions as the models.

    Args:
        device (torch.device): Where to multiply.
        size (int): Matrix side. Defaults to 4096.
        reps (int): Products per sample. Defaults to 3.
        dtype (torch.dtype): Defaults to float32.
    """

    def __init__(self, device: torch.device, size: int = 4096, reps: int = 3,
                 dtype: torch.dtype = torch.float32) -> None:
        gen = torch.Generator(device='cpu').manual_seed(0)
        self.a = torch.randn(size, size, generator=gen).to(device=device,
                                                            dtype=dtype)
        self.b = torch.randn(size, size, generator=gen).to(device=device,
                                                            dtype=dtype)
        self.out = torch.empty(size, size, device=device, dtype=dtype)
        self.device, self.size, self.reps, self.dtype = device, size, reps, dtype
        self.times: List[float] = []
        torch.mm(self.a, self.b, out=self.out)  # warm-up

    def sample(self) -> None:
        self.times += time_fn(lambda: torch.mm(self.a, self.b, out=self.out),
                              self.device, self.reps)

    def result(self) -> dict:
        """``size``, ``samples``, ``dtype``, ``best_gflops``, ``median_gflops``."""
        flops = 2 * self.size**3
        return dict(size=self.size, samples=len(self.times),
                    dtype=str(self.dtype).replace('torch.', ''),
                    best_gflops=flops / min(self.times) / 1e9,
                    median_gflops=flops / statistics.median(self.times) / 1e9)


# --------------------------------------------------------------------------------
# One model case (run in a fresh worker process unless --no-isolate)
# --------------------------------------------------------------------------------
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


def _set_bench_seed(seed: int = 0) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed)


def prepare_case(spec: dict):
    """Build one case's model and its inference / training step functions.

    Args:
        spec (dict): ``kind`` (``'ours'`` | ``'baseline'``), ``variant``,
            ``optimize``, ``mode``, ``device``, ``batch``, ``size``, ``widths``,
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
    _set_bench_seed()
    if spec['kind'] == 'baseline':
        model = reinit_convs(PlainFCN8s(NUM_CLASSES, widths or VGG16_WIDTHS,
                                        fc or 4096))
    else:
        model, optim_cfg = build_ours(spec['variant'], widths, fc)
        reinit_convs(model)
    model.to(device)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    info['params'] = sum(p.numel() for p in model.parameters())
    info['trainable_params'] = sum(p.numel() for p in model.parameters()
                                   if p.requires_grad)

    if spec['kind'] == 'baseline':
        mean = torch.tensor(CAFFE_MEAN, device=device).view(1, 3, 1, 1)
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
        if spec.get('optimize'):
            from mmseg_fcn_classic.apis.deploy import freeze_for_inference
            reference = _eval_logits(model, imgs, device, amp_dtype)
            if spec.get('freeze'):
                rss = _proc_status('VmRSS') or 0
                freeze_for_inference(model, (spec['batch'], 3, *spec['size']))
                info['freeze_extra_mib'] = ((_proc_status('VmRSS') or 0) -
                                            rss) / 2**20
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


PHASES = ('inference', 'training')


def case_name(spec: dict) -> str:
    """A row label: ``FCN-8s [fp32]``, ``plain FCN-8s (baseline) [fp32]``, ..."""
    if spec['kind'] == 'baseline':
        name = 'plain FCN-8s (baseline)'
    else:
        name = f"FCN-{spec['variant']}"
        if spec.get('optimize'):
            name += ' +optimize_fcn' + (' +freeze' if spec.get('freeze') else '')
    if spec.get('tune_malloc'):
        name += ' +malloc'
    return f"{name} [{spec['mode']}]"


class Case:
    """One model case, measured phase by phase, step by step.

    ``begin(phase)`` resets the memory peak and runs the warm-up steps (the first
    under the FLOP counter), ``step(phase)`` times one step, ``end(phase)``
    closes the memory measurement, ``result()`` returns the figures. Driving these
    from outside lets :func:`measure` interleave the steps of several cases.

    Args:
        spec (dict): As :func:`prepare_case`, plus ``threads``, ``warmup``,
            ``reps``, ``train_reps`` and ``cudnn_benchmark``.
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
        before = _rusage()
        t = time_fn(self.fns[phase], self.device, 1)[0]
        after = _rusage()
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
        self.figures['rss_end_mib'] = (_proc_status('VmRSS') or 0) / 2**20
        return self.figures


def _phases(spec: dict) -> List[Tuple[str, int]]:
    reps = dict(inference=spec['reps'], training=spec['train_reps'])
    return [(p, reps[p]) for p in PHASES if spec.get(p, True)]


def run_case(spec: dict) -> dict:
    """Measure one case in this process: inference, then training.

    Returns:
        dict: The case's figures (JSON-serialisable).
    """
    case = Case(spec)
    for phase, reps in _phases(spec):
        case.begin(phase)
        for _ in range(reps):
            case.step(phase)
        case.end(phase)
    return case.result()


class Worker:
    """A :class:`Case` in its own Python process, driven over a pipe.

    Commands go to the worker's stdin as JSON lines; replies come back on a
    separate pipe, so that library output on stdout cannot garble them.
    """

    def __init__(self, spec: dict) -> None:
        self.spec = spec
        read_fd, write_fd = os.pipe()
        self.log = tempfile.TemporaryFile('w+')
        env = dict(os.environ)
        env['PYTHONPATH'] = REPO + os.pathsep + env.get('PYTHONPATH', '')
        self.proc = subprocess.Popen(
            [sys.executable, osp.abspath(__file__), '--worker', json.dumps(spec),
             '--result-fd', str(write_fd)],
            stdin=subprocess.PIPE, stdout=self.log, stderr=subprocess.STDOUT,
            pass_fds=(write_fd, ), env=env, text=True)
        os.close(write_fd)
        self.replies = os.fdopen(read_fd)

    def wait_ready(self) -> dict:
        return self._reply()

    def call(self, cmd: str, **kwargs) -> dict:
        self.proc.stdin.write(json.dumps(dict(cmd=cmd, **kwargs)) + '\n')
        self.proc.stdin.flush()
        return self._reply()

    def _reply(self) -> dict:
        line = self.replies.readline()
        reply = json.loads(line) if line else dict(error='worker exited')
        if 'error' in reply:
            self.close()
            self.log.seek(0)
            raise RuntimeError(f'benchmark worker for {case_name(self.spec)} failed: '
                               f'{reply["error"]}\n{self.log.read()[-6000:]}')
        return reply

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.replies.close()


def serve(spec: dict, result_fd: int) -> None:
    """The worker's side of :class:`Worker`: build the case, answer commands."""
    import traceback
    out = os.fdopen(result_fd, 'w')

    def send(obj: dict) -> None:
        out.write(json.dumps(obj) + '\n')
        out.flush()

    try:
        case = Case(spec)
    except Exception:  # noqa: BLE001  (reported to the parent)
        send(dict(error=traceback.format_exc()))
        return
    send(dict(ready=True))
    for line in sys.stdin:
        msg = json.loads(line)
        try:
            if msg['cmd'] == 'result':
                send(case.result())
                break
            send(getattr(case, msg['cmd'])(msg['phase']))
        except Exception:  # noqa: BLE001
            send(dict(error=traceback.format_exc()))
            return


def measure(specs: List[dict], isolate: bool = True,
            probes: Sequence[GemmProbe] = ()) -> List[dict]:
    """Measure every case.

    Isolated (default): each case lives in its own worker process, all started
    together, and their timed steps run in turn (case 1 step, case 2 step, ...,
    repeated), one at a time. Load that comes and goes then slows every case
    alike, which keeps the ratios honest on a shared machine, and each process
    has its own memory peak. Otherwise the cases run one after the other in this
    process. The GEMM ``probes`` are sampled whenever no case is computing: once
    the workers are ready, and after every round (or case).

    Returns:
        list[dict]: The figures of each case, in the order of ``specs``.
    """
    def sample_probes():
        for probe in probes:
            probe.sample()

    if not isolate:
        results = []
        sample_probes()
        for spec in specs:
            results.append(run_case(spec))
            gc.collect()
            _malloc_trim()
            sample_probes()
        return results
    workers = [Worker(spec) for spec in specs]
    try:
        for w in workers:
            w.wait_ready()
        sample_probes()
        for phase in PHASES:
            active = [w for w in workers if phase in dict(_phases(w.spec))]
            for w in active:
                w.call('begin', phase=phase)
            reps = max([dict(_phases(w.spec))[phase] for w in active] or [0])
            for rep in range(reps):
                times = []
                for w in active:
                    if rep < dict(_phases(w.spec))[phase]:
                        times.append(w.call('step', phase=phase)['time_s'])
                sample_probes()
                print(f'{phase} round {rep + 1}/{reps}: ' +
                      ' '.join(f'{t:.2f}s' for t in times), flush=True)
            for w in active:
                w.call('end', phase=phase)
        return [w.call('result') for w in workers]
    finally:
        for w in workers:
            w.close()


# --------------------------------------------------------------------------------
# Data pipelines on generated data in the real formats
# --------------------------------------------------------------------------------
def _band(mask: np.ndarray) -> np.ndarray:
    """The one-pixel-wide inner and outer boundary of a boolean mask."""
    grown, shrunk = mask.copy(), mask.copy()
    for axis in (0, 1):
        for shift in (1, -1):
            rolled = np.roll(mask, shift, axis)
            grown |= rolled
            shrunk &= rolled
    return grown & ~shrunk


def write_sbd_mat(path: str, seg: np.ndarray, num_classes: int = 20) -> None:
    """An SBD ``cls/*.mat`` label: struct ``GTcls`` with ``Segmentation``,
    ``Boundaries`` (cell of sparse maps) and ``CategoriesPresent``, compressed."""
    import scipy.io
    import scipy.sparse
    boundaries = np.empty((num_classes, 1), dtype=object)
    for k in range(num_classes):
        boundaries[k, 0] = scipy.sparse.csc_matrix(_band(seg == k + 1))
    present = np.array([c for c in np.unique(seg) if 0 < c <= num_classes],
                       dtype=np.uint8).reshape(-1, 1)
    scipy.io.savemat(path, {'GTcls': {'Segmentation': seg.astype(np.uint8),
                                      'Boundaries': boundaries,
                                      'CategoriesPresent': present}},
                     do_compression=True)


def make_voc_sbd_data(root: str, count: int,
                      sizes: Sequence[Tuple[int, int]] = ((375, 500), (500, 375)),
                      seed: int = 0) -> None:
    """VOC2012 (jpg + palette png, ``train`` split) and SBD (jpg + ``.mat``,
    ``sbd_train`` split) trees of ``count`` images each, with disjoint ids.

    Frames are the demo's colonoscopy-like synthetic images (smooth shading,
    texture, noise), so JPEG decoding costs what it costs on photographs rather
    than on white noise; labels hold one object of a class 1..20 (VOC: with its
    255 boundary band).
    """
    import cv2
    from PIL import Image

    from mmseg_fcn_classic.testing.synthetic import synth_frame
    rng = np.random.default_rng(seed)
    voc = osp.join(root, 'VOCdevkit', 'VOC2012')
    sbd = osp.join(root, 'benchmark_RELEASE', 'dataset')
    for d in (osp.join(voc, 'JPEGImages'), osp.join(voc, 'SegmentationClass'),
              osp.join(voc, 'ImageSets', 'Segmentation'), osp.join(sbd, 'img'),
              osp.join(sbd, 'cls')):
        os.makedirs(d, exist_ok=True)
    from mmseg_fcn_classic.visualization.palette import voc_palette
    palette = voc_palette()
    voc_ids, sbd_ids = [], []
    for n in range(2 * count):
        h, w = sizes[n % len(sizes)]
        img, mask = synth_frame(rng, h, w)
        seg = np.where(mask == 1, int(rng.integers(1, 21)), 0).astype(np.uint8)
        if n < count:
            sample_id = f'2007_{n:06d}'
            voc_ids.append(sample_id)
            cv2.imwrite(osp.join(voc, 'JPEGImages', sample_id + '.jpg'), img,
                        [cv2.IMWRITE_JPEG_QUALITY, 90])
            seg[_band(seg > 0)] = IGNORE_INDEX
            png = Image.fromarray(seg)
            png.putpalette(palette)
            png.save(osp.join(voc, 'SegmentationClass', sample_id + '.png'))
        else:
            sample_id = f'2008_{n:06d}'
            sbd_ids.append(sample_id)
            cv2.imwrite(osp.join(sbd, 'img', sample_id + '.jpg'), img,
                        [cv2.IMWRITE_JPEG_QUALITY, 90])
            write_sbd_mat(osp.join(sbd, 'cls', sample_id + '.mat'), seg)
    lists = osp.join(voc, 'ImageSets', 'Segmentation')
    for path, ids in ((osp.join(lists, 'train.txt'), voc_ids),
                      (osp.join(lists, 'val.txt'), voc_ids[:1]),
                      (osp.join(sbd, 'train.txt'), sbd_ids),
                      (osp.join(sbd, 'val.txt'), sbd_ids[:1])):
        with open(path, 'w') as f:
            f.write(''.join(i + '\n' for i in ids))


def make_polyps_data(root: str, count: int, size: Tuple[int, int] = (500, 574),
                     seed: int = 0) -> None:
    """A polyps912 ``train`` split of ``count`` frames: ``images/*.bmp`` and
    ``masks2/*.tif`` (0 background, 1 polyp, 2 void)."""
    import cv2

    from mmseg_fcn_classic.testing.synthetic import synth_frame
    rng = np.random.default_rng(seed)
    for split in ('train', 'valid', 'test'):
        for sub in ('images', 'masks2'):
            os.makedirs(osp.join(root, split, sub), exist_ok=True)
    for n in range(count):
        img, mask = synth_frame(rng, *size)
        cv2.imwrite(osp.join(root, 'train', 'images', f'{n + 1}.bmp'), img)
        cv2.imwrite(osp.join(root, 'train', 'masks2', f'{n + 1}.tif'), mask)


def data_throughput(count: int, reps: int, seed: int = 0,
                    voc_sizes: Sequence[Tuple[int, int]] = ((375, 500), (500, 375)),
                    polyps_size: Tuple[int, int] = (500, 574)) -> List[dict]:
    """Samples/s of the shipped training pipelines, one process, no collation.

    Each dataset is built from its ``configs/_base_/datasets`` file (dataset
    class and ``train_pipeline``) over generated data, two samples are read to
    warm up, then every sample is read ``reps`` times.

    Returns:
        list[dict]: One entry per pipeline.
    """
    import cv2
    from mmengine.config import Config
    from mmseg.registry import DATASETS
    cv2.setNumThreads(0)  # what the runner's env_cfg sets
    init_mmseg()
    cases = [
        ('VOC2012 train (jpg + palette png)', 'voc_sbd.py', 'train',
         dict(split='train'), 'voc'),
        ('SBD train (jpg + .mat)', 'voc_sbd.py', 'sbd_train',
         dict(split='sbd_train'), 'voc'),
        ('polyps912 train (bmp + tif, 224 crop + flip)', 'polyps912.py', 'train',
         dict(split='train'), 'polyps'),
    ]
    results = []
    with tempfile.TemporaryDirectory(prefix='fcn_bench_data_') as tmp:
        roots = dict(voc=osp.join(tmp, 'voc_sbd'), polyps=osp.join(tmp, 'polyps'))
        make_voc_sbd_data(roots['voc'], count, voc_sizes, seed)
        make_polyps_data(roots['polyps'], count, polyps_size, seed)
        for name, cfg_file, split, kwargs, root in cases:
            cfg = Config.fromfile(osp.join(config_dir(), '_base_', 'datasets',
                                           cfg_file))
            ds_cfg = cfg.train_dataloader.dataset.to_dict()
            ds_cfg.update(data_root=roots[root], **kwargs)
            dataset = DATASETS.build(ds_cfg)
            n = len(dataset)
            for i in range(min(2, n)):
                dataset[i]
            start = time.perf_counter()
            for _ in range(reps):
                for i in range(n):
                    dataset[i]
            elapsed = time.perf_counter() - start
            sample = dataset[0]
            results.append(dict(
                name=name, dataset=ds_cfg['type'], split=split, samples=n * reps,
                seconds=elapsed, samples_per_s=n * reps / elapsed,
                ms_per_sample=1e3 * elapsed / (n * reps),
                output_shape=list(sample['inputs'].shape),
                batch_size=int(cfg.train_dataloader.batch_size),
                num_workers=int(cfg.train_dataloader.num_workers)))
    return results


# --------------------------------------------------------------------------------
# Run, compare, report
# --------------------------------------------------------------------------------
def machine_info(device: torch.device) -> dict:
    """CPU model, cores, library versions, threads, load and GPU name."""
    import mmcv
    import mmengine
    import mmseg
    cpu = platform.processor() or platform.machine()
    try:
        out = subprocess.run(['lscpu'], capture_output=True, text=True,
                             timeout=10).stdout
        match = re.search(r'^Model name:\s*(.+)$', out, re.M)
        cpu = match.group(1).strip() if match else cpu
    except (OSError, subprocess.SubprocessError):
        pass
    info = dict(
        cpu_model=cpu, logical_cpus=os.cpu_count(),
        usable_cpus=len(os.sched_getaffinity(0))
        if hasattr(os, 'sched_getaffinity') else os.cpu_count(),
        python=platform.python_version(), torch=torch.__version__,
        mmseg=mmseg.__version__, mmengine=mmengine.__version__,
        mmcv=mmcv.__version__, torch_threads=torch.get_num_threads(),
        mkldnn=torch.backends.mkldnn.is_available(),
        platform=platform.platform())
    if device.type == 'cuda':
        info.update(gpu=torch.cuda.get_device_name(device),
                    cuda=torch.version.cuda,
                    cudnn=torch.backends.cudnn.version(),
                    tf32_matmul=torch.backends.cuda.matmul.allow_tf32,
                    tf32_cudnn=torch.backends.cudnn.allow_tf32)
    return info


def _load() -> Optional[List[float]]:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def compare(models: List[dict], peaks: Dict[str, dict]) -> Tuple[List[dict],
                                                                  List[dict]]:
    """Ratios of each of our models to the baseline (same mode), and the targets.

    Returns:
        tuple[list[dict], list[dict]]: ratios, target verdicts.
    """
    ratios, targets = [], []
    baselines = {(m['spec']['mode'], bool(m['spec'].get('tune_malloc'))): m
                 for m in models if m['spec']['kind'] == 'baseline'}
    for m in models:
        mode = m['spec']['mode']
        peak = peaks.get(_peak_key(mode))
        for phase in ('inference', 'training'):
            if phase in m and peak:
                m[phase]['peak_fraction_best'] = (
                    m[phase]['gflops_per_s_best'] / peak['best_gflops'])
                m[phase]['peak_fraction_median'] = (
                    m[phase]['gflops_per_s_median'] / peak['best_gflops'])
        if m['spec']['kind'] == 'baseline':
            continue
        # against the plain baseline (a default process) and, for a +malloc row,
        # also against the baseline under the same allocator setting
        tuned = bool(m['spec'].get('tune_malloc'))
        bases = [baselines.get((mode, False))]
        if tuned:
            bases.append(baselines.get((mode, True)))
        target_case = (m['spec'].get('variant') == '8s' and mode == 'fp32'
                       and m['spec']['device'] == 'cpu')  # CPU fp32 targets
        if target_case and 'inference' in m and peak:
            value = m['inference']['peak_fraction_best']
            targets.append(dict(
                model=m['name'], baseline='-', target='inference >= 85% of fp32 '
                'GEMM peak (best-of times, own FLOP count)', value=value,
                threshold=TARGETS['inference_peak_fraction'],
                met=value >= TARGETS['inference_peak_fraction']))
        for base in bases:
            if base is None:
                continue
            row = dict(name=m['name'], baseline=base['name'], mode=mode)
            for phase in ('inference', 'training'):
                if phase in m and phase in base:
                    a, b = m[phase], base[phase]
                    row[f'{phase}_time_ratio_median'] = a['median_s'] / b['median_s']
                    row[f'{phase}_time_ratio_best'] = a['best_s'] / b['best_s']
                    row[f'{phase}_memory_ratio'] = (
                        a['peak_memory_mib'] / b['peak_memory_mib']
                        if b['peak_memory_mib'] else None)
                    row[f'{phase}_flop_ratio'] = a['flops'] / b['flops']
            ratios.append(row)
            if not target_case:
                continue
            if 'training_time_ratio_median' in row:
                value = row['training_time_ratio_median']
                targets.append(dict(
                    model=m['name'], baseline=base['name'],
                    target='training step <= 0.85x baseline (median times)',
                    value=value, threshold=TARGETS['train_time_ratio'],
                    met=value <= TARGETS['train_time_ratio']))
            if row.get('training_memory_ratio') is not None:
                value = row['training_memory_ratio']
                targets.append(dict(
                    model=m['name'], baseline=base['name'],
                    target='peak training memory <= baseline', value=value,
                    threshold=TARGETS['train_memory_ratio'],
                    met=value <= TARGETS['train_memory_ratio']))
    return ratios, targets


def _peak_key(mode: str) -> str:
    return 'bfloat16' if MODES[mode][0] is torch.bfloat16 else 'float32'


def starvation(data: List[dict], models: List[dict]) -> None:
    """Add to each data entry the model's training rate and the headroom."""
    train = [m for m in models if m['spec']['kind'] == 'ours'
             and m['spec'].get('variant') == '8s' and 'training' in m
             and not m['spec'].get('optimize')]
    if not train:
        return
    fastest = max(train, key=lambda m: m['training']['images_per_s'])
    rate = fastest['training']['images_per_s']
    for entry in data:
        entry['model'] = fastest['name']
        entry['model_train_samples_per_s'] = rate
        entry['headroom_one_worker'] = entry['samples_per_s'] / rate
        entry['workers_needed'] = int(np.ceil(rate / entry['samples_per_s']))
        entry['starves_model'] = entry['workers_needed'] > entry['num_workers']


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
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
    parser.add_argument('--warmup', type=int, default=1,
                        help='warm-up steps per phase, the first one counts FLOPs')
    parser.add_argument('--reps', type=int, help='timed inference steps (default 3)')
    parser.add_argument('--train-reps', type=int,
                        help='timed training steps (default 3)')
    parser.add_argument('--widths', nargs=5, type=int,
                        help='conv block widths (narrow smoke-test models)')
    parser.add_argument('--fc-channels', type=int, help='fc6 / fc7 width')
    parser.add_argument('--no-baseline', action='store_true')
    parser.add_argument('--no-optimized', action='store_true',
                        help='skip FCN-8s with optimize_fcn()')
    parser.add_argument('--no-training', action='store_true')
    parser.add_argument('--no-data', action='store_true')
    parser.add_argument('--data-samples', type=int,
                        help='generated samples per dataset (default 12)')
    parser.add_argument('--data-reps', type=int, default=2,
                        help='passes over the generated samples')
    parser.add_argument('--gemm-size', type=int, help='default 4096 (--quick 1024)')
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
                        help='optimised FCN-8s without freeze_for_inference()')
    parser.add_argument('--no-malloc', action='store_true',
                        help='no +malloc rows (tune_glibc_malloc() in the '
                        'baseline, FCN-8s and optimised FCN-8s workers)')
    parser.add_argument('--render', metavar='JSON',
                        help='measure nothing: write --markdown (and print the '
                        'tables) from the results of an earlier --out')
    parser.add_argument('--worker', help=argparse.SUPPRESS)
    parser.add_argument('--result-fd', type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    quick = args.quick
    if args.size is None:
        args.size = [96, 128] if quick else [375, 500]
    if args.reps is None:
        args.reps = 2 if quick else 3
    if args.train_reps is None:
        args.train_reps = 2 if quick else 3
    if args.gemm_size is None:
        args.gemm_size = 1024 if quick else 4096
    if args.data_samples is None:
        args.data_samples = 3 if quick else 12
    if quick and args.widths is None:
        args.widths = [8, 16, 32, 64, 64]
    if quick and args.fc_channels is None:
        args.fc_channels = 128
    if args.modes is None:
        args.modes = ['fp32', 'bf16-cl'] if args.device.startswith('cuda') \
            else ['fp32']
    if args.threads is None:
        args.threads = len(os.sched_getaffinity(0)) \
            if hasattr(os, 'sched_getaffinity') else os.cpu_count()
    return args


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
        if '8s' in args.variants and not args.no_optimized:
            specs.append(dict(common, kind='ours', variant='8s', mode=mode,
                              optimize=True, tune_malloc=malloc,
                              # TorchScript freezing: oneDNN, CPU fp32 only
                              freeze=(not args.no_freeze and mode == 'fp32'
                                      and args.device == 'cpu')))
    return specs


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
            quick=args.quick, cudnn_benchmark=args.cudnn_benchmark),
        note=args.note, load_average_start=_load())
    print(f'# {results["machine"]["cpu_model"]}, {args.threads} threads, '
          f'torch {torch.__version__}, load {results["load_average_start"]}')

    probes = {name: GemmProbe(device, args.gemm_size, args.gemm_reps,
                              getattr(torch, name))
              for name in sorted({_peak_key(m) for m in args.modes})}
    models = measure(case_specs(args), isolate=not args.no_isolate,
                     probes=list(probes.values()))
    peaks = {name: probe.result() for name, probe in probes.items()}
    results['gemm_peak'] = peaks
    for name, peak in peaks.items():
        print(f'GEMM {args.gemm_size}^2 {name}: best {peak["best_gflops"]:.1f} '
              f'GFLOP/s, median {peak["median_gflops"]:.1f} ({peak["samples"]} '
              'products between the model steps)')
    for res in models:
        print(_case_line(res))
    # FLOP/s after all GEMM peaks are known; ratios to the baseline
    results['models'] = models
    results['ratios'], results['targets'] = compare(models, peaks)
    if not args.no_data:
        data = data_throughput(args.data_samples, args.data_reps)
        starvation(data, models)
        results['data'] = data
    results['load_average_end'] = _load()
    results['duration_s'] = (datetime.datetime.now().astimezone() -
                             started).total_seconds()
    return results


def _case_line(res: dict) -> str:
    parts = [f'{res["name"]:<36}']
    for phase in ('inference', 'training'):
        if phase in res:
            p = res[phase]
            parts.append(f'{phase} median {p["median_s"]:.3f}s best '
                         f'{p["best_s"]:.3f}s {p["gflop"]:.1f} GFLOP '
                         f'peak +{p["peak_memory_mib"]:.0f} MiB')
    return ' | '.join(parts)


def _fmt(value: Optional[float], spec: str = '.2f') -> str:
    return '–' if value is None else format(value, spec)


def tables(results: dict) -> List[Tuple[str, List[str], List[List[str]]]]:
    """The report's tables: (title, header, rows)."""
    out = []
    peaks = results['gemm_peak']
    out.append(('GEMM peak (square matrix products sampled between the model '
                'steps)',
                ['dtype', 'size', 'products', 'best GFLOP/s', 'median GFLOP/s'],
                [[k, str(v['size']), str(v['samples']),
                  _fmt(v['best_gflops'], '.1f'), _fmt(v['median_gflops'], '.1f')]
                 for k, v in peaks.items()]))
    for phase in ('inference', 'training'):
        rows = []
        for m in results['models']:
            if phase not in m:
                continue
            p = m[phase]
            rows.append([
                m['name'], _fmt(p['median_s'], '.3f'), _fmt(p['best_s'], '.3f'),
                _fmt(p['images_per_s'], '.3f'), _fmt(p['gflop'], '.1f'),
                _fmt(p['gflops_per_s_best'], '.1f'),
                _fmt(100 * p['peak_fraction_best'], '.0f') + '%'
                if 'peak_fraction_best' in p else '–',
                _fmt(p['peak_memory_mib'], '.0f'),
                f"{p['minor_faults_median']:.0f} / "
                f"{_fmt(p['system_cpu_s_median'], '.2f')}"])
        if rows:
            out.append((f'{phase.capitalize()} (batch '
                        f'{results["settings"]["batch"]}, '
                        f'{results["settings"]["size_hw"][1]}x'
                        f'{results["settings"]["size_hw"][0]})',
                        ['model [mode]', 'median s', 'best s', 'images/s',
                         'GFLOP (own count)', 'GFLOP/s (best)',
                         '% of GEMM peak', 'peak memory MiB',
                         'page faults / system CPU s per step'], rows))
    if results['ratios']:
        out.append(('Ours / baseline (same mode; < 1 is better for time and memory)',
                    ['model', 'baseline', 'inference time (median / best)',
                     'training time (median / best)', 'inference memory',
                     'training memory', 'FLOPs inference / training'],
                    [[r['name'], r.get('baseline', '–'),
                      f"{_fmt(r.get('inference_time_ratio_median'))} / "
                      f"{_fmt(r.get('inference_time_ratio_best'))}",
                      f"{_fmt(r.get('training_time_ratio_median'))} / "
                      f"{_fmt(r.get('training_time_ratio_best'))}",
                      _fmt(r.get('inference_memory_ratio')),
                      _fmt(r.get('training_memory_ratio')),
                      f"{_fmt(r.get('inference_flop_ratio'), '.3f')} / "
                      f"{_fmt(r.get('training_flop_ratio'), '.3f')}"]
                     for r in results['ratios']]))
    if results['targets']:
        out.append(('Targets (CPU, fp32, FCN-8s)', ['model', 'baseline', 'target',
                                                    'value', 'met'],
                    [[t['model'], t.get('baseline', '–'), t['target'],
                      _fmt(t['value'], '.3f'),
                      'yes' if t['met'] else 'NO'] for t in results['targets']]))
    if results.get('data'):
        out.append(('Data pipelines (one process, per sample: load, decode, '
                    'label checks, transforms, pack)',
                    ['pipeline', 'samples/s', 'ms/sample', 'config batch x workers',
                     'model trains samples/s', 'workers needed', 'starves?'],
                    [[d['name'], _fmt(d['samples_per_s'], '.1f'),
                      _fmt(d['ms_per_sample'], '.1f'),
                      f"{d['batch_size']} x {d['num_workers']}",
                      _fmt(d.get('model_train_samples_per_s'), '.3f'),
                      str(d.get('workers_needed', '–')),
                      ('YES' if d['starves_model'] else 'no')
                      if 'starves_model' in d else '–']
                     for d in results['data']]))
    return out


def format_table(header: List[str], rows: List[List[str]], markdown: bool) -> str:
    if markdown:
        lines = ['| ' + ' | '.join(header) + ' |',
                 '|' + '|'.join('---' for _ in header) + '|']
        lines += ['| ' + ' | '.join(r) + ' |' for r in rows]
        return '\n'.join(lines)
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    fmt = '  '.join(f'{{:<{w}}}' for w in widths)
    return '\n'.join([fmt.format(*header), fmt.format(*('-' * w for w in widths))] +
                     [fmt.format(*r) for r in rows])


def print_report(results: dict) -> None:
    for title, header, rows in tables(results):
        print(f'\n{title}\n' + format_table(header, rows, markdown=False))
    for m in results['models']:
        if 'equivalence' in m:
            e = m['equivalence']
            print(f"\n{m['name']}: max |logits - unoptimised| = "
                  f"{e['max_abs_diff']:.3g} (max |logit| {e['max_abs_logit']:.3g})")


MARKDOWN_NOTES = """\
## How to read this

* **What is timed.** Ours: `model.test_step(data)` (data preprocessor, forward,
  crop, argmax: what the runner's test loop and the inferencer do) and
  `model.train_step(data, optim_wrapper)` (forward, summed cross-entropy, backward,
  SGD step with momentum 0.99 and weight decay 5e-4 from the shipped schedule,
  zero_grad: one iteration of the runner's train loop). The model is the
  `EncoderDecoder` built through mmseg's registry from
  `configs/fcn{32,16,8}s_vgg16_voc.py`. Baseline: `PlainFCN8s` in
  `tools/benchmark.py`, the straightforward pytorch-fcn FCN-8s (pad 100, ceil-mode
  pools, fc6/fc7 convolutions with dropout, dense `ConvTranspose2d` upscores whose
  weights keep `requires_grad=True`, crops at 5/9/31); the same normalisation,
  forward, summed cross-entropy, backward and SGD step. Batch 1, random weights
  (He-normal; timing does not depend on the values), dropout active in training.
* **Statistics.** Each phase runs warm-up steps first (the first under
  `torch.utils.flop_counter.FlopCounterMode`), then the timed steps; the table gives
  the median and the best. Ratios use medians (best in the second figure).
* **FLOP counts are each model's own.** Our frozen bilinear upscores run as
  depthwise transposed convolutions (the dense weight is kept for loading
  checkpoints), so FCN-8s counts fewer FLOPs than the baseline's dense
  `ConvTranspose2d` (see the FLOP ratio column; it is small next to the VGG
  convolutions). GFLOP/s and % of GEMM peak use each model's own count; the time
  ratios are the unambiguous comparison.
* **% of GEMM peak** = GFLOP/s (best time) / best fp32 GEMM rate of the same run.
  The GEMM (`torch.mm` of two 4096x4096 matrices) is sampled between the rounds of
  model steps, while no model computes, so it sees the same conditions.
* **Memory.** CPU: peak resident set size during the phase above the resident
  size at its start (`VmHWM`, reset through `/proc/self/clear_refs`, minus
  `VmRSS`, after `gc` and `malloc_trim`), each model in a fresh worker process. The
  training figure includes the gradients and the optimizer's momentum buffers
  created by the first step (2 x 4 bytes per trainable parameter, about 1 GiB for
  VGG16-FC). GPU: `torch.cuda.max_memory_allocated` above `memory_allocated`.
* **Data pipelines.** The shipped `train_pipeline`s and datasets
  (`PascalVOCSBDDataset` with `LoadFCNAnnotations` for palette PNG and SBD `.mat`
  labels, `Polyps912Dataset` with bmp frames, tif masks, 224 crop and flip) over
  generated data in the real formats and sizes (VOC/SBD 500x375 and 375x500 jpg,
  polyps912 574x500 bmp/tif), one process, no collation. "Workers needed" is how
  many loader processes it takes to feed the measured FCN-8s training rate
  (500x375, batch 1); polyps912 trains on 224x224 crops, which the model
  consumes about 2.2x faster than 500x375 images (padded area
  (224+200)^2 vs (375+200)(500+200)), so its real need is about twice that.
* **Which rows are "as shipped".** `tools/train.py` trains in a default process:
  the `FCN-32s/16s/8s` rows. `tools/test.py` and `tools/infer.py` on the CPU first
  call `tune_glibc_malloc` (`--no-malloc-tuning` turns it off): the
  `FCN-8s +malloc` row is their inference. `tools/train.py --keep-freed-memory`
  trains like the `FCN-8s +malloc` training row.
* **`+malloc`** is `mmseg_fcn_classic.models.optimize.tune_glibc_malloc`, a process
  setting, not a model change: glibc keeps freed memory in the heap instead of
  unmapping every large tensor on free. This VM's balloon device reports freed
  guest pages to the host, so each fresh page costs a host fault as well as a
  guest one; the page-fault and system-CPU column shows what that costs a
  default process. Kept memory removes those faults at the price of a higher
  resident peak (freed memory is kept, fragmented). Because it speeds up any
  PyTorch process, the baseline is measured with it too (`plain FCN-8s
  (baseline) +malloc`), and every `+malloc` row is compared both with the plain
  baseline and with that like-for-like one.
* **Like for like, the arithmetic is the baseline's.** Our FCN has the reference
  layers (that is the point of the project), so with the same allocator setting
  its step time is the baseline's to within the noise; what it saves is memory
  (no dense trainable upscores, `fc6` / `fc7` as `unfold` + one GEMM instead of
  oneDNN's reordered 400 MB weight, fused SGD without the per-step
  weight-decay temporary).
* **`+optimize_fcn +freeze`** (opt-in, `mmseg_fcn_classic/models/optimize.py`,
  exact: checked in the run, see above, and by
  `tests/test_benchmark_equivalence.py`): `freeze_for_inference` freezes the
  backbone with TorchScript (`torch.jit.freeze` + `optimize_for_inference`:
  prepacked oneDNN weights, fused convolution + ReLU) for the benchmark's input
  shape; inference only (the training step runs the eager backbone). Its FLOPs
  are counted on the eager model, which does the same arithmetic.
  `optimize_fcn` is a no-op for `VGG16FC`, which already builds `fc6` / `fc7`
  as GEMM convolutions.
* Not used: `torch.compile` (inductor fails on the data-dependent check in
  `Upscore.forward` under torch 2.13) and channels_last (oneDNN's channels_last
  convolution backward is about 3x slower than NCHW on this AVX2 CPU for the
  64- to 256-channel VGG layers).
"""


def to_markdown(results: dict) -> str:
    """The whole ``docs/benchmarks.md`` page for ``results``."""
    m = results['machine']
    s = results['settings']
    lines = [
        '# Benchmarks',
        '',
        'Generated by `tools/benchmark.py`; regenerate with the command below '
        '(the JSON goes to `--out`; `--render <json> --markdown <md>` rewrites this '
        'page from a JSON without measuring).',
        '',
        '```bash',
        results['command'],
        '```',
        '',
        f"* **Date:** {results['date']} (run took "
        f"{results.get('duration_s', 0) / 60:.1f} min)",
        f"* **Machine:** {m['cpu_model']}, {m['logical_cpus']} logical CPUs "
        f"({m['usable_cpus']} usable), {m['platform']}"
        + (f", GPU {m['gpu']} (CUDA {m['cuda']})" if 'gpu' in m else ''),
        f"* **Software:** Python {m['python']}, torch {m['torch']}, mmseg "
        f"{m['mmseg']}, mmengine {m['mmengine']}, mmcv {m['mmcv']}",
        f"* **Settings:** device `{s['device']}`, {s['size_hw'][1]}x"
        f"{s['size_hw'][0]} (WxH), batch {s['batch']}, torch threads "
        f"{s['threads']}, warm-up {s['warmup']}, timed steps {s['reps']} "
        f"(inference) / {s['train_reps']} (training), modes {', '.join(s['modes'])}"
        + (f", widths {s['widths']}, fc {s['fc_channels']}" if s['widths'] else '')
        + (', one worker process per model' if s['isolated'] else ''),
        f"* **Load average** (1/5/15 min) at start {results['load_average_start']}, "
        f"at end {results.get('load_average_end')}. Other processes running at "
        'the same time slow every figure down; the ratios, measured in the same '
        'run, suffer less.',
    ]
    if results.get('note'):
        lines.append(f"* **Conditions:** {results['note']}")
    lines.append('')
    for title, header, rows in tables(results):
        lines += [f'## {title}', '', format_table(header, rows, markdown=True), '']
    equiv = [x for x in results['models'] if 'equivalence' in x]
    if equiv:
        lines += ['## Equivalence of the optimised model', '']
        for x in equiv:
            e = x['equivalence']
            lines.append(f"* {x['name']}: max |logits - unoptimised logits| = "
                         f"{e['max_abs_diff']:.3g} with max |logit| "
                         f"{e['max_abs_logit']:.3g} (within 1e-4 relative: "
                         f"{'yes' if e['equal_within_1e-4'] else 'NO'})")
        lines.append('')
    if results.get('findings'):
        lines += ['## Findings', ''] + [f'* {f}' for f in results['findings']] + ['']
    lines.append(MARKDOWN_NOTES)
    return '\n'.join(lines)


def findings(results: dict) -> List[str]:
    """Plain statements derived from the figures (targets, starvation)."""
    out = []
    by_model: Dict[str, List[dict]] = {}
    for t in results['targets']:
        by_model.setdefault(t['model'], []).append(t)
    for model, targets in by_model.items():
        missed = [t for t in targets if not t['met']]
        if not missed:
            out.append(f'{model} meets all {len(targets)} targets.')
        else:
            out.append(f'{model} misses {len(missed)} of {len(targets)} targets: ' +
                       '; '.join(f"{t['target']} ({t['value']:.3f} vs "
                                 f"{t['threshold']}"
                                 + (f", against {t['baseline']}"
                                    if t.get('baseline', '-') != '-' else '')
                                 + ')' for t in missed) + '.')
    base = next((m for m in results['models']
                 if m['spec']['kind'] == 'baseline' and 'training' in m), None)
    if base is not None and base['training'].get('minor_faults_median'):
        t = base['training']
        out.append(
            f"Page faults: one training step of {base['name']} takes "
            f"{t['minor_faults_median']:,.0f} minor page faults and "
            f"{t['system_cpu_s_median']:.2f} s of system CPU time (its wall time is "
            f"{t['median_s']:.2f} s on {results['settings']['threads']} threads): "
            "glibc maps every large tensor afresh and the kernel zeroes the pages. "
            'That is a property of the process, not of the model; the +malloc rows '
            'show what keeping freed memory costs in resident memory and saves in '
            'time.')
    for d in results.get('data', []):
        if 'starves_model' not in d:
            continue
        verdict = ('starves the model' if d['starves_model'] else
                   'keeps up with the model')
        out.append(f"{d['name']}: {d['samples_per_s']:.1f} samples/s per process "
                   f"vs {d['model_train_samples_per_s']:.3f} consumed by "
                   f"{d['model']}: {verdict} with the config's "
                   f"{d['num_workers']} workers ({d['workers_needed']} needed).")
    return out


def main(argv: Optional[Sequence[str]] = None) -> dict:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if args.worker:
        serve(json.loads(args.worker), args.result_fd)
        return {}
    if args.render:
        with open(args.render) as f:
            results = json.load(f)
    else:
        results = run(args, argv)
    results['findings'] = findings(results)
    print_report(results)
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=1)
        print(f'\nwrote {args.out}')
    if args.markdown:
        os.makedirs(osp.dirname(osp.abspath(args.markdown)), exist_ok=True)
        with open(args.markdown, 'w') as f:
            f.write(to_markdown(results))
        print(f'wrote {args.markdown}')
    return results


if __name__ == '__main__':
    main()
