"""A plain training run of a shipped config prints no warning (issue 19, item 9).

``tools/train.py`` trains the shipped demo config by name in a fresh process
(shorter, on a small demo tree; validation, checkpoints and the best checkpoint
included). Its whole output must hold no warning line at all; :data:`DROPPED`
lists the upstream messages the plugin drops at their source, each also checked
by name. The rest of a user's way is checked where it already runs, in fresh
processes of the installed wheel (``tests/test_packaging.py``): ``MMSegInferencer``
by config path and by name (mmengine's "Failed to search registry with scope
"mmseg""; the visualizer's "please provide the `save_dir` argument"),
``mmseg-fcn-export`` (torch.onnx's "Skipping torchvision::nms", the ``LeafSpec``
FutureWarning), ``mim train`` / ``mim test`` and the console scripts; and
``tools/test.py --show-dir`` in ``test_train.py``.
"""
import os
import os.path as osp
import subprocess
import sys
import textwrap

import pytest

from mmseg_fcn_classic.testing.synthetic import make_demo_dataset
from tests.conftest import warning_lines

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

#: The upstream messages a training run would print, which the plugin drops.
DROPPED = {
    'The draw is False': "mmseg's SegVisualizationHook (FCNSegVisualizationHook)",
    'is skipped since its requires_grad=False':
    "mmengine's DefaultOptimWrapperConstructor (FCNOptimWrapperConstructor)",
    '"FileClient" will be deprecated': "mmengine's CheckpointHook and save_checkpoint "
    '(AtomicCheckpointHook)',
    '"HardDiskBackend" is the alias': "mmengine's FileClient (AtomicCheckpointHook)",
    '``build_loss`` would be deprecated': "mmseg's BaseDecodeHead (ClassicFCNHead)",
    'we suggest using out_channels = 1': "mmseg's BaseDecodeHead (ClassicFCNHead)",
    'The prefix is not set in metric class': "mmengine's BaseMetric (FCNMetric)",
}


def _run(cmd, cwd) -> str:
    env = dict(os.environ, OMP_NUM_THREADS='1',
               PYTHONPATH=REPO + os.pathsep + os.environ.get('PYTHONPATH', ''))
    env.pop('PYTHONWARNINGS', None)  # Python's default warning filters, as a user has
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-6000:]
    return proc.stdout


@pytest.fixture(scope='module')
def plain_run(tmp_path_factory):
    """(output, work dir) of ``tools/train.py`` on the shipped demo config by name,
    stdout and stderr in the order printed."""
    root = tmp_path_factory.mktemp('quiet')
    make_demo_dataset(str(root / 'data'), counts=dict(train=4, valid=1, test=1),
                      size_range=(40, 56))
    work = str(root / 'work')
    loaders = [f'{split}_dataloader.dataset.data_root=data'
               for split in ('train', 'val', 'test')]
    out = _run([sys.executable, '-u', osp.join(REPO, 'tools', 'train.py'),
                'fcn8s_vgg16_demo', '--work-dir', work, '--cfg-options',
                'train_cfg.max_iters=4', 'train_cfg.val_interval=2',
                'default_hooks.checkpoint.interval=2', *loaders], root)
    return out, work


def test_the_run_trained_validated_and_saved(plain_run):
    out, work = plain_run
    assert 'Iter(val) [' in out and 'mIoU' in out
    saved = sorted(n for n in os.listdir(work) if n.endswith('.pth'))
    assert len(saved) == 2 and saved[1] == 'iter_4.pth', saved  # max_keep_ckpts=1
    assert saved[0] in ('best_mIoU_iter_2.pth', 'best_mIoU_iter_4.pth'), saved


@pytest.mark.parametrize('message', sorted(DROPPED))
def test_dropped_upstream_message_is_not_printed(plain_run, message):
    out, _ = plain_run
    assert message not in out, f'{message!r} ({DROPPED[message]}) is printed'


def test_no_warning_line_at_all(plain_run):
    out, _ = plain_run
    assert warning_lines(out) == []


def test_frozen_parameters_named_once_at_info(plain_run):
    out, _ = plain_run
    lines = [line for line in out.splitlines() if 'frozen parameters' in line]
    assert len(lines) == 1 and ' - INFO - ' in lines[0], lines
    assert lines[0].endswith('3 frozen parameters (requires_grad=False) are not '
                             'optimised: decode_head.upscore2.weight, '
                             'decode_head.upscore_pool4.weight, '
                             'decode_head.upscore8.weight')
