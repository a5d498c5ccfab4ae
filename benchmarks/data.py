"""Can the data keep up? Samples/s of one loader worker per shipped training pipeline.

Each pipeline is a shipped config's ``train_dataloader`` over generated data in
its real on-disk format (:mod:`mmseg_fcn_classic.testing.synthetic` writers),
loaded the way the runner loads it: mmengine's ``Runner.build_dataloader`` with the
config's dataset, transforms, sampler and collate function, in **one** worker
process (``num_workers=1``). The rate the training loop receives from it is the
rate of one worker; a training run needs :func:`workers_needed` of them per GPU.

The GPU rate to feed is either given or estimated from FLOPs
(:func:`gpu_images_per_s`): a GPU at ``GPU_PEAK_FRACTION`` of its bf16 matmul
peak trains ``fraction * peak / FLOPs per image`` images per second, with the
FLOPs of one FCN-8s training step counted by torch's FLOP counter on the meta
device (:func:`train_flops_per_image`, no arithmetic is done).

From a clone's root, ``python -m benchmarks.data ROOT`` writes a VOC2012 + SBD
tree for a short training run (``benchmarks/gpu_check.sh``).
"""
import argparse
import copy
import functools
import math
import os
import os.path as osp
import tempfile
import time
import traceback
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

#: A GPU trains at this fraction of its bf16 matmul peak (issue 12's batch-16 target).
GPU_PEAK_FRACTION = 0.5
#: bf16 matmul peak assumed when no GPU was measured: issue 12's figure for an H200
#: (TFLOP/s). A CUDA run with a bf16 mode measures its own (``benchmarks.cli``).
STATED_GPU_PEAK_TFLOPS = 790.0
#: Spare worker capacity: per-worker rates vary with image size and content, and
#: the training process shares the CPU (``--worker-headroom``).
WORKER_HEADROOM = 1.25

Size = Tuple[int, int]
#: VOC / SBD images are 500x375, landscape or portrait (h, w).
VOC_SIZES: Tuple[Size, ...] = ((375, 500), (500, 375))
#: polyps912 frames are 574x500 (h, w).
POLYPS_SIZE: Size = (500, 574)

#: The shipped training pipelines: row name, leaf config, dataset overrides, the
#: writer of its data (:data:`WRITERS`), and whether its model is one a GPU
#: would train (the demo's narrow model trains on the CPU).
PIPELINES: Tuple[dict, ...] = (
    dict(name='VOC configs: SBD train (jpg + .mat, whole images)',
         config='fcn8s_vgg16_voc.py', overrides={}, writer='voc_sbd', gpu=True),
    dict(name='VOC2012 train (jpg + palette png, whole images)',
         config='fcn8s_vgg16_voc.py', overrides=dict(split='train'),
         writer='voc_sbd', gpu=True),
    dict(name='polyps912 (bmp + tif, 224 crop + flip)',
         config='fcn8s_vgg16_polyps912.py', overrides={}, writer='polyps912',
         gpu=True),
    dict(name="mmseg's VOC aug (resize, 512 crop, flip, photometric)",
         config='fcn8s_vgg16_voc_mmseg-aug.py', overrides={}, writer='voc_aug',
         gpu=True),
    dict(name='demo (polyps912 layout, 64 crop + flip)',
         config='fcn8s_vgg16_demo.py', overrides={}, writer='demo', gpu=False),
)


# --------------------------------------------------------------------------------
# Pure helpers
# --------------------------------------------------------------------------------
def workers_needed(rate: float, per_worker: float,
                   headroom: float = WORKER_HEADROOM) -> int:
    """Loader workers that deliver ``rate`` samples/s: ``ceil(rate * headroom /
    per_worker)``.

    Args:
        rate (float): Samples per second the training loop consumes (>= 0).
        per_worker (float): Samples per second one worker delivers (> 0).
        headroom (float): Spare capacity factor (>= 1). Defaults to
            :data:`WORKER_HEADROOM`.

    Returns:
        int: The number of workers (0 for a rate of 0).

    Example:
        >>> workers_needed(450, 150), workers_needed(450, 150, headroom=1.0)
        (4, 3)
    """
    if per_worker <= 0 or rate < 0 or headroom < 1:
        raise ValueError(f'workers_needed: need rate >= 0, per_worker > 0 and '
                         f'headroom >= 1, got {rate}, {per_worker}, {headroom}')
    # rounded first, so that an exact multiple is not pushed up by float error
    return math.ceil(round(rate * headroom / per_worker, 9))


