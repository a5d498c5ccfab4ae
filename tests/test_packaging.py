"""The plugin installed from its wheel, used the way an mmseg user uses it.

The wheel is built from a copy of the source tree and installed into a fresh virtual
environment that sees the project's installed stack (torch, mmcv, mmengine, mmseg)
but neither the source tree nor its editable install. Three user configs, in a
project folder outside the repository, then train (with validation) and test through
mmseg's own stock ``tools/train.py`` and ``tools/test.py`` (mmseg's wheel ships them
in ``mmseg/.mim/tools``), each in a fresh process:

* ``inherit_bases.py`` inherits our shipped bases as ``mmseg_fcn_classic::...``;
* ``mmseg_bases.py`` inherits mmseg's own ``mmseg::`` configs and swaps in
  ``VGG16FC`` + ``ClassicFCNHead``;
* ``custom_imports.py`` names our components and only imports the plugin.

Then mim, ``MMSegInferencer``, mmseg's ``browse_dataset.py`` and the console scripts
run on the shipped configs by name. Whatever runs only our code prints no warning
(``tests.conftest.warning_lines``; pkg_resources' deprecation aside, see
:data:`PKG_RESOURCES`).
"""
import glob
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile

import mmseg
import pytest

from mmseg_fcn_classic.models.utils.fcn_spec import head_inputs
from mmseg_fcn_classic.testing.synthetic import make_demo_dataset, make_voc_sbd_tree
from tests.conftest import warning_lines

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
#: What the wheel is built from (``setup.py`` reads README and requirements).
SOURCES = ('setup.py', 'README.md', 'requirements', 'configs', 'model-index.yml',
           '_mmseg_fcn_classic_scope.py', 'mmseg_fcn_classic_onnx.py', 'tools',
           'mmseg_fcn_classic')
#: mmseg 1.2.2's stock command lines, as installed with mmseg.
MMSEG_TOOLS = osp.join(osp.dirname(mmseg.__file__), '.mim', 'tools')
TOOLS = ('train', 'test', 'infer', 'convert_weights', 'check_dataset', 'demo', 'export',
         'flops', 'publish')
NARROW = dict(widths=(4, 8, 8, 16, 16), fc_channels=16)
HEAD = head_inputs(('pool4', 'pool3'), **NARROW)
# two iterations, validated at the end, one checkpoint; no worker processes
SHORT_RUN = '''
train_cfg = dict(max_iters=2, val_interval=2)
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval=2, save_best=None))
randomness = dict(seed=0)
'''
LOADER = 'num_workers=0, persistent_workers=False'


