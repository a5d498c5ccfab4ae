"""What the runner tools (train, test) share: arguments and config loading."""
import argparse
import os
import os.path as osp
from typing import Optional

from mmengine.config import Config, DictAction

from ..utils.config import resolve_config

#: Help text of a CONFIG argument.
CONFIG_HELP = ('config file, or a shipped config by name (fcn8s_vgg16_voc, with or '
               'without .py) or package path (mmseg_fcn_classic::fcn8s_vgg16_voc.py); '
               'a local file of that name wins')

LAUNCHERS = ('none', 'pytorch', 'slurm', 'mpi')


def add_runner_args(parser: argparse.ArgumentParser) -> None:
    """``--work-dir``, ``--cfg-options``, ``--launcher`` and ``--local-rank``."""
    parser.add_argument('--work-dir', help='the dir to save logs, models and results')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings in the config, e.g. train_cfg.max_iters=10')
    parser.add_argument('--launcher', choices=LAUNCHERS, default='none',
                        help='job launcher')
    # torch.distributed.launch passes `--local-rank` (torch>=2.0) or `--local_rank`
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def add_malloc_arg(parser: argparse.ArgumentParser, default: bool) -> None:
    """``--keep-freed-memory`` / ``--no-keep-freed-memory`` (CPU only)."""
    parser.add_argument(
        '--keep-freed-memory', action=argparse.BooleanOptionalAction, default=default,
        help='on the CPU, let glibc keep freed tensors for reuse instead of '
        'unmapping them: no page faults per step, higher resident peak '
        f'(default: {"on" if default else "off"}; docs/benchmarks.md)')


def load_config(args: argparse.Namespace, work_dir: Optional[str] = None) -> Config:
    """Read ``args.config``, apply ``--cfg-options``, set launcher and work dir.

    ``args.config`` is a file or a shipped config by name
    (:func:`~mmseg_fcn_classic.utils.config.resolve_config`). The work dir is
    ``--work-dir``, else the config's ``work_dir``, else
    ``./work_dirs/<config name>``.
    """
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    args.config = resolve_config(args.config)
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = resolve_work_dir(cfg, args.config, args.work_dir)
    return cfg


def resolve_work_dir(cfg: Config, config_path: str, work_dir=None) -> str:
    """CLI > ``work_dir`` in the config > ``./work_dirs/<config name>``."""
    if work_dir is not None:
        return work_dir
    if cfg.get('work_dir', None) is not None:
        return cfg.work_dir
    return osp.join('./work_dirs', osp.splitext(osp.basename(config_path))[0])


def keep_freed_memory(enabled: bool) -> None:
    """Apply ``--keep-freed-memory`` on a CPU-only machine, and log it."""
    import torch
    from mmengine.logging import print_log

    from ..utils.runtime import tune_glibc_malloc
    if enabled and not torch.cuda.is_available():
        kept = tune_glibc_malloc()
        print_log(f'--keep-freed-memory: glibc keeps freed memory: {kept}',
                  logger='current')
