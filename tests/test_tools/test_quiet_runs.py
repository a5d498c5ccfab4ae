"""A plain run of a shipped config prints no warning (issue 19, item 9).

Fresh processes do what a user does with the shipped demo config: train it with
``tools/train.py`` (validation, checkpoints and the best checkpoint included), then
segment an image with ``MMSegInferencer`` by config path (scope ``mmseg``), export
it to ONNX and segment by metafile name (scope ``mmseg_fcn_classic``). Their whole
output must hold no warning line at all; :data:`DROPPED` lists the upstream
messages the plugin drops at their source, each also checked by name.
(``tools/test.py --show-dir`` on a config of the demo's: ``test_train.py``.)
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

#: The upstream messages the plugin drops, and where (docs/plugin.md, "Warnings").
DROPPED = {
    'The draw is False': "mmseg's SegVisualizationHook (FCNSegVisualizationHook)",
    'is skipped since its requires_grad=False':
    "mmengine's DefaultOptimWrapperConstructor (FCNOptimWrapperConstructor)",
    '"FileClient" will be deprecated': "mmengine's CheckpointHook and save_checkpoint "
    '(AtomicCheckpointHook)',
    '"HardDiskBackend" is the alias': "mmengine's FileClient (AtomicCheckpointHook)",
    'Failed to search registry with scope': "MMSegInferencer's collate function in "
    "scope mmseg (the plugin's mmseg-scope FUNCTIONS registry)",
    'please provide the `save_dir` argument': "mmengine's Visualizer in "
    'MMSegInferencer (FCNSegLocalVisualizer)',
    'torchvision is not installed': "torch.onnx's registry (apis.deploy.save_onnx)",
    'LeafSpec': "torch's pytree, in torch.onnx.export (apis.deploy.save_onnx)",
    '``build_loss`` would be deprecated': "mmseg's BaseDecodeHead (ClassicFCNHead)",
    'we suggest using out_channels = 1': "mmseg's BaseDecodeHead (ClassicFCNHead)",
    'The prefix is not set in metric class': "mmengine's BaseMetric (FCNMetric)",
}
#: The inference and export steps, in one process as a user's script would run
#: them (scope mmseg, then scope mmseg_fcn_classic: no scope is switched back).
DRIVER = textwrap.dedent('''
    import sys

    import numpy as np
    from mmseg.apis import MMSegInferencer

    from mmseg_fcn_classic.tools import export
    from mmseg_fcn_classic.utils.config import config_path

    ckpt, onnx_file = sys.argv[1:]
    image = np.zeros((40, 48, 3), np.uint8)


    def step(name):
        print(f'@@ {name}', flush=True)


    step('MMSegInferencer by config path')
    MMSegInferencer(config_path('fcn8s_vgg16_demo.py'), weights=ckpt,
                    device='cpu')(image)
    step('export onnx')
    assert export.main(['fcn8s_vgg16_demo', ckpt, '--format', 'onnx', '--dynamic',
                        '--out', onnx_file]) == 0
    step('MMSegInferencer by name')
    MMSegInferencer('fcn8s_vgg16_demo', weights=ckpt, device='cpu',
                    scope='mmseg_fcn_classic')(image)
    step('done')
''')
STEPS = ('train', 'MMSegInferencer by config path', 'export onnx',
         'MMSegInferencer by name', 'done')


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
    """(output, work dir): ``tools/train.py`` on the shipped demo config by name
    (shorter, on a small demo tree), then :data:`DRIVER`, each in a fresh process;
    stdout and stderr in the order printed."""
    root = tmp_path_factory.mktemp('quiet')
    data = make_demo_dataset(str(root / 'data'), counts=dict(train=4, valid=1, test=1),
                             size_range=(40, 56))
    work = str(root / 'work')
    loaders = [f'{split}_dataloader.dataset.data_root={data}'
               for split in ('train', 'val', 'test')]
    out = '@@ train\n' + _run(
        [sys.executable, '-u', osp.join(REPO, 'tools', 'train.py'), 'fcn8s_vgg16_demo',
         '--work-dir', work, '--cfg-options', 'train_cfg.max_iters=4',
         'train_cfg.val_interval=2', 'default_hooks.checkpoint.interval=2', *loaders],
        root)
    out += _run([sys.executable, '-u', '-c', DRIVER, osp.join(work, 'iter_4.pth'),
                 osp.join(work, 'demo.onnx')], root)
    return out, work


def test_every_step_ran(plain_run):
    out, work = plain_run
    assert [line[3:] for line in out.splitlines() if line.startswith('@@ ')] == \
        list(STEPS)
    assert 'Iter(val) [' in out and 'mIoU' in out
    assert osp.isfile(osp.join(work, 'best_mIoU_iter_2.pth'))  # the demo's save_best
    assert osp.isfile(osp.join(work, 'demo.onnx'))


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