def user_configs(polyps: str, voc: str) -> dict:
    """The three user configs, by file name."""
    narrow_model = (f'model = dict(\n    backbone=dict(widths={NARROW["widths"]}, '
                    f'fc_channels={NARROW["fc_channels"]}, init_cfg=None),\n'
                    f'    decode_head=dict(num_classes=2, **{HEAD!r}))\n')
    inherit_bases = f'''
    _base_ = [
        'mmseg_fcn_classic::_base_/models/fcn8s_vgg16.py',
        'mmseg_fcn_classic::_base_/datasets/polyps912.py',
        'mmseg_fcn_classic::_base_/schedules/fcn_polyps_adam.py',
        'mmseg_fcn_classic::_base_/default_runtime.py',
    ]
    train_dataloader = dict(batch_size=2, {LOADER}, dataset=dict(data_root={polyps!r}))
    val_dataloader = dict({LOADER}, dataset=dict(data_root={polyps!r}))
    test_dataloader = val_dataloader
    '''
    mmseg_bases = f'''
    _base_ = [
        'mmseg::_base_/models/fcn_r50-d8.py', 'mmseg::_base_/datasets/pascal_voc12.py',
        'mmseg::_base_/default_runtime.py', 'mmseg::_base_/schedules/schedule_20k.py'
    ]
    custom_imports = dict(imports=['mmseg_fcn_classic'], allow_failed_imports=False)
    model = dict(
        pretrained=None,  # mmseg's base names ResNet-50 weights
        # Caffe VGG16 input convention; training batches padded to the crop
        data_preprocessor=dict(_delete_=True, type='FCNDataPreProcessor',
                               weights='caffe', size=(48, 48)),
        backbone=dict(_delete_=True, type='VGG16FC', widths={NARROW["widths"]},
                      fc_channels={NARROW["fc_channels"]}),
        decode_head=dict(_delete_=True, type='ClassicFCNHead', num_classes=21,
                         **{HEAD!r}),
        auxiliary_head=None)
    train_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations'),
        dict(type='RandomResize', scale=(64, 48), ratio_range=(0.5, 2.0),
             keep_ratio=True),
        dict(type='RandomCrop', crop_size=(48, 48), cat_max_ratio=0.75),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PhotoMetricDistortion'),
        dict(type='PackSegInputs')
    ]
    test_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations'),
        dict(type='PackSegInputs')
    ]
    train_dataloader = dict(batch_size=2, {LOADER},
                            dataset=dict(data_root={voc!r}, pipeline=train_pipeline))
    val_dataloader = dict({LOADER},
                          dataset=dict(data_root={voc!r}, pipeline=test_pipeline))
    test_dataloader = val_dataloader
    '''
    custom_imports = f'''
    custom_imports = dict(imports=['mmseg_fcn_classic'], allow_failed_imports=False)
    default_scope = 'mmseg'
    model = dict(
        type='EncoderDecoder',
        data_preprocessor=dict(type='FCNDataPreProcessor', weights='caffe',
                               size_divisor=1),
        backbone=dict(type='VGG16FC', widths={NARROW["widths"]},
                      fc_channels={NARROW["fc_channels"]}),
        decode_head=dict(type='ClassicFCNHead', num_classes=2, **{HEAD!r}),
        test_cfg=dict(mode='whole'))
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadFCNAnnotations'),
        dict(type='PackSegInputs'),
    ]
    dataset = dict(type='Polyps912Dataset', data_root={polyps!r}, pipeline=pipeline)
    train_dataloader = dict(batch_size=2, {LOADER},
                            sampler=dict(type='InfiniteSampler', shuffle=True),
                            dataset=dict(split='train', **dataset))
    val_dataloader = dict(batch_size=1, {LOADER},
                          sampler=dict(type='DefaultSampler', shuffle=False),
                          dataset=dict(split='valid', **dataset))
    test_dataloader = val_dataloader
    val_evaluator = dict(type='FCNMetric')
    test_evaluator = val_evaluator
    optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3))
    train_cfg = dict(type='IterBasedTrainLoop', max_iters=2, val_interval=2)
    val_cfg = dict(type='ValLoop')
    test_cfg = dict(type='TestLoop')
    default_hooks = dict(
        timer=dict(type='IterTimerHook'),
        logger=dict(type='LoggerHook', interval=1, log_metric_by_epoch=False),
        param_scheduler=dict(type='ParamSchedulerHook'),
        checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=2),
        sampler_seed=dict(type='DistSamplerSeedHook'),
        visualization=dict(type='SegVisualizationHook'))
    visualizer = dict(type='SegLocalVisualizer',
                      vis_backends=[dict(type='LocalVisBackend')], name='visualizer')
    log_processor = dict(by_epoch=False)
    env_cfg = dict(dist_cfg=dict(backend='gloo'))
    randomness = dict(seed=0)
    '''
    return {
        'inherit_bases.py': textwrap.dedent(inherit_bases) + narrow_model + SHORT_RUN,
        'mmseg_bases.py': textwrap.dedent(mmseg_bases) + SHORT_RUN,
        'custom_imports.py': textwrap.dedent(custom_imports),
    }


def build_wheel(dest: str) -> str:
    """Build the wheel from a copy of the sources (the build writes into its tree)."""
    src = osp.join(dest, 'src')
    ignore = shutil.ignore_patterns('__pycache__', '.mim', '*.egg-info')
    os.makedirs(src)
    for name in SOURCES:
        path = osp.join(REPO, name)
        if osp.isdir(path):
            shutil.copytree(path, osp.join(src, name), ignore=ignore)
        else:
            shutil.copy(path, osp.join(src, name))
    run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation',
         '--disable-pip-version-check', '-q', '-w', osp.join(dest, 'dist'), src], dest)
    wheels = glob.glob(osp.join(dest, 'dist', 'mmseg_fcn_classic-*.whl'))
    assert len(wheels) == 1, wheels
    return wheels[0]