def gpu_images_per_s(flops_per_image: float, peak_flops: float,
                     fraction: float = GPU_PEAK_FRACTION) -> float:
    """Images per second a GPU trains at ``fraction`` of its matmul peak.

    Args:
        flops_per_image (float): FLOPs of one image's training step.
        peak_flops (float): The GPU's matmul peak in FLOP/s.
        fraction (float): Achieved fraction of the peak. Defaults to
            :data:`GPU_PEAK_FRACTION`.

    Returns:
        float: ``fraction * peak_flops / flops_per_image``.

    Example:
        >>> gpu_images_per_s(1e12, 800e12)
        400.0
    """
    if flops_per_image <= 0:
        raise ValueError(f'flops_per_image must be > 0, got {flops_per_image}')
    return fraction * peak_flops / flops_per_image


@functools.lru_cache(maxsize=None)
def train_flops_per_image(num_classes: int, height: int, width: int) -> int:
    """FLOPs of one FCN-8s training step (forward, summed cross-entropy, backward)
    on one ``height`` x ``width`` image, counted with
    ``torch.utils.flop_counter.FlopCounterMode`` on the meta device.

    The count is the benchmark's plain FCN-8s
    (:class:`~mmseg_fcn_classic.testing.plain_fcn.PlainFCN8s`): the reference
    layers, with dense upscores, which count slightly more than our depthwise ones.
    """
    import torch
    import torch.nn.functional as F
    from torch.utils.flop_counter import FlopCounterMode

    from mmseg_fcn_classic.testing.plain_fcn import PlainFCN8s
    with torch.device('meta'):
        model = PlainFCN8s(num_classes)
        x = torch.empty(1, 3, height, width)
        labels = torch.zeros(1, height, width, dtype=torch.long)
    counter = FlopCounterMode(display=False)
    with counter:
        F.cross_entropy(model(x), labels, ignore_index=255, reduction='sum').backward()
    return int(counter.get_total_flops())


def set_data_root(dataset: dict, root: str) -> dict:
    """Point a dataset config, and the datasets it wraps, at ``root`` (in place)."""
    if 'datasets' in dataset:
        for ds in dataset['datasets']:
            set_data_root(ds, root)
    elif 'dataset' in dataset:
        set_data_root(dataset['dataset'], root)
    else:
        dataset['data_root'] = root
    return dataset


# --------------------------------------------------------------------------------
# Generated data in the real formats
# --------------------------------------------------------------------------------
def _photo_like(rng: np.random.Generator, h: int, w: int):
    """A :func:`synth_frame` image and its polyps as the object: JPEG decoding costs
    what it costs on photographs rather than on noise."""
    from mmseg_fcn_classic.testing.synthetic import synth_frame
    img, mask = synth_frame(rng, h, w)
    return img, mask == 1


def make_voc_sbd_data(root: str, count: int, sizes: Sequence[Size] = VOC_SIZES,
                      val: int = 1, seed: int = 0) -> str:
    """VOC2012 (jpg + palette png) and SBD (jpg + ``.mat``) trees under ``root``
    (:func:`~mmseg_fcn_classic.testing.synthetic.make_voc_sbd_tree`): ``count``
    train and ``val`` val ids each, all ids disjoint.

    Returns:
        str: ``root`` (the VOC configs' ``data_root``).
    """
    from mmseg_fcn_classic.testing.synthetic import make_voc_sbd_tree
    ids = [f'2008_{n:06d}' for n in range(2 * (count + val))]
    voc, sbd = ids[:count + val], ids[count + val:]
    make_voc_sbd_tree(root, voc_train=voc[:count], voc_val=voc[count:],
                      sbd_train=sbd[:count], sbd_val=sbd[count:], sizes=sizes,
                      extra_voc_images=(), draw=_photo_like, seed=seed)
    return root


