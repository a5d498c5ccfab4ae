"""Scan a config's dataset: every file read once, every problem reported.

    mmseg-fcn-check-dataset CONFIG [--split train|val|test] [--cfg-options ...]

(or python -m mmseg_fcn_classic.tools.check_dataset; from a clone,
python tools/check_dataset.py). CONFIG is a file or a shipped config by name.

Builds {split}_dataloader.dataset of the config (datasets inside wrappers
such as ConcatDataset one by one), reads every image and label map as training
would, and reports all problems in one pass with counts: missing folders, images
without masks and masks without images, unreadable files, size mismatches and
label values outside the classes. Then prints the per-class pixel frequencies.
Exits with 1 when any problem was found, else 0.
"""
import argparse
import sys

from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope

from ..datasets.scan import scan_dataset_cfg
from ..utils.config import resolve_config
from .common import CONFIG_HELP


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help=CONFIG_HELP)
    parser.add_argument('--split', choices=['train', 'val', 'test'],
                        default='train',
                        help='which {split}_dataloader.dataset to scan')
    parser.add_argument('--no-progress', action='store_true',
                        help='do not show a progress bar')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings in the config, e.g. '
        'train_dataloader.dataset.data_root=/data/polyps')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        cfg = Config.fromfile(resolve_config(args.config))
    except FileNotFoundError as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    key = f'{args.split}_dataloader'
    if not cfg.get(key) or 'dataset' not in cfg[key]:
        print(f'{args.config} has no {key}.dataset', file=sys.stderr)
        return 2
    reports = scan_dataset_cfg(cfg[key]['dataset'],
                               progress=not args.no_progress)
    total = 0
    for title, report in reports:
        print(f'== {title}')
        print(report.format())
        total += len(report.problems)
    if total:
        print(f'FAILED: {total} problem(s) found in the {args.split} data')
        return 1
    print(f'OK: the {args.split} data has no problems')
    return 0


if __name__ == '__main__':
    sys.exit(main())