def make_venv(dest: str, wheel: str) -> str:
    """A fresh venv that reuses the installed stack and holds only the wheel of ours.

    The project's site-packages joins ``sys.path`` through a plain path line, so its
    ``.pth`` files (the editable install's finder among them) do not run.
    """
    venv = osp.join(dest, 'venv')
    run([sys.executable, '-m', 'venv', '--without-pip', venv], dest)
    python = osp.join(venv, 'bin', 'python')
    site = subprocess.check_output(
        [python, '-c', 'import sysconfig; print(sysconfig.get_path("purelib"))'],
        text=True).strip()
    with open(osp.join(site, '_project_stack.pth'), 'w') as f:
        f.write(sysconfig.get_path('purelib') + '\n')
    run([sys.executable, '-m', 'pip', '--python', python, 'install', '--no-deps',
         '--no-index', '--disable-pip-version-check', '-q', wheel], dest)
    return python


def run(cmd, cwd: str, **env_vars) -> str:
    """Run ``cmd`` in ``cwd`` without PYTHONPATH (unless given); return its output,
    fail with it."""
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    env.update(OMP_NUM_THREADS='1', **env_vars)
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=900)
    assert proc.returncode == 0, f'{cmd} failed:\n{proc.stdout[-6000:]}'
    return proc.stdout


def run_json(python: str, code: str, cwd: str, output: bool = False):
    """Run ``code`` (which sets ``result``) with ``python``; return ``result`` (and
    the output before it, with ``output``)."""
    code = textwrap.dedent(code) + '\nimport json; print("RESULT", json.dumps(result))\n'
    out, _, result = run([python, '-c', code], cwd).rpartition('RESULT ')
    return (json.loads(result), out) if output else json.loads(result)


#: mmengine 0.10.7 resolves each ``package::`` config base with ``is_installed``,
#: which reloads pkg_resources; setuptools 80.9 to 81 warn on every load (mim's
#: commands import it too). Not ours, and the pinned setuptools<80.9 does not show
#: it; a user's own environment may. See docs/plugin.md, "Warnings".
PKG_RESOURCES = 'UserWarning: pkg_resources is deprecated as an API'


def our_warnings(out: str) -> list:
    """The warning lines of ``out`` (:func:`tests.conftest.warning_lines`), but
    pkg_resources' deprecation (:data:`PKG_RESOURCES`) and the source line Python
    prints under it."""
    lines = out.splitlines()
    follows = {i + 1 for i, line in enumerate(lines) if PKG_RESOURCES in line}
    kept = '\n'.join(line for i, line in enumerate(lines)
                     if PKG_RESOURCES not in line and i not in follows)
    return warning_lines(kept)


@pytest.fixture(scope='session')
def installed(tmp_path_factory):
    """(python of the fresh venv, wheel path, user project folder)."""
    assert osp.isfile(osp.join(MMSEG_TOOLS, 'train.py')), \
        f"mmseg's stock tools are missing from {MMSEG_TOOLS}"
    root = str(tmp_path_factory.mktemp('packaging'))
    wheel = build_wheel(root)
    python = make_venv(root, wheel)
    project = osp.join(root, 'project')
    os.makedirs(project)
    make_demo_dataset(osp.join(project, 'data', 'polyps'),
                      counts=dict(train=2, valid=1, test=1), size_range=(40, 48))
    make_voc_sbd_tree(osp.join(project, 'data', 'voc'), sbd=False)
    # data roots relative to the project folder, where every command runs (as a
    # user writes them; mmengine's yapf formatting of the config, three times per
    # runner, takes seconds with mmseg's dataset bases and a long absolute path)
    for name, text in user_configs('data/polyps', 'data/voc/VOCdevkit/VOC2012').items():
        with open(osp.join(project, name), 'w') as f:
            f.write(text)
    return python, wheel, project