def make_voc_aug_data(root: str, count: int, sizes: Sequence[Size] = VOC_SIZES,
                      seed: int = 0) -> str:
    """mmseg's VOC layout (``pascal_voc12_aug.py``) under ``root``: the VOC2012
    tree of ``count`` train ids, plus ``SegmentationClassAug`` (grayscale png) and
    ``ImageSets/Segmentation/aug.txt`` for the same ids.

    Returns:
        str: The ``VOCdevkit/VOC2012`` folder (the config's ``data_root``).
    """
    import cv2
    from PIL import Image

    from mmseg_fcn_classic.testing.synthetic import make_voc_sbd_tree
    ids = [f'2008_{n:06d}' for n in range(count + 1)]
    tree = make_voc_sbd_tree(root, voc_train=ids[:count], voc_val=ids[count:],
                             sbd=False, sizes=sizes, extra_voc_images=(),
                             draw=_photo_like, seed=seed)
    voc = tree['voc_root']
    os.makedirs(osp.join(voc, 'SegmentationClassAug'), exist_ok=True)
    for sample_id in tree['voc_train']:
        label = np.array(Image.open(osp.join(voc, 'SegmentationClass',
                                             sample_id + '.png')))
        path = osp.join(voc, 'SegmentationClassAug', sample_id + '.png')
        if not cv2.imwrite(path, label):
            raise OSError(f'could not write {path}')
    with open(osp.join(voc, 'ImageSets', 'Segmentation', 'aug.txt'), 'w') as f:
        f.write(''.join(i + '\n' for i in tree['voc_train']))
    return voc


def make_polyps_data(root: str, count: int, size: Size = POLYPS_SIZE,
                     seed: int = 0) -> str:
    """A polyps912 ``train`` split of ``count`` :func:`synth_frame` frames
    (``images/*.bmp``, ``masks2/*.tif``); ``valid`` and ``test`` are empty."""
    from mmseg_fcn_classic.testing.synthetic import synth_frame, write_polyps912
    rng = np.random.default_rng(seed)

    def draw(_):
        img, mask = synth_frame(rng, *size)
        return img, {'masks2': mask}

    write_polyps912(root, {'train': count, 'valid': 0, 'test': 0}, draw)
    return root


def make_demo_data(root: str, count: int, seed: int = 0) -> str:
    """The demo's data (:func:`make_demo_dataset`), ``count`` train frames."""
    from mmseg_fcn_classic.testing.synthetic import make_demo_dataset
    return make_demo_dataset(root, counts={'train': count, 'valid': 0, 'test': 0},
                             seed=seed)


#: Writer name -> ``(root, count, seed, voc_sizes, polyps_size) -> data_root``.
WRITERS: Dict[str, Callable[..., str]] = {
    'voc_sbd': lambda root, count, seed, voc_sizes, _: make_voc_sbd_data(
        root, count, voc_sizes, seed=seed),
    'voc_aug': lambda root, count, seed, voc_sizes, _: make_voc_aug_data(
        root, count, voc_sizes, seed),
    'polyps912': lambda root, count, seed, _, polyps_size: make_polyps_data(
        root, count, polyps_size, seed),
    'demo': lambda root, count, seed, *_: make_demo_data(root, count, seed),
}


# --------------------------------------------------------------------------------
# Measurement
# --------------------------------------------------------------------------------
class StampedCollate:
    """A collate function that also returns the worker's CPU time when the batch
    was ready (``time.process_time()``), so that the worker's CPU seconds per
    batch can be told from the wall time on a busy machine."""

    def __init__(self, collate: Callable) -> None:
        self.collate = collate

    def __call__(self, samples: list) -> Tuple[dict, float]:
        return self.collate(samples), time.process_time()


