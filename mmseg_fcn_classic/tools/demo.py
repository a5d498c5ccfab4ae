"""The main job on the embedded demo data: train FCN-8s, evaluate, draw, report.

``make demo`` runs this. On first use it writes a synthetic polyp dataset in the
polyps912 layout (``mmseg_fcn_classic/testing/synthetic.py``); then it trains the narrow
FCN-8s of the shipped config ``fcn8s_vgg16_demo`` on CPU (log lines show progress
and ETA), evaluates the best checkpoint on the test split, writes prediction
overlays and a learning-curve plot into the work dir, and prints where everything is.
"""
import argparse
import glob
import json
import os
import os.path as osp
from typing import Dict, List, Optional

import cv2
import numpy as np
from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from ..apis.inference import build_inference_pipeline, init_model, segment_image
from ..testing.synthetic import ensure_demo_dataset
from ..utils.config import resolve_config


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', default='fcn8s_vgg16_demo',
                        help='the demo config: a file, or a shipped config by name '
                        '(default: fcn8s_vgg16_demo, shipped with the package)')
    parser.add_argument('--work-dir', default='work_dirs/fcn8s_vgg16_demo',
                        help='where the checkpoints, logs, overlays and the '
                        'learning curve go (default: work_dirs/fcn8s_vgg16_demo)')
    parser.add_argument('--data-root', default=None,
                        help='dataset folder (default: the config\'s data_root)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings in the config')
    return parser.parse_args(argv)


def read_scalars(work_dir: str) -> List[Dict]:
    """All records of the newest run's ``vis_data/scalars.json`` files under ``work_dir``."""
    records = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            records.extend(json.loads(line) for line in f if line.strip())
    return records


def plot_learning_curve(records: List[Dict], out_file: str) -> Optional[str]:
    """Plot training loss and validation mIoU against the iteration.

    Args:
        records (list[dict]): Lines of mmengine's ``scalars.json``.
        out_file (str): PNG to write.

    Returns:
        str | None: ``out_file``, or None when there was nothing to plot.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    train = [(r['step'], r['loss']) for r in records if 'loss' in r]
    val = [(r['step'], r['mIoU']) for r in records if 'mIoU' in r]
    if not train:
        return None
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(*zip(*train), color='tab:blue', label='train loss')
    ax.set_xlabel('iteration')
    ax.set_ylabel('training loss', color='tab:blue')
    if val:
        ax2 = ax.twinx()
        ax2.plot(*zip(*val), 'o-', color='tab:red', label='val mIoU')
        ax2.set_ylabel('validation mIoU (%)', color='tab:red')
    ax.set_title('FCN-8s demo: learning curve')
    fig.tight_layout()
    fig.savefig(out_file, dpi=100)
    plt.close(fig)
    return out_file


def overlay_panel(img_bgr: np.ndarray, gt: np.ndarray, pred: np.ndarray,
                  scale: int = 3) -> np.ndarray:
    """Frame | ground truth | prediction, side by side, as a BGR image.

    Args:
        img_bgr (np.ndarray): (H, W, 3) frame.
        gt (np.ndarray): (H, W) ``masks2`` label (0 background, 1 polyp, 2 void).
        pred (np.ndarray): (H, W) predicted classes (0 background, 1 polyp).
        scale (int): Nearest-neighbour magnification. Defaults to 3.

    Returns:
        np.ndarray: (scale*H, 3*scale*W, 3) uint8.
    """
    def paint(label: np.ndarray) -> np.ndarray:
        out = img_bgr.astype(np.float32)
        polyp = label == 1
        out[polyp] = 0.45 * out[polyp] + 0.55 * np.array([40, 220, 40])
        out[label == 2] = 90
        return out.astype(np.uint8)

    panel = np.concatenate([img_bgr, paint(gt), paint(pred)], axis=1)
    return cv2.resize(panel, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)


def write_overlays(cfg: Config, ckpt: str, split_dir: str, out_dir: str) -> List[str]:
    """Segment the frames of a polyps912 split and write :func:`overlay_panel` PNGs."""
    model = init_model(cfg, ckpt)
    pipeline = build_inference_pipeline(model.cfg)
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for img_path in sorted(glob.glob(osp.join(split_dir, 'images', '*.bmp'))):
        stem = osp.splitext(osp.basename(img_path))[0]
        img = cv2.imread(img_path)
        gt = cv2.imread(osp.join(split_dir, 'masks2', stem + '.tif'), cv2.IMREAD_UNCHANGED)
        pred = segment_image(model, pipeline, img)
        out = osp.join(out_dir, stem + '.png')
        cv2.imwrite(out, overlay_panel(img, gt, pred))
        written.append(out)
    return written


def run(argv: Optional[List[str]] = None) -> Dict[str, float]:
    """Run the demo; return the test-split metrics."""
    args = parse_args(argv)
    cfg = Config.fromfile(resolve_config(args.config))
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    data_root = args.data_root or cfg.data_root
    for split in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[split].dataset.data_root = data_root
    if ensure_demo_dataset(data_root):
        print(f'[demo] wrote the synthetic polyps912-layout dataset to {data_root}')
    cfg.work_dir = args.work_dir

    Runner.from_cfg(cfg.copy()).train()

    best = sorted(glob.glob(osp.join(args.work_dir, 'best_mIoU_iter_*.pth')))
    ckpt = best[-1] if best else osp.join(args.work_dir, f'iter_{cfg.train_cfg.max_iters}.pth')
    test_cfg = cfg.copy()
    test_cfg.load_from = ckpt
    if test_cfg.get('visualizer'):  # mmengine keeps one visualizer per name in a
        # process and warns when a second Runner asks for that name again
        test_cfg.visualizer.name = test_cfg.visualizer.get('name', 'visualizer') + '_test'
    metrics = Runner.from_cfg(test_cfg).test()

    show_dir = osp.join(args.work_dir, 'test_overlays')
    overlays = write_overlays(cfg, ckpt, osp.join(data_root, 'test'), show_dir)
    curve = plot_learning_curve(read_scalars(args.work_dir),
                                osp.join(args.work_dir, 'learning_curve.png'))
    print('\n[demo] test split of', data_root, 'with', ckpt)
    for key in ('aAcc', 'mAcc', 'mIoU', 'fwIoU', 'IoU.background', 'IoU.polyp'):
        if key in metrics:
            print(f'[demo]   {key:15s} {metrics[key]:6.2f}')
    print(f'[demo] {len(overlays)} prediction overlays (frame | ground truth | '
          f'prediction; polyp green, void grey) in {show_dir}')
    if curve:
        print(f'[demo] learning curve: {curve}')
    return metrics


def main(argv: Optional[List[str]] = None) -> int:
    run(argv)
    return 0


if __name__ == '__main__':
    main()