def test_wheel_ships_configs_hook_and_metafile(installed):
    _, wheel, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {'mmseg_fcn_classic_scope.pth', '_mmseg_fcn_classic_scope.py',
            'mmseg_fcn_classic/.mim/model-index.yml',
            'mmseg_fcn_classic/.mim/configs/metafile.yaml'} <= names
    shipped = {n.split('.mim/configs/', 1)[1] for n in names if '.mim/configs/' in n}
    in_repo = {osp.relpath(p, osp.join(REPO, 'configs'))
               for p in glob.glob(osp.join(REPO, 'configs', '**', '*.*'), recursive=True)
               if '__pycache__' not in p}
    assert shipped == in_repo
    assert not any(n.startswith(('tests/', 'tools/', 'configs/')) for n in names)
    # mim runs .mim/tools/<tool>.py; mim list and mim's get_installed_path take the
    # first line of top_level.txt as the package folder
    assert {f'mmseg_fcn_classic/.mim/tools/{t}.py' for t in TOOLS + ('infer_onnx',)} \
        <= names
    assert 'mmseg_fcn_classic_onnx.py' in names
    (top_level,) = [n for n in names if n.endswith('.dist-info/top_level.txt')]
    lines = zipfile.ZipFile(wheel).read(top_level).decode().split()
    assert lines[0] == 'mmseg_fcn_classic', lines


def test_start_up_hook_is_cheap_and_the_wheel_is_what_imports(installed):
    python, _, project = installed
    result = run_json(python, '''
        import importlib.util, sys
        import mmengine.config.utils as u
        result = dict(
            scope=u.MODULE2PACKAGE.get('mmseg_fcn_classic'),
            imported=[m for m in ('torch', 'mmseg_fcn_classic') if m in sys.modules],
            files=[importlib.util.find_spec(m).origin
                   for m in ('mmseg_fcn_classic', '_mmseg_fcn_classic_scope')])
        ''', project)
    # the start-up hook registered the scope without importing the plugin or torch
    assert result['scope'] == 'mmseg_fcn_classic.registry'
    assert result['imported'] == []
    venv = osp.dirname(osp.dirname(python))
    assert all(f.startswith(venv + os.sep) for f in result['files']), result


@pytest.mark.parametrize('config', ['inherit_bases.py', 'mmseg_bases.py',
                                    'custom_imports.py'])
def test_stock_mmseg_tools_train_validate_test(installed, config):
    python, _, project = installed
    work_dir = osp.join(project, 'work_dirs', config[:-3])
    out = train_out = run([python, osp.join(MMSEG_TOOLS, 'train.py'), config,
                           '--work-dir', work_dir], project)
    assert 'Iter(val) [' in out and 'mIoU' in out
    ckpt = osp.join(work_dir, 'iter_2.pth')
    assert osp.isfile(ckpt)
    # --out sets output_dir and keep_results on the evaluator (IoUMetric or ours)
    out_dir = osp.join(work_dir, 'preds')
    out = run([python, osp.join(MMSEG_TOOLS, 'test.py'), config, ckpt,
               '--work-dir', work_dir, '--out', out_dir], project)
    metrics = [json.load(open(p)) for p in glob.glob(osp.join(work_dir, '*', '*.json'))]
    assert any('mIoU' in m for m in metrics), out[-3000:]
    assert os.listdir(out_dir) and all(n.endswith('.png') for n in os.listdir(out_dir))
    if config != 'mmseg_bases.py':  # mmseg's IoUMetric warns; ours does not
        assert 'The prefix is not set in metric class FCNMetric' not in out
    if config == 'inherit_bases.py':  # all ours: nothing to warn about
        assert our_warnings(train_out) == our_warnings(out) == []