def loader_rate(cfg, data_root: str, overrides: dict, samples: int,
                warmup_batches: int = 1) -> dict:
    """Samples/s that one loader worker delivers for a config's train pipeline.

    The config's ``train_dataloader`` is built by ``Runner.build_dataloader``
    (dataset, transforms, sampler, collate function, seed 0) with
    ``num_workers=1``, the config's multiprocessing start method and OpenCV
    threads, and no pinned memory (pinning is the main process's work). After
    ``warmup_batches`` (the worker's start-up), enough batches for ``samples``
    samples are timed as the training loop receives them (wall time), and the
    worker's CPU time for them is read off :class:`StampedCollate`. The worker is
    single-threaded (torch sets one thread in loader workers, OpenCV as
    configured), so its rate per CPU-second is what it delivers with a core to
    itself; on a loaded machine the wall rate is lower.

    Args:
        cfg (Config): The leaf config.
        data_root (str): Where the generated data is.
        overrides (dict): Dataset keys to change (e.g. ``split``).
        samples (int): Samples to time (at least one batch).
        warmup_batches (int): Untimed batches first (at least 1). Defaults to 1.

    Returns:
        dict: ``samples``, ``batches``, ``seconds``, ``samples_per_s``,
        ``ms_per_sample``, ``cpu_seconds``, ``samples_per_cpu_s``,
        ``sample_shape`` (C, H, W of the first timed sample).
    """
    import cv2
    from mmengine.runner import Runner
    loader_cfg = copy.deepcopy(cfg.train_dataloader.to_dict())
    set_data_root(loader_cfg['dataset'], data_root)
    loader_cfg['dataset'].update(overrides)
    mp_cfg = cfg.get('env_cfg', {}).get('mp_cfg', {})
    cv2.setNumThreads(int(mp_cfg.get('opencv_num_threads', 0)))
    loader_cfg.update(num_workers=1, persistent_workers=False, pin_memory=False,
                      timeout=600)
    if mp_cfg.get('mp_start_method'):
        loader_cfg['multiprocessing_context'] = mp_cfg['mp_start_method']
    batch_size = int(loader_cfg['batch_size'])
    batches = max(1, math.ceil(samples / batch_size))
    loader = Runner.build_dataloader(loader_cfg, seed=0)
    loader.collate_fn = StampedCollate(loader.collate_fn)
    it = iter(loader)
    try:
        for _ in range(max(1, warmup_batches)):
            _, cpu_start = next(it)
        start = time.perf_counter()
        for n in range(batches):
            batch, cpu_end = next(it)
            if n == 0:
                shape = list(batch['inputs'][0].shape)
        seconds = time.perf_counter() - start
    finally:
        del it  # stops the worker
    done = batches * batch_size
    cpu_seconds = cpu_end - cpu_start
    return dict(samples=done, batches=batches, seconds=seconds,
                samples_per_s=done / seconds, ms_per_sample=1e3 * seconds / done,
                cpu_seconds=cpu_seconds, samples_per_cpu_s=done / cpu_seconds,
                sample_shape=shape)


def pipeline_entry(pipeline: dict, cfg, data_root: str, samples: int) -> dict:
    """One pipeline's row: the config's loader settings and :func:`loader_rate`."""
    loader = cfg.train_dataloader
    entry = dict(
        name=pipeline['name'], config=pipeline['config'],
        dataset=loader.dataset.type, batch_size=int(loader.batch_size),
        num_workers=int(loader.get('num_workers', 0)),
        persistent_workers=bool(loader.get('persistent_workers', False)),
        pin_memory=bool(loader.get('pin_memory', False)),
        num_classes=int(cfg.model.decode_head.num_classes), gpu=pipeline['gpu'])
    entry.update(loader_rate(cfg, data_root, pipeline['overrides'], samples))
    return entry