def test_inferencer_entry_points_and_tools(installed):
    """``MMSegInferencer`` by config path (scope ``mmseg``) and by metafile name or
    alias (scope ``mmseg_fcn_classic``), ``mmseg-fcn-<tool>`` and ``python -m
    mmseg_fcn_classic.tools.<tool>``; none of it prints a warning."""
    python, _, project = installed
    result, out = run_json(python, '''
        import contextlib, io, runpy, sys
        from importlib.metadata import entry_points
        import numpy as np
        import torch
        from mmseg.apis import MMSegInferencer, init_model
        import mmseg_fcn_classic
        from mmseg_fcn_classic.datasets import Polyps912Dataset
        from mmseg_fcn_classic.utils.config import config_path
        sys.stdout.reconfigure(line_buffering=True)
        # the demo model's initial weights, with its classes
        model = init_model(config_path('fcn8s_vgg16_demo.py'), None, device='cpu')
        torch.save(dict(state_dict=model.state_dict(), meta=dict(
            dataset_meta=dict(Polyps912Dataset.METAINFO))), 'demo_init.pth')
        image = np.zeros((24, 32, 3), np.uint8)
        print('@@ MMSegInferencer by config path')
        MMSegInferencer(config_path('fcn8s_vgg16_demo.py'), weights='demo_init.pth',
                        device='cpu')(image, show=False)
        print('@@ MMSegInferencer by name')
        inferencer = MMSegInferencer('fcn8s_vgg16_demo', weights='demo_init.pth',
                                     scope='mmseg_fcn_classic', device='cpu')
        pred = inferencer(image, show=False)['predictions']
        print('@@ python -m mmseg_fcn_classic.tools.test --help')
        sys.argv, usage = ['-m', '--help'], io.StringIO()
        with contextlib.redirect_stdout(usage), contextlib.suppress(SystemExit):
            runpy.run_module('mmseg_fcn_classic.tools.test', run_name='__main__',
                             alter_sys=True)  # what python -m runs
        result = dict(
            models=MMSegInferencer.list_models('mmseg_fcn_classic'),
            package=mmseg_fcn_classic.__file__,
            config=inferencer.cfg.filename,
            backbone=type(inferencer.model.backbone).__name__,
            shape=list(pred.shape),
            scripts=sorted([ep.name, ep.load().__module__]
                           for ep in entry_points(group='console_scripts')
                           if ep.name.startswith('mmseg-fcn-')),
            usage=usage.getvalue())
        ''', project, output=True)
    venv = osp.dirname(osp.dirname(python))
    assert result['package'].startswith(venv + os.sep)
    assert result['config'] == osp.join(osp.dirname(result['package']), '.mim',
                                        'configs', 'fcn8s_vgg16_demo.py')
    # aliases whole, not split into characters
    assert {'fcn8s_vgg16_voc', 'fcn8s', 'fcn8s-atonce', 'fcn8s_vgg16_demo'} <= \
        set(result['models']) and 'f' not in result['models']
    assert (result['backbone'], result['shape']) == ('VGG16FC', [24, 32])
    assert result['scripts'] == sorted(
        [['mmseg-fcn-' + t.replace('_', '-'), 'mmseg_fcn_classic.tools.' + t]
         for t in TOOLS] + [['mmseg-fcn-infer-onnx', 'mmseg_fcn_classic_onnx']])
    assert 'usage: ' in result['usage'] and '--tta' in result['usage']
    # e.g. 'Failed to search registry with scope "mmseg" in the "function" registry'
    assert warning_lines(out) == []
    bindir = osp.dirname(python)
    out = run([osp.join(bindir, 'mmseg-fcn-check-dataset'), 'fcn8s_vgg16_demo',
               '--no-progress', '--cfg-options',
               'train_dataloader.dataset.data_root=data/polyps'], project)
    assert 'OK: the train data has no problems' in out


def _short_demo(polyps: str) -> list:
    """--cfg-options that make the shipped demo config a 2-iteration run on ``polyps``."""
    loaders = [f'{split}_dataloader.{key}' for split in ('train', 'val', 'test')
               for key in ('dataset.data_root', 'num_workers', 'persistent_workers')]
    values = [polyps, '0', 'False'] * 3
    return [f'{k}={v}' for k, v in zip(loaders, values)] + [
        'train_dataloader.batch_size=2', 'train_cfg.max_iters=2',
        'train_cfg.val_interval=2', 'default_hooks.checkpoint.interval=2',
        'default_hooks.logger.interval=1']