def data_throughput(count: int, reps: int, seed: int = 0,
                    voc_sizes: Sequence[Size] = VOC_SIZES,
                    polyps_size: Size = POLYPS_SIZE,
                    pipelines: Sequence[dict] = PIPELINES) -> List[dict]:
    """Samples/s of one loader worker for each shipped training pipeline.

    ``count`` samples per dataset are generated, ``count * reps`` are timed. A
    pipeline that fails (e.g. a config whose ``mmseg::`` base cannot be resolved)
    gets an entry with ``error`` and the others still run.

    Returns:
        list[dict]: One entry per pipeline (:func:`pipeline_entry`).
    """
    from mmengine.config import Config

    from mmseg_fcn_classic.utils.config import config_path

    from .cases import init_mmseg
    init_mmseg()
    results = []
    with tempfile.TemporaryDirectory(prefix='fcn_bench_data_') as tmp:
        roots: Dict[str, str] = {}
        for pipeline in pipelines:
            try:
                writer = pipeline['writer']
                if writer not in roots:
                    roots[writer] = WRITERS[writer](
                        osp.join(tmp, writer), count, seed, voc_sizes, polyps_size)
                cfg = Config.fromfile(config_path(pipeline['config']))
                results.append(pipeline_entry(pipeline, cfg, roots[writer],
                                              count * reps))
            except Exception as e:  # noqa: BLE001  (reported in the entry)
                results.append(dict(name=pipeline['name'], config=pipeline['config'],
                                    gpu=pipeline['gpu'],
                                    error=f'{type(e).__name__}: {e}',
                                    traceback=traceback.format_exc()))
    return results


def add_gpu_rate(entries: List[dict], gpu_rate: Optional[float],
                 peak_flops: float, peak_source: str,
                 headroom: float = WORKER_HEADROOM) -> None:
    """Add the GPU rate to feed and the workers it needs to each entry (in place).

    With ``gpu_rate`` (images/s) every pipeline is given that rate; without, a
    GPU pipeline's rate is :func:`gpu_images_per_s` of its sample size's
    :func:`train_flops_per_image` at ``peak_flops``, and the demo gets none.
    ``workers_needed`` is from the measured (wall) rate per worker,
    ``workers_needed_own_core`` from the rate per CPU-second (a worker with a core
    to itself, as on a GPU node with cores to spare); ``enough_workers`` compares
    the latter with the config's ``num_workers``.
    """
    for e in entries:
        if 'samples_per_s' not in e:
            continue
        if gpu_rate is not None:
            e['gpu_rate'] = dict(images_per_s=float(gpu_rate), source='--gpu-rate')
        elif e['gpu']:
            _, h, w = e['sample_shape']
            flops = train_flops_per_image(e['num_classes'], h, w)
            e['gpu_rate'] = dict(
                images_per_s=gpu_images_per_s(flops, peak_flops),
                source=f'{GPU_PEAK_FRACTION:.0%} of {peak_flops / 1e12:.0f} '
                f'TFLOP/s ({peak_source}) / {flops / 1e9:.0f} GFLOP per {w}x{h} '
                'image (FCN-8s training step, FLOP counter)',
                gflop_per_image=flops / 1e9, peak_tflops=peak_flops / 1e12,
                fraction=GPU_PEAK_FRACTION)
        else:
            continue
        rate = e['gpu_rate']['images_per_s']
        e['headroom'] = headroom
        e['workers_needed'] = workers_needed(rate, e['samples_per_s'], headroom)
        e['workers_needed_own_core'] = workers_needed(rate, e['samples_per_cpu_s'],
                                                      headroom)
        e['enough_workers'] = e['num_workers'] >= e['workers_needed_own_core']


def main(argv: Optional[Sequence[str]] = None) -> None:
    """``python -m benchmarks.data ROOT``: a VOC2012 + SBD tree for a short run."""
    parser = argparse.ArgumentParser(
        description='Write generated VOC2012 + SBD data (real formats) to ROOT.')
    parser.add_argument('root')
    parser.add_argument('--count', type=int, default=16,
                        help='train ids of VOC and of SBD')
    parser.add_argument('--val', type=int, default=4, help='val ids of each')
    parser.add_argument('--size', nargs=2, type=int, metavar=('H', 'W'),
                        help='one image size (default: 500x375, both ways)')
    args = parser.parse_args(argv)
    sizes = [tuple(args.size)] if args.size else VOC_SIZES
    make_voc_sbd_data(args.root, args.count, sizes, val=args.val)
    print(f'wrote {args.root}: VOC2012 and SBD, {args.count} train and '
          f'{args.val} val ids each')


if __name__ == '__main__':
    main()