def test_mim_and_console_scripts_on_shipped_configs_by_name(installed):
    """mim with our package name, mmseg's browse_dataset.py, and the console
    scripts on the shipped demo config by name (check-dataset: the test above;
    train: mim train runs the same main), each in a fresh process."""
    python, _, project = installed
    bindir = osp.dirname(python)
    mim = osp.join(bindir, 'mim')
    if not osp.isfile(mim):  # the venv sees the project's stack, not its scripts
        mim = osp.join(osp.dirname(sys.executable), 'mim')
    polyps = osp.join(project, 'data', 'polyps')
    short = _short_demo(polyps)
    work = osp.join(project, 'work_dirs', 'mim_demo')
    env = dict(PATH=bindir + os.pathsep + os.environ['PATH'])

    out = run([python, mim, 'list'], project, **env)
    assert 'mmseg-fcn-classic' in out or 'mmseg_fcn_classic' in out, out
    # mim train / test run .mim/tools/{train,test}.py of the installed package
    out = run([python, mim, 'train', 'mmseg_fcn_classic', 'fcn8s_vgg16_demo.py',
               '--work-dir', work, '--cfg-options', *short], project, **env)
    ckpt = osp.join(work, 'iter_2.pth')
    assert osp.isfile(ckpt) and 'Iter(val) [' in out, out[-3000:]
    assert our_warnings(out) == []  # a plain training run of a shipped config
    out = run([python, mim, 'test', 'mmseg_fcn_classic', 'fcn8s_vgg16_demo.py',
               '--checkpoint', ckpt, '--work-dir', work, '--cfg-options', *short],
              project, **env)
    assert 'mIoU' in out, out[-3000:]
    assert our_warnings(out) == []
    out = run([python, mim, 'run', 'mmseg_fcn_classic', 'flops', 'fcn8s_vgg16_demo',
               '--shape', '32', '32'], project, **env)
    assert 'GFLOPs' in out and 'input (1, 3, 32, 32)' in out, out[-3000:]
    assert our_warnings(out) == []
    # mim download writes the config next to the released Caffe model; with the
    # model already there (no network here) it is not fetched again
    dest = osp.join(project, 'mim_download')
    os.makedirs(dest)
    open(osp.join(dest, 'fcn8s-heavy-pascal.caffemodel'), 'wb').close()
    out = run([python, mim, 'download', 'mmseg_fcn_classic', '--config',
               'fcn8s_vgg16_voc', '--dest', dest], project, **env)
    assert osp.isfile(osp.join(dest, 'fcn8s_vgg16_voc.py')), out

    # console scripts, the shipped config by name
    def script(name, *args, **kw):
        return run([osp.join(bindir, 'mmseg-fcn-' + name), *args], project, **kw)

    out = script('test', 'fcn8s_vgg16_demo', ckpt, '--work-dir', work,
                 '--out', osp.join(work, 'preds'), '--cfg-options', *short)
    assert sorted(os.listdir(osp.join(work, 'preds'))) == ['004.png']  # test split
    assert warning_lines(out) == []
    images = osp.join(polyps, 'test', 'images')
    out = script('infer', 'fcn8s_vgg16_demo', ckpt, images, '--out-dir',
                 osp.join(work, 'infer'), '--no-progress')
    assert 'wrote 1 label and overlay PNGs' in out and warning_lines(out) == []
    onnx_file = osp.join(work, 'demo.onnx')
    out = script('export', 'mmseg_fcn_classic::fcn8s_vgg16_demo.py', ckpt, '--dynamic',
                 '--out', onnx_file)
    assert warning_lines(out) == []  # e.g. torch.onnx's 'Skipping torchvision::nms'
    blocker = osp.join(project, 'no_torch')  # importing torch or mmseg fails there
    os.makedirs(blocker, exist_ok=True)
    for name in ('torch', 'mmseg', 'mmengine', 'mmcv'):
        with open(osp.join(blocker, name + '.py'), 'w') as f:
            f.write(f'raise ImportError("{name} is blocked in this test")\n')
    out = script('infer-onnx', onnx_file, images, '--out-dir', osp.join(work, 'onnx'),
                 PYTHONPATH=blocker)
    assert 'wrote 1 label PNGs' in out
    # mmseg's stock browse_dataset.py: the shipped configs' visualizer draws
    run([python, osp.join(MMSEG_TOOLS, 'analysis_tools', 'browse_dataset.py'),
         'inherit_bases.py', '--not-show', '--output-dir', osp.join(work, 'browse')],
        project)
    assert sorted(os.listdir(osp.join(work, 'browse'))) == ['001.bmp', '002.bmp']
